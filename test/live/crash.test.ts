/**
 * Crashes: a viewer killed with SIGKILL and restarted on its store resumes without downloading
 * again what it had verified; a viewer whose disk is full says why and corrupts nothing, and the
 * rest of the swarm is unaffected; a broadcaster resumed on a store with a damaged piece never
 * serves it; a broadcaster whose head cannot be made durable never lets it out, publishes nothing
 * more, and resumes on its state without equivocating. (The broadcaster's SIGKILL and restart from --state is in test/cli/resume.test.ts.)
 */
import assert from 'node:assert/strict'
import { mkdirSync, openSync, readFileSync, readdirSync, statSync, symlinkSync, unlinkSync, writeSync, closeSync } from 'node:fs'
import { join as joinPath } from 'node:path'
import { broadcast } from '../../lib/index.js'
import { addr, air, bytes, collect, destroyAll, join, makeClient, once, poll, sleep, tempDir, withTimeout } from '../support/clients.js'
import { Viewer } from '../support/viewer.js'

/* eslint-disable @typescript-eslint/no-explicit-any */
const PL = 16384

describe('crashes', function () {
  this.timeout(120_000)
  let viewers: Viewer[] = []
  afterEach(async () => {
    await Promise.all(viewers.map((v) => v.kill()))
    viewers = []
    await destroyAll()
  })

  it('a viewer killed with SIGKILL and restarted on its store resumes without downloading its verified pieces again', async () => {
    const dir = tempDir()
    const store = joinPath(dir, 'store')
    mkdirSync(store)
    const client = await makeClient()
    const bc = await broadcast(client, { name: 'resume.bin', pieceLength: PL })
    const data = bytes(PL * 240 + 99, 31)
    const v1 = new Viewer('v1', { magnet: bc.magnetURI, peers: [addr(client)], store }, dir)
    viewers.push(v1)
    await v1.event('listening', 20_000)
    const airing = air(bc, data.subarray(0, PL * 160), { pauseMs: 15, chunk: 40_000 })
    const at = await v1.until('progress', (e) => (e.have as number) >= 75, 60_000)
    v1.proc.kill('SIGKILL')
    await v1.exited
    const hadBeforeKill = at.have as number
    await airing
    const v2 = new Viewer('v2', { magnet: bc.magnetURI, peers: [addr(client)], store }, dir)
    viewers.push(v2)
    await v2.event('listening', 20_000)
    await air(bc, data.subarray(PL * 160), { pauseMs: 2 })
    await bc.end()
    const done = await v2.event('done', 60_000)
    assert.ok(readFileSync(v2.out).equals(data), 'the restarted viewer\'s output is exactly the broadcast')
    const pieces = Math.ceil(data.length / PL)
    assert.ok((done.adopted as number) >= hadBeforeKill, `adopted ${String(done.adopted)} verified pieces from its store (had ≥ ${hadBeforeKill} before the kill)`)
    assert.equal((done.adopted as number) + (done.downloaded as number), pieces, 'every piece either adopted or downloaded, once')
    assert.ok((done.downloaded as number) <= pieces - hadBeforeKill)
  })

  it('a viewer whose disk is full (writes fail with ENOSPC) stops with a clear error and no corrupt bytes; the swarm goes on', async () => {
    const client = await makeClient()
    const bc = await broadcast(client, { name: 'full.bin', pieceLength: PL })
    const full = await makeClient()
    const path = tempDir()
    mkdirSync(joinPath(path, bc.infoHash)) // the store's file is <path>/<infoHash>/<name>: make it /dev/full,
    symlinkSync('/dev/full', joinPath(path, bc.infoHash, 'full.bin')) // where every write fails with ENOSPC
    const tf = full.add(bc.magnetURI, { live: true, path })
    tf.once('infoHash', () => tf.addPeer(addr(client)))
    const errors: any[] = []
    tf.live.on('error', (e: any) => errors.push(e))
    full.on('error', () => {}) // WebTorrent reports the torrent's store error on the client too
    const got: Buffer[] = []
    const reading = (async () => { for await (const c of tf.live.createReadStream()) got.push(Buffer.from(c)) })()
    reading.catch(() => {}) // asserted below
    const ok = await makeClient()
    const data = bytes(PL * 60 + 5, 32)
    const healthy = join(ok, bc.magnetURI, [client, full])
    const out = collect(healthy.live.createReadStream())
    await air(bc, data, { pauseMs: 2 })
    await bc.end()
    assert.ok((await withTimeout(out, 60_000, 'healthy viewer')).equals(data), 'the healthy viewer gets every byte')
    await assert.rejects(withTimeout(reading, 30_000, 'broken viewer reader'), (e: any) => e.code === 'STORE_FAILED' && /ENOSPC|no space/i.test(e.message))
    const delivered = Buffer.concat(got)
    assert.ok(data.subarray(0, delivered.length).equals(delivered), 'what the broken viewer delivered is a prefix of the broadcast')
    assert.equal(errors[0]?.code, 'STORE_FAILED')
  })

  it('a broadcaster resumed on a state whose stored piece was damaged on disk never serves it: it warns, REJECTs it, and a viewer gets it from a peer that holds it', async () => {
    const state = joinPath(tempDir(), 'state')
    const c1 = await makeClient()
    const bc1 = await broadcast(c1, { name: 'damaged.bin', pieceLength: PL, state })
    const data = bytes(PL * 40, 33) // whole pieces: all published before the end
    const pieces = Math.ceil(data.length / PL)
    const holderClient = await makeClient()
    const holder = join(holderClient, bc1.magnetURI, [c1], { from: 'start' })
    await air(bc1, data, { pauseMs: 2 })
    await poll(() => holder.live?.count === pieces && Array.from({ length: pieces }, (_, i) => holder.bitfield.get(i)).every(Boolean), 60_000, 'the holder has every piece')
    // The broadcaster stops (its state kept) and a bad sector hits piece 13 of its stored bytes.
    bc1.close()
    await new Promise<void>((resolve) => c1.destroy(() => resolve()))
    const file = findFile(state, 'damaged.bin')
    const fd = openSync(file, 'r+')
    writeSync(fd, Buffer.alloc(100, 0xee), 0, 100, 13 * PL + 500)
    closeSync(fd)
    const c2 = await makeClient()
    const bc2 = await broadcast(c2, { name: 'damaged.bin', state })
    assert.equal(bc2.resumedLength, data.length)
    const warned = once<any>(bc2.live, 'warning')
    // A viewer that can reach only the broadcaster (the holder is connected to no one now) asks it
    // for piece 13, and is refused, not fed bad bytes.
    const vc = await makeClient()
    const viewer = join(vc, bc2.magnetURI, [c2], { from: 'start' })
    const out = collect(viewer.live.createReadStream())
    const w = await withTimeout(warned, 60_000, 'DAMAGED_PIECE warning')
    assert.equal(w.code, 'DAMAGED_PIECE')
    assert.match(w.message, /piece 13 /)
    assert.equal(bc2.live.stats.damagedPieces, 1)
    viewer.addPeer(addr(holderClient))
    await bc2.end()
    assert.ok((await withTimeout(out, 60_000, 'viewer read')).equals(data), 'the viewer\'s bytes are exactly the broadcast (piece 13 from the holder)')
    assert.equal(viewer.live.stats.corruptPieces, 0, 'no corrupt piece reached the viewer')
    assert.equal(viewer.live.stats.bannedPeers, 0, 'the viewer banned no one')
  })

  it('a head whose write fails (disk full) is never sent: nothing more is published (BROADCAST_FAILED), and resumed on its state the broadcaster re-airs those piece numbers without equivocating', async () => {
    const state = joinPath(tempDir(), 'state')
    const c1 = await makeClient()
    const bc1 = await broadcast(c1, { name: 'headfail.bin', pieceLength: PL, state })
    const first = bytes(PL * 3, 41)
    await air(bc1, first)
    // The disk fails the next head: the file it is written to before its rename is /dev/full.
    const headFile = findFile(state, 'head')
    symlinkSync('/dev/full', `${headFile}.tmp`)
    await assert.rejects(bc1.write(bytes(PL, 42)), /ENOSPC|no space/i)
    await assert.rejects(bc1.write(bytes(PL, 43)), (e: any) => e.code === 'BROADCAST_FAILED')
    await assert.rejects(bc1.end(), (e: any) => e.code === 'BROADCAST_FAILED')
    assert.equal(bc1.length, PL * 3)
    // A viewer that joins now is sent the last durable head (3 pieces), not the one that failed.
    const vc = await makeClient()
    const v = join(vc, bc1.magnetURI, [c1], { from: 'start' })
    await poll(() => v.live?.count >= 3 && [0, 1, 2].every((i) => v.live.has(i)), 30_000, 'the viewer has the 3 durable pieces')
    await sleep(1500) // time for relay timers or page answers to send anything newer
    assert.equal(v.live.count, 3, 'the head that failed to persist never left the broadcaster')
    // The disk is mended and the broadcaster restarted on its state: new bytes from piece 3 on.
    bc1.close()
    await new Promise<void>((resolve) => c1.destroy(() => resolve()))
    unlinkSync(`${headFile}.tmp`)
    const c2 = await makeClient()
    const bc2 = await broadcast(c2, { name: 'headfail.bin', state })
    assert.equal(bc2.resumedLength, PL * 3)
    const out = collect(v.live.createReadStream())
    v.addPeer(addr(c2))
    const rest = bytes(PL * 5 + 9, 44)
    await air(bc2, rest)
    await bc2.end()
    const got = await withTimeout(out, 60_000, 'viewer read')
    assert.ok(got.equals(Buffer.concat([first, rest])), 'the viewer\'s bytes are the durable history and what followed')
    assert.equal(v.live.stats.bannedPeers, 0, 'no equivocation, no ban')
  })

  it('a resume that fails (the newest stored piece torn) leaves no torrent in the client: a second broadcast() says the same, not "duplicate torrent"', async () => {
    const state = joinPath(tempDir(), 'state')
    const c1 = await makeClient()
    const bc1 = await broadcast(c1, { name: 'torn.bin', pieceLength: PL, state })
    await air(bc1, bytes(PL * 4, 45))
    bc1.close()
    await new Promise<void>((resolve) => c1.destroy(() => resolve()))
    const fd = openSync(findFile(state, 'torn.bin'), 'r+')
    writeSync(fd, Buffer.alloc(10, 0xee), 0, 10, 3 * PL + 10)
    closeSync(fd)
    const c2 = await makeClient()
    await assert.rejects(broadcast(c2, { name: 'torn.bin', state }), (e: any) => e.code === 'BAD_STATE' && /piece 3 /.test(e.message))
    assert.equal(c2.torrents.length, 0, 'the torrent was removed from the client')
    await assert.rejects(broadcast(c2, { name: 'torn.bin', state }), (e: any) => e.code === 'BAD_STATE')
  })
})

/** The file called `name` somewhere under `dir`. */
function findFile (dir: string, name: string): string {
  for (const e of readdirSync(dir)) {
    const p = joinPath(dir, e)
    if (statSync(p).isDirectory()) { try { return findFile(p, name) } catch {} } else if (e === name) return p
  }
  throw new Error(`${name} not found under ${dir}`)
}
