import assert from 'node:assert/strict'
import { createHash } from 'node:crypto'
import { execFile } from 'node:child_process'
import { readFileSync, writeFileSync } from 'node:fs'
import { join as joinPath } from 'node:path'
import bencode from 'bencode'
import WebTorrent from 'webtorrent'
import { broadcast, type Broadcaster } from '../../lib/index.js'
import { CLIENT_OPTS, addr, air, bytes, collect, destroyAll, join, makeClient, tempDir, until, withTimeout } from '../support/clients.js'
import { roundTrip } from '../support/wait.js'

/* eslint-disable @typescript-eslint/no-explicit-any */
const PL = 16384

/** The final torrent's infohash computed independently: SHA-1 of each piece, bencoded v1 info dict. */
function expectedFinal (name: string, data: Buffer, pieceLength = PL): { infoHash: string, pieces: Buffer } {
  const parts: Buffer[] = []
  for (let off = 0; off < data.length; off += pieceLength) parts.push(createHash('sha1').update(data.subarray(off, off + pieceLength)).digest())
  const pieces = Buffer.concat(parts)
  const info = { length: data.length, name: Buffer.from(name), 'piece length': pieceLength, pieces }
  return { infoHash: createHash('sha1').update(bencode.encode(info)).digest('hex'), pieces }
}

async function plainClient (): Promise<any> {
  const c = new WebTorrent(CLIENT_OPTS)
  if (!c.listening) await new Promise((resolve) => c.once('listening', resolve))
  return c
}

/** A WebTorrent client without the plugin downloads `id` from `peer` only; resolves with the bytes. */
async function plainDownload (c: any, id: unknown, peer: any): Promise<{ torrent: any, data: Buffer }> {
  const dir = tempDir()
  const t = c.add(id, { path: dir })
  const connect = (): void => { t.addPeer(addr(peer)) }
  if (t.infoHash) connect(); else t.once('infoHash', connect)
  await withTimeout(new Promise<void>((resolve, reject) => { t.once('done', resolve); t.once('error', reject) }), 60_000, 'plain client download')
  return { torrent: t, data: readFileSync(joinPath(dir, t.name)) }
}

