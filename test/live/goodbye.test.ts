/** The broadcaster's goodbye: after the end it can wait until every piece has reached another peer. */
import assert from 'node:assert/strict'
import { readFileSync, writeFileSync } from 'node:fs'
import { join as joinPath } from 'node:path'
import { broadcast } from '../../lib/index.js'
import { addr, air, bytes, collect, destroyAll, join, makeClient, once, tempDir, until, withTimeout } from '../support/clients.js'


const PL = 16384

describe("the broadcaster's goodbye (whenReplicated)", function () {
  this.timeout(90_000)
  afterEach(destroyAll)

  it('resolves complete once a viewer holds every piece; the broadcaster leaves and the viewer still finishes byte-identical', async () => {
    const source = await makeClient()
    const bc = await broadcast(source, { name: 'show.bin', pieceLength: PL, path: tempDir() })
    const v = await makeClient()
    const t = join(v, bc.magnetURI, [source])
    const out = collect(t.live.createReadStream())
    const data = bytes(PL * 60 + 1234, 11)
    await air(bc, data)
    const progress: number[] = []
    bc.live.on('replication', (r: { missing: number }) => progress.push(r.missing))
    await bc.end()
    const r = await bc.whenReplicated({ timeout: 60_000 })
    assert.deepEqual(r, { complete: true, missing: 0 })
    assert.equal(bc.piecesOnlyHere, 0)
    assert.ok(progress.length > 0 && progress[progress.length - 1] === 0, JSON.stringify(progress))
    await new Promise<void>((resolve) => source.destroy(() => resolve())) // the broadcaster is gone
    assert.ok((await withTimeout(out, 30_000, 'viewer output after the broadcaster left')).equals(data))
  })

  it('a window-only broadcaster (window, archive: false) waits for the window only: what every peer drops is not missing', async () => {
    const source = await makeClient()
    const W = 8
    const bc = await broadcast(source, { name: 'endless.bin', pieceLength: 1024, path: tempDir(), window: W, archive: false })
    const v = await makeClient()
    const t = join(v, bc.magnetURI, [source], { from: 'start' })
    const data = bytes(1024 * 200 + 7, 19)
    await air(bc, data, { chunk: 3000, pauseMs: 2 })
    await bc.end()
    const r = await bc.whenReplicated({ timeout: 60_000 })
    assert.deepEqual(r, { complete: true, missing: 0 })
    assert.ok(t.live.window.floor > 0, 'the viewer dropped what left the window')
    for (let i = 201 - W; i < 201; i++) assert.equal(t.live.has(i), true, `the viewer holds piece ${i} of the window`)
  })

  it('with nobody to take the pieces, gives up after the timeout and says how many exist only here', async () => {
    const source = await makeClient()
    const bc = await broadcast(source, { name: 'alone.bin', pieceLength: PL, path: tempDir() })
    await air(bc, bytes(PL * 5 + 10, 3))
    await bc.end()
    const r = await bc.whenReplicated({ timeout: 200 })
    assert.deepEqual(r, { complete: false, missing: 6 })
  })

  it('while a peer is connected, a piece counts only if a connected peer holds it: one that took it and left does not', async () => {
    const source = await makeClient()
    const bc = await broadcast(source, { name: 'gone.bin', pieceLength: PL, path: tempDir() })
    const viewer = await makeClient()
    const t = join(viewer, bc.magnetURI, [source])
    const out = collect(t.live.createReadStream())
    const data = bytes(PL * 8 + 99, 4)
    await air(bc, data)
    const fin = await bc.end()
    assert.deepEqual(await bc.whenReplicated({ timeout: 60_000 }), { complete: true, missing: 0 })
    assert.ok((await withTimeout(out, 30_000, 'viewer output')).equals(data))
    // A second peer, connected but holding nothing (a plain client of the final torrent, nothing selected).
    const late = await makeClient(false)
    const dir = tempDir()
    const t2 = late.add(fin.torrentFile, { path: dir, deselect: true })
    if (!t2.infoHash) await new Promise((resolve) => t2.once('infoHash', resolve))
    t2.addPeer(addr(source))
    viewer.destroy() // the only holder leaves
    await withTimeout(until(bc.live, 'replication', () => bc.piecesOnlyHere === 9), 30_000, 'the pieces exist only here again')
    assert.deepEqual(await bc.whenReplicated({ timeout: 50 }), { complete: false, missing: 9 })
    // It takes them: the goodbye is complete again, and it has every byte.
    t2.select(0, t2.pieces.length - 1, 0)
    assert.deepEqual(await bc.whenReplicated({ timeout: 60_000 }), { complete: true, missing: 0 })
    if (!t2.done) await withTimeout(new Promise<void>((resolve) => t2.once('done', resolve)), 30_000, 'late peer done')
    assert.ok(readFileSync(joinPath(dir, t2.name as string)).equals(data))
    // Nobody connected: a piece counts once it reached someone (nobody is here to strand).
    const wires = [...bc.torrent.wires, ...(bc.live.finalTorrent?.wires ?? [])]
    assert.ok(wires.length > 0)
    await new Promise<void>((resolve) => late.destroy(() => resolve()))
    await withTimeout(Promise.all(wires.map((w) => w.destroyed ? null : once(w, 'close'))), 30_000, "the broadcaster's wires closed")
    assert.deepEqual(await bc.whenReplicated({ timeout: 50 }), { complete: true, missing: 0 })
  })

  it('a plugin-less client downloading the final infohash counts', async () => {
    const source = await makeClient()
    const bc = await broadcast(source, { name: 'final.bin', pieceLength: PL, path: tempDir() })
    const data = bytes(PL * 12 + 7, 9)
    await air(bc, data)
    const fin = await bc.end()
    assert.equal(bc.piecesOnlyHere, 13, 'nobody has any piece yet')
    const plain = await makeClient(false)
    const dir = tempDir()
    const t = plain.add(fin.torrentFile, { path: dir })
    if (!t.infoHash) await new Promise((resolve) => t.once('infoHash', resolve))
    t.addPeer(addr(source))
    const r = await bc.whenReplicated({ timeout: 60_000 })
    assert.deepEqual(r, { complete: true, missing: 0 })
    if (!t.done) await withTimeout(new Promise<void>((resolve) => t.once('done', resolve)), 30_000, 'plain client done')
    assert.ok(readFileSync(joinPath(dir, t.name as string)).equals(data), 'the plain client has every byte')
  })

  it('HAVE_ALL counts: a complete seed of the final torrent joining later holds every piece', async () => {
    const source = await makeClient()
    const bc = await broadcast(source, { name: 'seed.bin', pieceLength: PL, path: tempDir() })
    const data = bytes(PL * 6 + 1, 2)
    await air(bc, data)
    const fin = await bc.end()
    // A plain client already holding the bytes (seeding from its own folder) sends HAVE_ALL (fast extension).
    const dir = tempDir()
    writeFileSync(joinPath(dir, 'seed.bin'), data)
    const seed = await makeClient(false)
    const t = seed.add(fin.torrentFile, { path: dir })
    await withTimeout(new Promise<void>((resolve) => t.once('ready', resolve)), 30_000, 'seed ready')
    assert.ok(t.done, 'the seed verified the bytes from its folder')
    t.addPeer(addr(source))
    assert.deepEqual(await bc.whenReplicated({ timeout: 60_000 }), { complete: true, missing: 0 })
  })
})
