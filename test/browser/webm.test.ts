import assert from 'node:assert/strict'
import { spawnSync } from 'node:child_process'
import { existsSync } from 'node:fs'
import { containerOf, findMediaStart, initLength, readInit } from '../../lib/web/media.js'
import { ffmpegPath, testCardArgs } from '../../lib/web/testcard.js'
import { findClusterStart, webmInitLength } from '../../lib/web/webm.js'


/** Top-level elements after the Segment header, read independently of lib/web/webm: [id hex, offset, size]. */
function topLevel (b: Buffer): Array<[string, number, number]> {
  const vint = (i: number, keep: boolean): [number, number] => {
    const f = b[i]!
    let len = 1
    while (!(f & (0x80 >> (len - 1)))) len++
    let v = keep ? f : f & (0xff >> len)
    for (let k = 1; k < len; k++) v = v * 256 + b[i + k]!
    return [v, len]
  }
  let i = 0
  const [, l0] = vint(0, true); const [s0, l1] = vint(l0, false); i = l0 + l1 + s0 // EBML header
  const [, l2] = vint(i, true); const [, l3] = vint(i + l2, false); i += l2 + l3 // Segment header (unknown size)
  const out: Array<[string, number, number]> = []
  while (i < b.length) {
    const [id, a] = vint(i, true); const [size, c] = vint(i + a, false)
    out.push([id.toString(16), i, a + c + size])
    i += a + c + size
  }
  return out
}

describe('WebM for Media Source Extensions (lib/web/webm)', function () {
  this.timeout(60_000)
  let webm: Buffer

  before(function () {
    if (!existsSync(process.env.FFMPEG ?? '/usr/bin/ffmpeg')) this.skip()
    // ffmpeg's VP9 + Opus WebM, written to a pipe as a live source writes it (Segment of unknown size).
    const r = spawnSync(ffmpegPath(), testCardArgs({ seconds: 5, realtime: false, container: 'webm' }), { maxBuffer: 64 * 1024 * 1024 })
    if (r.status !== 0) { console.warn(`    (ffmpeg cannot write VP9/Opus WebM: ${r.stderr.toString().trim()}; skipped)`); this.skip() }
    webm = r.stdout
  })

  it('recognises WebM and takes the initialisation segment: everything before the first Cluster, however it is chunked', async () => {
    assert.equal(containerOf(webm), 'webm')
    const first = topLevel(webm).find(([id]) => id === '1f43b675')!
    assert.equal(initLength(webm), first[1])
    assert.equal(webmInitLength(webm.subarray(0, first[1] - 1)), -1, 'more bytes needed')
    assert.equal(webmInitLength(webm.subarray(0, first[1] + 4)), first[1])
    for (const step of [1, 100, 16384]) {
      async function * chunks (): AsyncGenerator<Uint8Array> { for (let o = 0; o < webm.length; o += step) yield webm.subarray(o, o + step) }
      assert.deepEqual(Buffer.from(await readInit(chunks())), webm.subarray(0, first[1]), `chunks of ${step}`)
    }
    assert.throws(() => webmInitLength(Buffer.from('not webm at all')), /not a WebM/)
  })

  it('finds where a player can start in the middle of the stream (a Cluster), from any offset', () => {
    const clusters = topLevel(webm).filter(([id]) => id === '1f43b675').map(([, o]) => o)
    assert.ok(clusters.length >= 4, `one Cluster a second (${clusters.length})`)
    for (const from of [0, 1, 1000, Math.floor(webm.length / 2), clusters[1]! - 1, clusters[1]!, clusters[2]! + 1]) {
      const at = findMediaStart('webm', webm.subarray(from))
      const next = clusters.find((c) => c >= from)
      assert.equal(at < 0 ? null : from + at, next ?? null, `from ${from}`)
    }
    // A Cluster's ID inside a frame's bytes, without a Timestamp after it, is no place to start.
    const fake = Buffer.concat([Buffer.from([0x1f, 0x43, 0xb6, 0x75, 0x85, 0xa3, 1, 2, 3, 4]), webm.subarray(clusters[1]!, clusters[1]! + 64)])
    assert.equal(findClusterStart(fake), 10)
  })
})
