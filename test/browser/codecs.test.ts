import assert from 'node:assert/strict'
import { spawnSync } from 'node:child_process'
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { chromium } from 'playwright-core'
import { initLength, mimeOf } from '../../lib/web/media.js'
import { ffmpegPath, testCardArgs } from '../../lib/web/testcard.js'
import { CHROMIUM, CHROMIUM_ARGS, haveChromium } from './helpers.js'

const FFMPEG = ffmpegPath()
/** The test card's inputs a case encodes: one second of pattern, of tone, or both. */
type Inputs = 'video' | 'audio' | 'both'
const FMP4 = ['-f', 'mp4', '-movflags', 'frag_keyframe+empty_moov+default_base_moof']
const WEBM = ['-f', 'webm', '-cluster_time_limit', '1000']

function encoders (): Set<string> {
  const r = spawnSync(FFMPEG, ['-hide_banner', '-encoders'], { encoding: 'utf8' })
  if (r.status !== 0) return new Set()
  return new Set(r.stdout.split('\n').map((l) => l.trim().split(/\s+/)[1] ?? '').filter(Boolean))
}

/** One case: ffmpeg arguments (inputs and codecs), the container, and the codec string(s) expected. */
interface Case { name: string, need: string[], inputs: Inputs, args: string[], mime: string, /** why Chromium need not take it */ notInChromium?: string }

const CASES: Case[] = [
  // H.264: avc1 + profile_idc, constraint flags, level_idc (RFC 6381 §3.3).
  { name: 'libx264 High 3.0', need: ['libx264'], inputs: 'video', args: ['-c:v', 'libx264', '-profile:v', 'high', '-level', '3.0', '-pix_fmt', 'yuv420p', ...FMP4], mime: 'video/mp4; codecs="avc1.64001e"' },
  { name: 'libx264 Constrained Baseline 3.1', need: ['libx264'], inputs: 'video', args: ['-c:v', 'libx264', '-profile:v', 'baseline', '-level', '3.1', '-pix_fmt', 'yuv420p', ...FMP4], mime: 'video/mp4; codecs="avc1.42c01f"' },
  // HEVC (14496-15 Annex E): Main = profile 1, compatibility flags 1 and 2 (reversed: 6); Main 10 =
  // profile 2, flag 2 (reversed: 4); level 3.1 = 93; x265 sets progressive_source and frame_only (90).
  { name: 'libx265 Main 3.1 (hvc1)', need: ['libx265'], inputs: 'video', args: ['-c:v', 'libx265', '-x265-params', 'log-level=error:level-idc=31', '-pix_fmt', 'yuv420p', '-tag:v', 'hvc1', ...FMP4], mime: 'video/mp4; codecs="hvc1.1.6.L93.90"' },
  { name: 'libx265 Main 10 3.1 (hev1)', need: ['libx265'], inputs: 'video', args: ['-c:v', 'libx265', '-x265-params', 'log-level=error:level-idc=31', '-pix_fmt', 'yuv420p10le', ...FMP4], mime: 'video/mp4; codecs="hev1.2.4.L93.90"' },
  // AV1: av01.profile.level(2 digits)tier.bitdepth; 320x240 is level 2.0 (seq_level_idx 0).
  { name: 'libsvtav1 8-bit', need: ['libsvtav1'], inputs: 'video', args: ['-c:v', 'libsvtav1', '-pix_fmt', 'yuv420p', ...FMP4], mime: 'video/mp4; codecs="av01.0.00M.08"' },
  { name: 'libsvtav1 10-bit', need: ['libsvtav1'], inputs: 'video', args: ['-c:v', 'libsvtav1', '-pix_fmt', 'yuv420p10le', ...FMP4], mime: 'video/mp4; codecs="av01.0.00M.10"' },
  // VP9: vp09.profile.level.bitdepth (two digits each); 320x240 at 25 fps is level 2.0 (20).
  { name: 'libvpx-vp9 profile 0', need: ['libvpx-vp9'], inputs: 'video', args: ['-c:v', 'libvpx-vp9', '-deadline', 'realtime', '-pix_fmt', 'yuv420p', ...FMP4], mime: 'video/mp4; codecs="vp09.00.20.08"' },
  { name: 'libvpx-vp9 profile 2 (10-bit)', need: ['libvpx-vp9'], inputs: 'video', args: ['-c:v', 'libvpx-vp9', '-deadline', 'realtime', '-pix_fmt', 'yuv420p10le', ...FMP4], mime: 'video/mp4; codecs="vp09.02.20.10"' },
  // AAC: mp4a.40 + the audio object type of the AudioSpecificConfig.
  { name: 'aac LC', need: ['aac'], inputs: 'audio', args: ['-c:a', 'aac', ...FMP4], mime: 'audio/mp4; codecs="mp4a.40.2"' },
  { name: 'aac Main', need: ['aac'], inputs: 'audio', args: ['-c:a', 'aac', '-profile:a', 'aac_main', ...FMP4], mime: 'audio/mp4; codecs="mp4a.40.1"', notInChromium: 'Chromium decodes AAC LC and HE-AAC only' },
  { name: 'libopus in MP4', need: ['libopus'], inputs: 'audio', args: ['-c:a', 'libopus', ...FMP4], mime: 'audio/mp4; codecs="opus"' },
  { name: 'H.264 + AAC', need: ['libx264', 'aac'], inputs: 'both', args: ['-c:v', 'libx264', '-profile:v', 'high', '-level', '3.0', '-pix_fmt', 'yuv420p', '-c:a', 'aac', ...FMP4], mime: 'video/mp4; codecs="avc1.64001e, mp4a.40.2"' },
  // WebM: the track entries' CodecIDs; V_AV1's CodecPrivate is an av1C record.
  { name: 'WebM VP9 + Opus', need: ['libvpx-vp9', 'libopus'], inputs: 'both', args: ['-c:v', 'libvpx-vp9', '-deadline', 'realtime', '-c:a', 'libopus', ...WEBM], mime: 'video/webm; codecs="vp9, opus"' },
  { name: 'WebM VP8 + Vorbis', need: ['libvpx', 'libvorbis'], inputs: 'both', args: ['-c:v', 'libvpx', '-deadline', 'realtime', '-c:a', 'libvorbis', ...WEBM], mime: 'video/webm; codecs="vp8, vorbis"' },
  { name: 'WebM AV1 + Opus', need: ['libsvtav1', 'libopus'], inputs: 'both', args: ['-c:v', 'libsvtav1', '-c:a', 'libopus', ...WEBM], mime: 'video/webm; codecs="av01.0.00M.08, opus"' },
  { name: 'WebM Opus only', need: ['libopus'], inputs: 'audio', args: ['-c:a', 'libopus', ...WEBM], mime: 'audio/webm; codecs="opus"' }
]

