/**
 * patches/torrent-release.ts on real torrents over loopback: a viewer that releases its old pieces
 * keeps receiving and reading the stream byte for byte, holds no state below the release, and never
 * asks for a released piece; one released before it grows (joining at a window) creates none.
 */
import assert from 'node:assert/strict'
import { broadcast } from '../../lib/index.js'
import { releasePieces, releasedBelow } from '../../patches/index.js'
import { bytes, destroyAll, join, makeClient, until, withTimeout } from '../support/clients.js'

/* eslint-disable @typescript-eslint/no-explicit-any */
const PL = 1024

/** Resolves once every piece in [from, to) is verified on `t`. */
function verified (t: any, from: number, to: number): Promise<void> {
  let next = from
  const all = (): boolean => {
    while (next < to && next < t.pieces.length && t.bitfield.get(next)) next++
    return next >= to
  }
  return withTimeout(until(t, 'verified', all), 60_000, `pieces ${from}…${to - 1} verified`)
}

/** Whether index i holds a slot in the array (a released one holds none). */
function held (arr: unknown[], i: number): boolean { return i in arr }

describe('releasePieces (patches/torrent-release.ts)', function () {
  this.timeout(120_000)
  afterEach(destroyAll)

  it('a viewer that releases its old pieces holds none of their state and reads on byte for byte', async () => {
    const a = await makeClient()
    const bc = await broadcast(a, { name: 'release.bin', pieceLength: PL })
    const v = await makeClient()
    const t = join(v, bc.magnetURI, [a])
    const data = bytes(4000 * PL, 11)
    await bc.write(data.subarray(0, 3000 * PL))
    await withTimeout(new Promise((resolve) => t.once('ready', resolve)), 30_000, 'viewer ready')
    await verified(t, 0, 3000)

    const before = t.pieces
    assert.equal(releasePieces(t, 2000), 2000)
    assert.equal(releasedBelow(t), 2000)
    assert.equal(releasePieces(t, 1500), 0, 'a release never moves back')
    for (const i of [0, 1000, 1999]) {
      assert.equal(held(t.pieces, i), false, `pieces[${i}] released`)
      assert.equal(held(t._reservations, i), false, `_reservations[${i}] released`)
      assert.equal(held(t._rarityMap._pieces, i), false, `_rarityMap._pieces[${i}] released`)
      assert.equal(held(t.store.mem, i), false, `store.mem[${i}] released`)
    }
    assert.equal(t.pieces[2000], null, 'pieces above the release are kept')
    assert.equal(t.pieces.length, 3000, 'indices do not move')
    assert.equal(t.downloaded, 3000 * PL, 'downloaded counts the released pieces verified when released')
    for (const s of t._selections._items) if (!s.isStreamSelection) assert.ok(s.from >= 2000, 'selections start at the release')
    assert.ok(t._rarityMap.getRarestPiece() >= 2000)

    // Most of the array released (2 950 of 3 000): it is rebuilt sparse, indices kept.
    assert.equal(releasePieces(t, 2950), 950)
    assert.notEqual(t.pieces, before, 'rebuilt')
    assert.equal(t.pieces.length, 3000)
    assert.equal(held(t.pieces, 2949), false)
    assert.equal(t.pieces[2950], null)
    assert.equal(Object.keys(t.pieces).length, 50, 'only the window is held')

    // The stream goes on: new pieces arrive and read byte for byte after the release.
    const rs = t.live.createReadStream({ startPiece: 2950 })
    const parts: Buffer[] = []
    const reading = (async () => { for await (const c of rs) parts.push(Buffer.from(c)) })()
    await bc.write(data.subarray(3000 * PL))
    await bc.end()
    await withTimeout(reading, 60_000, 'read to the end')
    assert.ok(Buffer.concat(parts).equals(data.subarray(2950 * PL)), 'bytes after the release are the broadcast bytes')
    assert.equal(t.downloaded, 4000 * PL)
    assert.equal(Object.keys(t.pieces).length, 1050)
    assert.ok(Object.keys(t.store.mem).length < 64, 'the immediate store holds only puts in flight')
  })

  it('a viewer released before it grows (joining at a window) creates no state below it and asks for no piece below it', async () => {
    const a = await makeClient()
    const bc = await broadcast(a, { name: 'late.bin', pieceLength: PL })
    const data = bytes(3000 * PL, 12)
    await bc.write(data)
    const v = await makeClient()
    const t = join(v, bc.magnetURI, [a])
    // from: 'start' would select (and fetch, in order) pieces 0…2999; the release comes first.
    await withTimeout(new Promise((resolve) => t.once('ready', () => { releasePieces(t, 2500); resolve(null) })), 30_000, 'viewer ready')
    await verified(t, 2500, 3000)
    assert.equal(t.pieces.length, 3000)
    let below = 0
    for (let i = 0; i < 2500; i++) if (t.bitfield.get(i) || held(t.pieces, i) || held(t._reservations, i)) below++
    assert.equal(below, 0, 'no piece below the release was created, fetched or reserved')
    assert.equal(t.downloaded, 500 * PL)
    const got = await new Promise<Buffer>((resolve, reject) => t.store.get(2999, (err: Error | null, b: Uint8Array) => err ? reject(err) : resolve(Buffer.from(b))))
    assert.ok(got.equals(data.subarray(2999 * PL)))
  })
})