describe('end of broadcast: the stream becomes an ordinary torrent', function () {
  this.timeout(120_000)
  const plain: any[] = []
  afterEach(async () => {
    await Promise.all(plain.splice(0).map((c) => new Promise<void>((resolve) => c.destroy(() => resolve()))))
    await destroyAll()
  })

  async function source (name = 'show.ts'): Promise<{ client: any, bc: Broadcaster }> {
    const client = await makeClient()
    const bc = await broadcast(client, { name, pieceLength: PL })
    return { client, bc }
  }

  it('end() resolves with an ordinary v1 torrent whose infohash and pieces match an independent computation', async () => {
    const { bc } = await source('program.ts')
    const data = bytes(PL * 25 + 1234, 11) // short last piece
    await air(bc, data)
    const fin = await bc.end()
    const exp = expectedFinal('program.ts', data)
    assert.equal(fin.infoHash, exp.infoHash)
    const file = bencode.decode(Buffer.from(fin.torrentFile)) as any
    assert.deepEqual(Object.keys(file.info).sort(), ['length', 'name', 'piece length', 'pieces'])
    assert.ok(Buffer.from(file.info.pieces).equals(exp.pieces))
    assert.equal(file.info.length, data.length)
    assert.ok(fin.magnetURI.startsWith(`magnet:?xt=urn:btih:${exp.infoHash}`))
    assert.deepEqual(bc.live.final, fin)
    assert.equal(bc.live.finalTorrent!.infoHash, exp.infoHash)
    assert.equal(bc.live.finalTorrent!.progress, 1, 'the broadcaster seeds the final torrent from its live storage')
    assert.equal(await bc.end(), fin, 'end() twice returns the same final torrent')
  })

  it('viewers before, during and after the end all finish, expose the final torrent and seed it', async () => {
    const { client, bc } = await source()
    const data = bytes(PL * 60 + 77, 12)
    const early = await makeClient()
    const te = join(early, bc.magnetURI, [client])
    const outEarly = collect(te.live.createReadStream())
    await air(bc, data.subarray(0, PL * 30))
    const mid = await makeClient()
    const tm = join(mid, bc.magnetURI, [client, early], { from: 'start' })
    const outMid = collect(tm.live.createReadStream())
    await air(bc, data.subarray(PL * 30), { pauseMs: 1 })
    const fin = await bc.end()
    const late = await makeClient()
    const tl = join(late, bc.magnetURI, [early]) // only a viewer: learns of the end from it
    const outLate = collect(tl.live.createReadStream())
    for (const [t, out, who] of [[te, outEarly, 'early'], [tm, outMid, 'mid'], [tl, outLate, 'late']] as const) {
      assert.ok((await withTimeout(out, 60_000, who)).equals(data), `${who} viewer bytes`)
      await withTimeout(t.live.whenFinal(), 30_000, `${who} final`)
      assert.deepEqual(t.live.final, fin, `${who} viewer exposes the final torrent`)
      assert.ok(t.live.ended)
      await withTimeout(until(t.live.finalTorrent, 'verified', () => t.live.finalTorrent.progress === 1), 30_000, `${who} final complete`)
    }
  })

  it('a plain WebTorrent client (no plugin) downloads the final torrent from a viewer, by magnet and by .torrent', async () => {
    const { client, bc } = await source('talk.mp4')
    const data = bytes(PL * 40 + 5, 13)
    const v = await makeClient()
    const tv = join(v, bc.magnetURI, [client])
    const out = collect(tv.live.createReadStream())
    await air(bc, data, { pauseMs: 1 })
    const fin = await bc.end()
    assert.ok((await withTimeout(out, 60_000, 'viewer')).equals(data))
    await withTimeout(tv.live.whenFinal(), 30_000, 'viewer serves final')
    // The broadcaster leaves: the final torrent now lives only in the viewer.
    await new Promise<void>((resolve) => client.destroy(() => resolve()))
    const p1 = await plainClient(); plain.push(p1)
    const byMagnet = await plainDownload(p1, fin.magnetURI, v) // metadata through ut_metadata
    assert.equal(byMagnet.torrent.infoHash, fin.infoHash)
    assert.ok(byMagnet.data.equals(data), 'plain client by magnet: exactly the broadcast bytes')
    const p2 = await plainClient(); plain.push(p2)
    const byFile = await plainDownload(p2, Buffer.from(tv.live.final.torrentFile), v)
    assert.ok(byFile.data.equals(data), 'plain client by .torrent: exactly the broadcast bytes')
  })

  it('libtorrent-rasterbar (a client that never heard of ut_live) downloads the final torrent from a viewer', async () => { // python3-libtorrent: installed by .ci/run
    const PY = '/usr/bin/python3'
    const fixture = joinPath(process.cwd(), 'test', 'fixtures', 'libtorrent-fetch.py')
    const { client, bc } = await source('concert.ts')
    const data = bytes(PL * 33 + 4321, 19)
    const v = await makeClient()
    const tv = join(v, bc.magnetURI, [client])
    const out = collect(tv.live.createReadStream())
    await air(bc, data, { pauseMs: 1 })
    await bc.end()
    assert.ok((await withTimeout(out, 60_000, 'viewer')).equals(data))
    await withTimeout(tv.live.whenFinal(), 30_000, 'viewer serves final')
    await new Promise<void>((resolve) => client.destroy(() => resolve())) // only the viewer is left
    const dir = tempDir()
    const file = joinPath(dir, 'final.torrent')
    writeFileSync(file, tv.live.final.torrentFile)
    const res = await new Promise<any>((resolve, reject) => {
      execFile(PY, [fixture, file, joinPath(dir, 'dl'), addr(v), '60'], { timeout: 90_000 }, (err, stdout, stderr) => {
        if (err) reject(new Error(`libtorrent-fetch failed: ${err.message}\n${stdout}\n${stderr}`)); else resolve(JSON.parse(stdout.trim().split('\n').pop()!))
      })
    })
    assert.equal(res.ok, true)
    assert.equal(res.infoHash, tv.live.final.infoHash)
    assert.ok(readFileSync(joinPath(dir, 'dl', 'concert.ts')).equals(data), 'libtorrent wrote exactly the broadcast bytes')
  })

  it('a viewer that only knows the final magnet, with the plugin on, gets it as an ordinary torrent', async () => {
    const { client, bc } = await source()
    const data = bytes(PL * 10, 14) // ends on a piece boundary: no short last piece
    await air(bc, data)
    const fin = await bc.end()
    const c = await makeClient()
    const dir = tempDir()
    const t = c.add(fin.magnetURI, { path: dir })
    t.once('infoHash', () => t.addPeer(addr(client)))
    await withTimeout(new Promise((resolve) => t.once('done', resolve)), 30_000, 'final magnet download')
    assert.equal(t.live, undefined, 'not a live torrent')
    assert.ok(readFileSync(joinPath(dir, t.name)).equals(data))
  })

  it('a from: live viewer fetches no old hashes while live, then all of them after the end to serve the final torrent', async () => {
    const { client, bc } = await source()
    const data = bytes(PL * 180 + 9, 15) // more pieces before the join than a head's tail carries (64)
    await air(bc, data.subarray(0, PL * 150), { chunk: 1 << 20 })
    const v = await makeClient()
    const t = join(v, bc.magnetURI, [client], { from: 'live' })
    const out = collect(t.live.createReadStream())
    await withTimeout(new Promise((resolve) => t.live.once('head', resolve)), 10_000, 'first head')
    const start = t.live.startPiece as number
    await air(bc, data.subarray(PL * 150, PL * 180))
    await withTimeout(until(t.live, 'head', () => t.live.count === 180), 10_000, 'edge')
    assert.equal(t.live.stats.pagesReceived, 0, 'no old hashes while live')
    await bc.write(data.subarray(PL * 180))
    const fin = await bc.end()
    assert.ok((await withTimeout(out, 30_000, 'suffix')).equals(data.subarray(start * PL)))
    await withTimeout(t.live.whenFinal(), 30_000, 'final')
    assert.equal(t.live.final.infoHash, fin.infoHash)
    assert.ok(t.live.stats.pagesReceived >= 1, 'old hashes fetched after the end')
    assert.ok(!t.live.has(0), 'did not download the old pieces')
    assert.ok(t.live.finalTorrent.bitfield.get(179), 'serves the pieces it has on the final infohash')
    assert.ok(!t.live.finalTorrent.bitfield.get(0))
  })

  it('a from: live viewer reads the whole recording from the first byte after the end (the pieces before its start are fetched then)', async () => {
    const { client, bc } = await source()
    const data = bytes(PL * 40 + 5, 17)
    await air(bc, data.subarray(0, PL * 20))
    const v = await makeClient()
    const t = join(v, bc.magnetURI, [client], { from: 'live' })
    const out = collect(t.live.createReadStream())
    await withTimeout(new Promise((resolve) => t.live.once('head', resolve)), 10_000, 'first head')
    const start = t.live.startPiece as number
    assert.ok(start > 0)
    await air(bc, data.subarray(PL * 20))
    await bc.end()
    assert.ok((await withTimeout(out, 30_000, 'suffix')).equals(data.subarray(start * PL)))
    assert.ok(!t.live.has(0), 'nothing before its start yet')
    // The page's "replay from the start": once the final torrent names every piece, select them all
    // and read from piece 0. WebTorrent's scheduler must not skip the wires that hold those pieces
    // (P12 once read a cursor that had moved past them).
    await withTimeout(t.live.whenFinal(), 30_000, 'final')
    t.select(0, t.live.count - 1)
    const all = await withTimeout(collect(t.live.createReadStream({ startPiece: 0 })), 30_000, 'the whole recording')
    assert.ok(all.equals(data))
  })

  it('an end arriving while a viewer is mid catch-up: it finishes and its stream ends cleanly', async () => {
    const { client, bc } = await source()
    const data = bytes(PL * 1500 + 3, 16)
    await air(bc, data.subarray(0, PL * 1500), { chunk: 1 << 20 })
    const v = await makeClient()
    const t = join(v, bc.magnetURI, [client])
    const out = collect(t.live.createReadStream())
    await withTimeout(new Promise((resolve) => t.live.once('head', resolve)), 10_000, 'first head')
    let missingAtEnd = -1
    t.live.once('ended', () => { missingAtEnd = 0; for (let i = 0; i < t.live.count; i++) if (!t.live.has(i)) missingAtEnd++ })
    await bc.write(data.subarray(PL * 1500))
    await bc.end()
    assert.ok((await withTimeout(out, 60_000, 'catching-up viewer')).equals(data))
    assert.ok(missingAtEnd > 0, `the end arrived mid catch-up (${missingAtEnd} pieces missing then)`)
    await withTimeout(t.live.whenFinal(), 30_000, 'final')
  })

  it('a stream that ends with zero bytes', async () => {
    const { client, bc } = await source('empty.bin')
    const fin = await bc.end()
    assert.equal(fin.infoHash, expectedFinal('empty.bin', Buffer.alloc(0)).infoHash)
    const v = await makeClient()
    const t = join(v, bc.magnetURI, [client])
    const got = await withTimeout(collect(t.live.createReadStream()), 20_000, 'empty stream')
    assert.equal(got.length, 0)
    await withTimeout(t.live.whenFinal(), 20_000, 'final')
    assert.equal(t.live.final.infoHash, fin.infoHash)
  })

  it('an end forwarded by many peers, and received twice, is applied once with one signature check', async () => {
    const { client, bc } = await source()
    const vs = [await makeClient(), await makeClient(), await makeClient()]
    const ts = vs.map((c, k) => join(c, bc.magnetURI, [client, ...vs.slice(0, k)]))
    const outs = ts.map((t) => collect(t.live.createReadStream()))
    const data = bytes(PL * 20 + 1, 17)
    await air(bc, data, { pauseMs: 1 })
    const ends = ts.map(() => 0)
    const finals = ts.map(() => 0)
    ts.forEach((t, k) => { t.live.on('ended', () => { ends[k]!++ }); t.live.on('final', () => { finals[k]!++ }) })
    const checksBefore = ts.map((t) => t.live.signatureChecks)
    await bc.end()
    for (const o of outs) assert.ok((await withTimeout(o, 30_000, 'viewer')).equals(data))
    await Promise.all(ts.map((t) => withTimeout(t.live.whenFinal(), 30_000, 'final')))
    // Replay the end to every viewer from the broadcaster once more: stale, no signature work.
    for (const t of ts) assert.ok(['duplicate', 'stale'].includes((await t.live.state.acceptHead(bc.live.head, null)).status))
    // Barrier: a round trip on every wire of every viewer (whatever a peer forwarded before it
    // answered is here), then each viewer's head queue drained: every copy of the end was handled.
    assert.ok(ts.every((t) => t.wires.some((w: { peerExtendedMapping: Record<string, number> }) => w.peerExtendedMapping.ut_metadata)), 'every viewer has a wire to round-trip on')
    await Promise.all(ts.flatMap((t) => t.wires.map((w: Parameters<typeof roundTrip>[0]) => roundTrip(w))))
    await Promise.all(ts.map((t) => withTimeout(t.live.idle(), 10_000, 'head queue drained')))
    assert.deepEqual(ends, [1, 1, 1], "'ended' once per viewer")
    assert.deepEqual(finals, [1, 1, 1], "'final' once per viewer")
    ts.forEach((t, k) => assert.equal(t.live.signatureChecks - checksBefore[k]!, 1, 'one signature check for the end'))
  })
})
