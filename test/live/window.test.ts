import assert from 'node:assert/strict'
import { createHash } from 'node:crypto'
import { readdirSync, readFileSync, statSync } from 'node:fs'
import { join as joinPath } from 'node:path'
import WebTorrent from 'webtorrent'
import { broadcast, finalTorrent, LiveError } from '../../lib/index.js'
import { windowPieces, windowSlack } from '../../lib/live/window.js'
import { segmentPieces } from '../../lib/store/file-store.js'
import { CLIENT_OPTS, addr, air, bytes, collect, destroyAll, join, makeClient, poll, tempDir, withTimeout } from '../support/clients.js'

/* eslint-disable @typescript-eslint/no-explicit-any */
const PL = 1024
const WINDOW = 32
const KEEP = WINDOW + windowSlack(WINDOW) // pieces a window-only peer may still hold

/** Resolves once `t` holds every piece in [from, count). */
/** Bytes in a window-only viewer's segment files, and how many there are. */
function onDisk (t: any): { bytes: number, files: number } {
  const dir = joinPath(t.path, t.infoHash, `${t.name as string}.segments`)
  const fs = readdirSync(dir)
  return { bytes: fs.reduce((n, f) => n + statSync(joinPath(dir, f)).size, 0), files: fs.length }
}
const DISK_BOUND = (KEEP + segmentPieces(WINDOW)) * PL

function whenHas (t: any, count: number, what: string, from = Math.max(0, count - WINDOW)): Promise<void> {
  const all = (): boolean => { for (let i = from; i < count; i++) if (!t.live.has(i)) return false; return t.live.count >= count }
  return withTimeout((async () => { while (!all()) await t.live.changed() })(), 60_000, what)
}

