/**
 * Nothing breaks at 2^31 or 2^32 bytes, or at the protocol's 2^26 pieces (ut_live.md §7.7): the
 * on-disk store at byte offsets past 2^31, 2^32 and 2^40 (a sparse file), and a WebTorrent torrent
 * grown to 2^26 pieces of 16 KiB (2^40 bytes) after releasing all but its last pieces.
 */
import assert from 'node:assert/strict'
import { statSync } from 'node:fs'
import WebTorrent from 'webtorrent'
import FileStore from '../../lib/store/file-store.js'
import { MAX_PIECES } from '../../lib/protocol/constants.js'
import { grow, releasePieces } from '../../patches/index.js'
import { CLIENT_OPTS, tempDir, withTimeout } from '../support/clients.js'

/* eslint-disable @typescript-eslint/no-explicit-any */
const KiB = 1024

function put (s: FileStore, i: number, b: Uint8Array): Promise<void> {
  return new Promise((resolve, reject) => s.put(i, b, (err) => err ? reject(err) : resolve()))
}
function get (s: FileStore, i: number, opts: { offset?: number, length?: number } | null = null): Promise<Buffer> {
  return new Promise((resolve, reject) => s.get(i, opts, (err, b) => err ? reject(err) : resolve(Buffer.from(b!))))
}

describe('large offsets and counts', function () {
  this.timeout(60_000)

  it('FileStore writes and reads chunks at byte offsets 2^31, 2^32 and 2^40 (sparse)', async () => {
    const cases: Array<[chunkLength: number, index: number]> = [
      [16 * KiB, 2 ** 31 / (16 * KiB)], // starts at 2^31
      [16 * KiB, 2 ** 32 / (16 * KiB) - 1], // ends at 2^32
      [16 * KiB, 2 ** 32 / (16 * KiB)], // starts at 2^32
      [3 * 1000, Math.floor(2 ** 32 / 3000)], // straddles 2^32
      [16 * KiB, MAX_PIECES - 1] // the protocol's last piece at 16 KiB: ends at 2^40
    ]
    for (const [cl, index] of cases) {
      const s = new FileStore(cl, { path: tempDir(), name: 'big.bin' })
      try {
        const data = Buffer.alloc(cl)
        for (let k = 0; k < cl; k++) data[k] = (index + k * 7) & 0xff
        await put(s, index, data)
        assert.equal(statSync(s.path).size, (index + 1) * cl, `file size for chunk ${index} × ${cl}`)
        assert.ok((await get(s, index)).equals(data), `chunk ${index} × ${cl} reads back`)
        assert.ok((await get(s, index, { offset: cl - 100, length: 100 })).equals(data.subarray(cl - 100)))
        await assert.rejects(get(s, index - 1), /Chunk not found/)
      } finally {
        await new Promise((resolve) => s.destroy(() => resolve(null)))
      }
    }
  })

  it('a torrent released below its last pieces grows to 2^26 pieces of 16 KiB (2^40 bytes) with exact lengths', async () => {
    const client = new WebTorrent(CLIENT_OPTS)
    try {
      const t: any = await withTimeout(new Promise((resolve) => client.seed(Buffer.alloc(16 * KiB, 1), { name: 'big.bin', pieceLength: 16 * KiB, path: tempDir() }, resolve)), 30_000, 'seed')
      assert.equal(releasePieces(t, MAX_PIECES - 4), 1)
      const length = MAX_PIECES * 16 * KiB - 100
      grow(t, MAX_PIECES, length)
      assert.equal(t.pieces.length, MAX_PIECES)
      assert.equal(Object.keys(t.pieces).length, 4, 'state for the last 4 pieces only')
      assert.equal(t.length, length)
      assert.ok(length > 2 ** 32 && length < 2 ** 40)
      assert.equal(t.lastPieceLength, 16 * KiB - 100)
      assert.equal(t.pieces[MAX_PIECES - 1].length, 16 * KiB - 100)
      assert.equal(t.files[0].length, length)
      assert.equal(t.files[0]._endPiece, MAX_PIECES - 1)
      assert.equal(t.bitfield.buffer.length, MAX_PIECES / 8)
      assert.equal(t.downloaded, 16 * KiB, 'the one verified piece, released')
      t.bitfield.set(MAX_PIECES - 1, true)
      assert.equal(t.bitfield.get(MAX_PIECES - 1), true)
      assert.equal(t.bitfield.get(MAX_PIECES - 2), false)
      t.select(0, MAX_PIECES - 1)
      for (const s of t._selections._items) assert.ok(s.from >= MAX_PIECES - 4, 'selections start at the release')
    } finally {
      await new Promise((resolve) => client.destroy(() => resolve(null)))
    }
  })
})