/** The initialisation segment of what ffmpeg writes to a pipe (as a live source does), via a file in dir. */
function makeInit (dir: string, name: string, inputs: Inputs, args: string[]): Uint8Array {
  const card = testCardArgs({ seconds: 1, realtime: false, video: inputs !== 'audio', audio: inputs !== 'video', encode: args })
  const r = spawnSync(FFMPEG, card, { maxBuffer: 64 * 1024 * 1024 })
  if (r.status !== 0) throw new Error(`ffmpeg (${name}) failed: ${r.stderr.toString()}`)
  const file = join(dir, name.replace(/[^a-z0-9]+/gi, '-'))
  writeFileSync(file, r.stdout)
  const all = new Uint8Array(readFileSync(file))
  const n = initLength(all)
  assert.ok(n > 0, `${name}: an initialisation segment`)
  return all.subarray(0, n)
}

/** AAC's AudioSpecificConfig inside an init segment, with its audio object type replaced (HE-AAC needs an encoder ffmpeg lacks here). */
function withAudioObjectType (init: Uint8Array, aot: number): Uint8Array {
  const out = init.slice()
  const esds = Buffer.from(out.buffer, out.byteOffset, out.length).indexOf('esds')
  /** Past a descriptor's tag and its 1 to 4 length bytes. */
  const payload = (at: number): number => { let p = at + 1; while (out[p]! & 0x80) p++; return p + 1 }
  const es = payload(esds + 8) // after the FullBox's version and flags: ES_Descriptor (tag 3)
  const dc = payload(es + 3) // after ES_ID and flags: DecoderConfigDescriptor (tag 4)
  const p = payload(dc + 13) // after its 13 bytes of fields: DecoderSpecificInfo (tag 5), the ASC
  assert.deepEqual([out[esds + 8], out[es + 3], out[dc + 13]], [3, 4, 5], 'the esds layout ffmpeg writes')
  if (aot < 31) {
    out[p] = (aot << 3) | (out[p]! & 0x07)
  } else {
    const ext = aot - 32
    out[p] = 0xf8 | (ext >> 3)
    out[p + 1] = ((ext & 0x07) << 5) | (out[p + 1]! & 0x1f)
  }
  return out
}

