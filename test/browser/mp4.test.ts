import assert from 'node:assert/strict'
import { existsSync } from 'node:fs'
import { BoxReader, findFragmentStart } from '../../lib/web/mp4.js'
import { mimeOf, readInit } from '../../lib/web/media.js'
import { testCard } from '../../lib/web/testcard.js'

/** Top-level boxes of a whole buffer: [type, offset, size]. */
function boxes (b: Buffer): Array<[string, number, number]> {
  const out: Array<[string, number, number]> = []
  for (let o = 0; o < b.length;) {
    const size = b.readUInt32BE(o)
    out.push([b.toString('latin1', o + 4, o + 8), o, size])
    o += size
  }
  return out
}

describe('fragmented MP4 for Media Source Extensions (lib/web/mp4)', function () {
  this.timeout(60_000)
  let mp4: Buffer

  before(async function () {
    if (!existsSync(process.env.FFMPEG ?? '/usr/bin/ffmpeg')) this.skip()
    const card = testCard({ seconds: 4, realtime: false })
    const parts: Buffer[] = []
    for await (const c of card.stream) parts.push(c as Buffer)
    mp4 = Buffer.concat(parts)
  })

  it('splits a stream into its top-level boxes, however it is chunked', () => {
    const expected = boxes(mp4).map(([t, , s]) => `${t}:${s}`)
    assert.deepEqual(expected.slice(0, 2).map((x) => x.split(':')[0]), ['ftyp', 'moov'])
    assert.ok(expected.filter((x) => x.startsWith('moof')).length >= 3, 'one fragment per second')
    for (const step of [1, 7, 1000, 16384, mp4.length]) {
      const r = new BoxReader()
      const got: string[] = []
      for (let o = 0; o < mp4.length; o += step) {
        r.push(mp4.subarray(o, o + step))
        for (let b = r.next(); b; b = r.next()) got.push(`${b.type}:${b.bytes.length}`)
      }
      assert.deepEqual(got, expected, `chunks of ${step}`)
      assert.equal(r.pending, 0)
    }
  })

  it('finds where a player can start in the middle of the stream (a moof), from any offset', () => {
    const moofs = boxes(mp4).filter(([t]) => t === 'moof').map(([, o]) => o)
    for (const from of [1, 1000, 30_000, Math.floor(mp4.length / 2), moofs[1]! - 1, moofs[1]!]) {
      const at = findFragmentStart(mp4.subarray(from))
      const next = moofs.find((m) => m >= from)
      assert.equal(at < 0 ? null : from + at, next ?? null, `from ${from}`)
    }
  })

  it('reads the initialisation segment and names its codec', async () => {
    async function * chunks (): AsyncGenerator<Uint8Array> { for (let o = 0; o < mp4.length; o += 5000) yield mp4.subarray(o, o + 5000) }
    const init = await readInit(chunks())
    const [ftyp, moov] = boxes(mp4)
    assert.equal(init.length, ftyp![2] + moov![2])
    assert.match(mimeOf(init), /^video\/mp4; codecs="avc1\.42[0-9a-f]{4}"$/)
  })
})