describe('sliding window (endless streams)', function () {
  this.timeout(120_000)
  const plain: any[] = []
  afterEach(async () => {
    await Promise.all(plain.splice(0).map((c) => new Promise<void>((resolve) => c.destroy(() => resolve()))))
    await destroyAll()
  })

  it('windowPieces: pieces, bytes and durations (with a rate)', () => {
    assert.equal(windowPieces(32, PL), 32)
    assert.equal(windowPieces('512k', 16384), 32)
    assert.equal(windowPieces('1M', 1000 * 1024), 2) // ceil
    assert.equal(windowPieces('90s', 16384, 16384), 90)
    for (const bad of [0, 1.5, -3, '90x', '', 'k']) assert.throws(() => windowPieces(bad, PL), LiveError, String(bad))
    assert.throws(() => windowPieces('90s', PL), /needs a rate/)
  })

  it('a window-only viewer drops what left the window, and relays the window to a late joiner that starts at its start', async () => {
    const c0 = await makeClient()
    const bc = await broadcast(c0, { name: 'endless.bin', pieceLength: PL, window: WINDOW, archive: false })
    assert.equal(bc.live.info?.window, WINDOW)
    const cA = await makeClient()
    const tA = join(cA, bc.magnetURI, [c0], { from: 'start' })
    const data = bytes(PL * 400, 5)
    await air(bc, data.subarray(0, PL * 300), { chunk: 4000 })
    await whenHas(tA, 300, 'A reaches piece 300')
    assert.ok(tA.live.window.windowOnly)
    await poll(() => tA.live.window.floor >= 300 - KEEP, 30_000, 'A drops below the window')
    for (let i = 0; i < 300 - KEEP; i++) assert.equal(tA.live.has(i), false, `A dropped piece ${i}`)
    for (let i = 300 - WINDOW; i < 300; i++) assert.equal(tA.live.has(i), true, `A holds piece ${i}`)
    assert.equal(tA.live.state.log.range(0, 1), null, 'A forgot the old hashes')
    assert.ok(bc.live.window.floor > 0, 'the broadcaster (archive: false) dropped too')
    const disk = onDisk(tA)
    assert.ok(disk.bytes <= DISK_BOUND, `A's store on disk: ${disk.bytes} bytes in ${disk.files} segments ≤ ${DISK_BOUND}`)
    assert.ok(disk.bytes >= WINDOW * PL, 'and it holds the window')

    // B joins through A only: from 'start' is the window's start at its first head.
    const cB = await makeClient()
    const tB = join(cB, bc.magnetURI, [cA], { from: 'start' })
    await withTimeout((async () => { while (tB.live.startPiece === null) await tB.live.changed() })(), 30_000, 'B starts')
    const startB = tB.live.startPiece as number
    assert.ok(startB >= 300 - WINDOW && startB > 0, `B starts in the window (${startB})`)
    const readB = collect(tB.live.createReadStream())
    await poll(() => tB.wires.length > 0, 30_000, 'B meets A')
    let donthaves = 0
    for (const w of tB.wires) w.lt_donthave.on('donthave', () => { donthaves++ })
    await whenHas(tB, 300, 'B catches up', startB)
    await air(bc, data.subarray(PL * 300), { chunk: 2000, pauseMs: 5 }) // a stream, not a burst: B keeps up
    // The broadcaster (archive: false) keeps the window too: its hash log forgot, its disk is bounded…
    assert.equal(bc.live.state!.log.range(0, 1), null, 'the broadcaster forgot the old hashes (spilled to a file)')
    assert.ok(onDisk(bc.torrent).bytes <= DISK_BOUND, `the broadcaster's store on disk: ${onDisk(bc.torrent).bytes} ≤ ${DISK_BOUND}`)
    // …and its END still names the final torrent over the whole stream, from the spilled hashes.
    const fin = await bc.end()
    const pieceHashes = Buffer.concat(Array.from({ length: 400 }, (_, i) => createHash('sha1').update(data.subarray(i * PL, (i + 1) * PL)).digest()))
    assert.equal(fin.infoHash, finalTorrent('endless.bin', PL, data.length, pieceHashes).infoHash, 'the final infohash over all 400 pieces')
    const got = await withTimeout(readB, 60_000, 'B reads to the end')
    assert.ok(got.equals(data.subarray(startB * PL)), 'B has exactly the broadcast from its start on')
    // BEP 54: as A dropped pieces B had seen it announce, B's wire to A heard lt_donthave for them.
    await poll(() => tA.live.window.floor > startB && donthaves > 0 && !tB.wires[0].peerPieces.get(startB), 30_000, 'B hears lt_donthave from A')
    for (const t of [tA, tB]) {
      const d = onDisk(t)
      if (process.env.WINDOW_FIGURES) console.log(`  ${t === tA ? 'A' : 'B'}: ${d.bytes} bytes in ${d.files} segment files after 400 pieces of ${PL} (window ${WINDOW}, bound ${DISK_BOUND})`)
      assert.ok(d.bytes <= DISK_BOUND, `on disk after 400 pieces: ${d.bytes} ≤ ${DISK_BOUND}`)
    }
  })

  it('a window-only viewer restarted on its store resumes: pieces still in the window are adopted from the segments', async () => {
    const c0 = await makeClient()
    const bc = await broadcast(c0, { name: 'restart.bin', pieceLength: PL, window: WINDOW })
    const dir = tempDir()
    const c1 = await makeClient()
    const t1 = join(c1, bc.magnetURI, [c0], { from: 'start', path: dir })
    const data = bytes(PL * 260, 13)
    await air(bc, data.subarray(0, PL * 200), { chunk: 4000 })
    await whenHas(t1, 200, 'the first run reaches piece 200')
    await poll(() => t1.live.window.floor >= 200 - KEEP, 30_000, 'the first run drops')
    await new Promise<void>((resolve) => c1.destroy(() => resolve()))
    const c2 = await makeClient()
    const t2 = join(c2, bc.magnetURI, [c0], { from: 'start', path: dir })
    const reading = collect(t2.live.createReadStream())
    await withTimeout((async () => { while (t2.live.startPiece === null) await t2.live.changed() })(), 30_000, 'restart starts')
    const start = t2.live.startPiece as number
    await air(bc, data.subarray(PL * 200), { chunk: 2000, pauseMs: 5 })
    await bc.end()
    const got = await withTimeout(reading, 60_000, 'the restarted viewer reads to the end')
    assert.ok(got.equals(data.subarray(start * PL)), 'exactly the broadcast from its start on')
    assert.ok(t2.live.stats.adoptedPieces >= 16, `adopted ${t2.live.stats.adoptedPieces as number} pieces from the segments on disk`)
  })

  it('a window-only broadcaster with a state folder resumes after a restart: same stream, its window on disk, the END over every piece', async () => {
    const state = joinPath(tempDir(), 'state')
    const data = bytes(PL * 300 + 99, 17)
    const c1 = await makeClient()
    const bc1 = await broadcast(c1, { name: 'resumed.bin', pieceLength: PL, window: WINDOW, archive: false, state })
    const cV = await makeClient()
    const tV = join(cV, bc1.magnetURI, [c1], { from: 'start' })
    const reading = collect(tV.live.createReadStream())
    await air(bc1, data.subarray(0, PL * 200), { chunk: 3000, pauseMs: 2 })
    await whenHas(tV, 200, 'the viewer reaches piece 200')
    const start = tV.live.startPiece as number
    assert.ok(bc1.live.window.floor >= 200 - KEEP, 'the broadcaster dropped below its window')
    assert.ok(onDisk(bc1.torrent).bytes <= DISK_BOUND, 'and deleted those segments')
    await new Promise<void>((resolve) => c1.destroy(() => resolve()))
    bc1.close()

    const c2 = await makeClient()
    const bc2 = await broadcast(c2, { name: 'ignored', pieceLength: PL, archive: false, state })
    assert.equal(bc2.infoHash, bc1.infoHash, 'same stream')
    assert.equal(bc2.live.count, 200)
    const floor = bc2.live.window.floor
    assert.ok(floor >= 200 - KEEP, `the resumed broadcaster holds its window only (from ${floor})`)
    for (let i = 0; i < floor; i++) assert.equal(bc2.live.has(i), false, `no claim to dropped piece ${i}`)
    for (let i = 200 - WINDOW; i < 200; i++) assert.equal(bc2.live.has(i), true, `piece ${i} adopted from its segment`)
    tV.addPeer(addr(c2))
    await air(bc2, data.subarray(bc2.length), { chunk: 3000, pauseMs: 2 })
    const fin = await bc2.end()
    const pieceHashes = Buffer.concat(Array.from({ length: 301 }, (_, i) => createHash('sha1').update(data.subarray(i * PL, Math.min(data.length, (i + 1) * PL))).digest()))
    assert.equal(fin.infoHash, finalTorrent('resumed.bin', PL, data.length, pieceHashes).infoHash, 'the END names the final torrent over every piece, read back from the state folder')
    const got = await withTimeout(reading, 60_000, 'the viewer reads across the restart')
    assert.ok(got.equals(data.subarray(start * PL)), 'the viewer has every byte from its start on, across the restart')
    bc2.close()
  })

  it('a reader behind the window: BEHIND_WINDOW by default, or skips (and says how many bytes)', async () => {
    const c0 = await makeClient()
    const bc = await broadcast(c0, { name: 'behind.bin', pieceLength: PL, window: WINDOW })
    const cA = await makeClient()
    const tA = join(cA, bc.magnetURI, [c0], { from: 'start' })
    const data = bytes(PL * 200, 9)
    await air(bc, data, { chunk: 4000 })
    await whenHas(tA, 200, 'A reaches piece 200')
    await poll(() => tA.live.window.floor >= 200 - KEEP, 30_000, 'A drops below the window')
    const floor = tA.live.window.heldFrom as number
    await assert.rejects(collect(tA.live.createReadStream({ startPiece: 0 })), (e: any) => e instanceof LiveError && e.code === 'BEHIND_WINDOW')
    const skipped: any[] = []
    tA.live.on('skipped', (s: any) => skipped.push(s))
    const reading = collect(tA.live.createReadStream({ startPiece: 0, behind: 'skip' }))
    await bc.end()
    const got = await withTimeout(reading, 60_000, 'skip reader ends')
    assert.equal(skipped.length, 1)
    assert.deepEqual(skipped[0], { from: 0, to: floor, bytes: floor * PL }, 'skips to the oldest piece still held')
    assert.ok(got.equals(data.subarray(floor * PL)), 'after the skip, exactly the broadcast bytes')
    assert.ok(bc.live.window.archive, 'the broadcaster archives by default')
    assert.equal(bc.live.has(0), true)
  })

  it('an archive viewer serves the final torrent after the end to a WebTorrent client without the plugin', async () => {
    const c0 = await makeClient()
    const bc = await broadcast(c0, { name: 'archive.bin', pieceLength: PL, window: WINDOW })
    const cD = await makeClient()
    const tD = join(cD, bc.magnetURI, [c0], { from: 'start', archive: true })
    const data = bytes(PL * 150 + 77, 3)
    await air(bc, data, { chunk: 4000 })
    const fin = await bc.end()
    const finD: any = await withTimeout(tD.live.whenFinal(), 60_000, 'D serves the final torrent')
    assert.equal(finD.infoHash, fin.infoHash)
    await whenHas(tD, 151, 'D holds every piece', 0)
    assert.equal(tD.live.window.floor, 0, 'the archive viewer dropped nothing')
    const cP = new WebTorrent(CLIENT_OPTS)
    plain.push(cP)
    if (!cP.listening) await new Promise((resolve) => cP.once('listening', resolve))
    const dir = tempDir()
    const tp = cP.add(fin.magnetURI, { path: dir })
    const connect = (): void => { tp.addPeer(addr(cD)) }
    if (tp.infoHash) connect(); else tp.once('infoHash', connect)
    await withTimeout(new Promise<void>((resolve, reject) => { tp.once('done', resolve); tp.once('error', reject) }), 60_000, 'plain download from D')
    assert.ok(readFileSync(joinPath(dir, tp.name)).equals(data))
  })
})
