/**
 * Crashes: a viewer killed with SIGKILL and restarted on its store resumes without downloading
 * again what it had verified; a viewer whose disk is full says why and corrupts nothing, and the
 * rest of the swarm is unaffected. (The broadcaster's SIGKILL and restart from --state is in
 * test/cli/resume.test.ts.)
 */
import assert from 'node:assert/strict'
import { mkdirSync, readFileSync, symlinkSync } from 'node:fs'
import { join as joinPath } from 'node:path'
import { broadcast } from '../../lib/index.js'
import { addr, air, bytes, collect, destroyAll, join, makeClient, tempDir, withTimeout } from '../support/clients.js'
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
})
