import assert from 'node:assert/strict'
import { spawnSync } from 'node:child_process'
import fc from 'fast-check'
import { findMediaStart, initLength, mimeOf } from '../../lib/web/media.js'
import { ffmpegPath, testCardArgs } from '../../lib/web/testcard.js'

/**
 * The page parses bytes that only the broadcaster's signature vouches for: a hostile or broken
 * broadcast must give a clear Error, never another exception, a hang or a wrong kind of string.
 */
const MIME = /^(video|audio)\/(mp4|webm); codecs="[\x20-\x21\x23-\x7e]+"$/

function total (f: () => unknown): void {
  try {
    const r = f()
    if (typeof r === 'string') assert.match(r, MIME)
  } catch (err) {
    assert.ok(err instanceof Error && !(err instanceof TypeError) && !(err instanceof RangeError), String(err))
  }
}

function ffmpegInit (args: string[]): Uint8Array | null {
  const r = spawnSync(ffmpegPath(), testCardArgs({ seconds: 1, width: 160, height: 120, realtime: false, audio: true, encode: args }), { maxBuffer: 1 << 26 })
  if (r.status !== 0) return null
  const b = new Uint8Array(r.stdout)
  return b.subarray(0, initLength(b))
}

describe('media parsers on hostile bytes (lib/web/media, mp4, webm, codecs)', function () {
  this.timeout(60_000)
  const seeds: Uint8Array[] = []

  before(() => {
    for (const args of [
      ['-c:v', 'libx264', '-c:a', 'aac', '-f', 'mp4', '-movflags', 'frag_keyframe+empty_moov+default_base_moof'],
      ['-c:v', 'libvpx-vp9', '-deadline', 'realtime', '-c:a', 'libopus', '-f', 'webm']
    ]) {
      const init = ffmpegInit(args)
      if (init) seeds.push(init)
    }
  })

  it('arbitrary bytes: a MIME type or an Error', () => {
    fc.assert(fc.property(fc.uint8Array({ maxLength: 2048 }), (b) => {
      total(() => mimeOf(b))
      total(() => initLength(b))
      total(() => findMediaStart('mp4', b))
      total(() => findMediaStart('webm', b))
    }), { numRuns: 2000 })
  })

  it('real init segments with bytes changed, cut short or grown: a MIME type or an Error', function () {
    if (seeds.length === 0) this.skip()
    fc.assert(fc.property(fc.integer({ min: 0, max: seeds.length - 1 }), fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })), { maxLength: 8 }), fc.nat(), (k, edits, cut) => {
      const b = seeds[k]!.slice()
      for (const [at, v] of edits) b[at % b.length] = v
      const cutAt = cut % (b.length + 1)
      total(() => mimeOf(b))
      total(() => mimeOf(b.subarray(0, cutAt)))
      total(() => initLength(b.subarray(0, cutAt)))
      total(() => findMediaStart(k === 0 ? 'mp4' : 'webm', b, cutAt))
    }), { numRuns: 3000 })
  })
})