describe('codec strings from initialisation segments (lib/web/codecs, mp4, webm)', function () {
  this.timeout(120_000)
  const have = encoders()
  let dir: string
  const seen: Array<{ name: string, mime: string, notInChromium?: string }> = []

  before(function () {
    if (have.size === 0) { console.warn('    (no ffmpeg: skipped)'); this.skip() }
    dir = mkdtempSync(join(tmpdir(), 'wtl-codecs-'))
  })
  after(() => { if (dir) rmSync(dir, { recursive: true, force: true }) })

  for (const c of CASES) {
    it(`${c.name}: ${c.mime}`, function () {
      const missing = c.need.filter((e) => !have.has(e))
      if (missing.length) { console.warn(`    (this ffmpeg has no ${missing.join(', ')} encoder: skipped)`); this.skip() }
      const init = makeInit(dir, c.name, c.inputs, c.args)
      assert.equal(mimeOf(init), c.mime)
      seen.push({ name: c.name, mime: c.mime, ...(c.notInChromium ? { notInChromium: c.notInChromium } : {}) })
    })
  }

  it('HE-AAC (audio object type 5), HE-AACv2 (29) and an escaped type (42: USAC) from the AudioSpecificConfig', function () {
    if (!have.has('aac')) this.skip()
    const lc = makeInit(dir, 'aac-for-he', 'audio', ['-c:a', 'aac', ...FMP4])
    assert.equal(mimeOf(withAudioObjectType(lc, 5)), 'audio/mp4; codecs="mp4a.40.5"')
    assert.equal(mimeOf(withAudioObjectType(lc, 29)), 'audio/mp4; codecs="mp4a.40.29"')
    assert.equal(mimeOf(withAudioObjectType(lc, 42)), 'audio/mp4; codecs="mp4a.40.42"')
    seen.push({ name: 'HE-AAC', mime: 'audio/mp4; codecs="mp4a.40.5"' }, { name: 'HE-AACv2', mime: 'audio/mp4; codecs="mp4a.40.29"' })
  })

  it('libaom-av1: names the codec from av1C, or says that the av1C box is empty', function () {
    if (!have.has('libaom-av1')) { console.warn('    (this ffmpeg has no libaom-av1 encoder: skipped)'); this.skip() }
    const init = makeInit(dir, 'libaom', 'video', ['-c:v', 'libaom-av1', '-cpu-used', '8', '-pix_fmt', 'yuv420p', ...FMP4])
    // ffmpeg 5.1 writes libaom's av1C before the encoder has a sequence header: an empty box.
    let mime: string | null = null
    try { mime = mimeOf(init) } catch (err) { assert.match((err as Error).message, /av01 track's av1C box is empty/) }
    if (mime) assert.match(mime, /^video\/mp4; codecs="av01\.0\.\d\dM\.08"$/)
  })

  it('refuses what it cannot name, with the reason', () => {
    assert.throws(() => mimeOf(new Uint8Array([0, 0, 0, 8, 0x66, 0x72, 0x65, 0x65])), /neither fragmented MP4 nor WebM/)
    const ftypMoov = new Uint8Array([0, 0, 0, 8, 0x66, 0x74, 0x79, 0x70, 0, 0, 0, 8, 0x6d, 0x6f, 0x6f, 0x76])
    assert.throws(() => mimeOf(ftypMoov), /no tracks/)
  })

  it('Chromium\'s MediaSource.isTypeSupported takes each string, where Chromium has the codec', async function () {
    if (!haveChromium()) { console.warn('    (no Chromium: skipped)'); this.skip() }
    if (seen.length === 0) this.skip()
    const browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS })
    try {
      const page = await browser.newPage()
      const ask = (types: string[]): Promise<boolean[]> => page.evaluate((t) => t.map((x) => MediaSource.isTypeSupported(x)), types)
      // This Chromium's HEVC: the example string of 14496-15 Annex E tells whether it has a decoder at all.
      const [hevc] = await ask(['video/mp4; codecs="hvc1.1.6.L93.B0"'])
      const cases = seen.filter((s) => !s.notInChromium && (hevc || !/hvc1|hev1/.test(s.mime)))
      if (!hevc) console.warn('    (this Chromium has no HEVC decoder: the HEVC strings are checked against the standard only)')
      const ok = await ask(cases.map((s) => s.mime))
      assert.deepEqual(cases.filter((_, i) => !ok[i]).map((s) => `${s.name}: ${s.mime}`), [])
      assert.ok(cases.length >= 8, `${cases.length} strings checked`)
    } finally {
      await browser.close()
    }
  })
})
