/**
 * Just enough ISO BMFF (MP4) to feed a growing fragmented MP4 to Media Source Extensions: split a
 * byte stream into top-level boxes, find a fragment boundary (a moof) in the middle of a stream,
 * and name the codecs of an initialisation segment (codecs.ts reads each decoder configuration).
 * Pure: no DOM, no Node.
 */
import { av1Codec, avcCodec, hevcCodec, mp4aCodec, opusCodec, vp9Codec } from './codecs.js'
import { concat } from '../protocol/bytes.js'

export interface Box {
  type: string
  /** The whole box, header included. */
  bytes: Uint8Array
}

const MAX_BOX = 256 * 1024 * 1024

function u32 (b: Uint8Array, i: number): number {
  return ((b[i]! << 24) | (b[i + 1]! << 16) | (b[i + 2]! << 8) | b[i + 3]!) >>> 0
}

function fourcc (b: Uint8Array, i: number): string {
  return String.fromCharCode(b[i]!, b[i + 1]!, b[i + 2]!, b[i + 3]!)
}

/** Size of the box at offset i, or null if its header is not all there; throws on nonsense. */
function boxSize (b: Uint8Array, i: number): number | null {
  if (b.length - i < 8) return null
  let size = u32(b, i)
  if (size === 1) {
    if (b.length - i < 16) return null
    const hi = u32(b, i + 8)
    size = hi * 2 ** 32 + u32(b, i + 12)
  } else if (size === 0) {
    throw new Error('MP4 box extends to end of file: not a streamable fragmented MP4')
  }
  if (size < 8 || size > MAX_BOX) throw new Error(`implausible MP4 box size ${size}`)
  return size
}

/** Accumulates bytes and yields complete top-level boxes. */
export class BoxReader {
  private buf = new Uint8Array(0)
  /** Bytes consumed so far (the stream offset of the next box). */
  offset = 0

  push (chunk: Uint8Array): void {
    if (this.buf.length === 0) { this.buf = chunk.slice(); return }
    const b = new Uint8Array(this.buf.length + chunk.length)
    b.set(this.buf); b.set(chunk, this.buf.length)
    this.buf = b
  }

  /** The next complete box, or null when more bytes are needed. */
  next (): Box | null {
    const size = boxSize(this.buf, 0)
    if (size === null || this.buf.length < size) return null
    const box = { type: fourcc(this.buf, 4), bytes: this.buf.subarray(0, size) }
    this.buf = this.buf.subarray(size)
    this.offset += size
    return box
  }

  get pending (): number { return this.buf.length }
}

/**
 * The offset of the first moof in `b` that is followed by its mfhd and, when enough bytes are
 * there, by an mdat: where a player can start in the middle of a fragmented MP4 stream. Returns
 * -1 if none yet (give it more bytes).
 */
export function findFragmentStart (b: Uint8Array, from = 0): number {
  for (let i = Math.max(4, from + 4); i + 12 <= b.length; i++) {
    if (b[i] !== 0x6d || b[i + 1] !== 0x6f || b[i + 2] !== 0x6f || b[i + 3] !== 0x66) continue // 'moof'
    const start = i - 4
    const size = u32(b, start)
    if (size < 24 || size > MAX_BOX) continue
    if (b.length >= start + 16 && fourcc(b, start + 12) !== 'mfhd') continue
    if (b.length >= start + size + 8 && fourcc(b, start + size + 4) !== 'mdat') continue
    return start
  }
  return -1
}

/** The first child box of `type` inside [start, end) of b: [box start, box end], or null. */
function findChild (b: Uint8Array, start: number, end: number, type: string): [number, number] | null {
  for (const [s, e, t] of children(b, start, end)) if (t === type) return [s, e]
  return null
}

/** The child boxes inside [start, end) of b: [start, end, type] each; stops at a malformed size. */
function children (b: Uint8Array, start: number, end: number): Array<[number, number, string]> {
  const out: Array<[number, number, string]> = []
  for (let i = start; i + 8 <= end && out.length < MAX_CHILDREN;) {
    const size = u32(b, i)
    if (size < 8 || i + size > end) break
    out.push([i, i + size, fourcc(b, i + 4)])
    i += size
  }
  return out
}

/** A box's payload, found by a path of types from [start, end): [payload start, box end], or null. */
function path (b: Uint8Array, start: number, end: number, types: string[]): [number, number] | null {
  let range: [number, number] = [start, end]
  for (const t of types) {
    const c = findChild(b, range[0], range[1], t)
    if (!c) return null
    range = [c[0] + 8, c[1]]
  }
  return range
}

/** A bound on the boxes walked at one level (an init segment has a handful per container). */
const MAX_CHILDREN = 1024
/** Where a sample entry's child boxes begin, after its fixed fields (ISO/IEC 14496-12 §12.1.3, §12.2.3). */
const VISUAL_ENTRY_FIELDS = 78
const AUDIO_ENTRY_FIELDS = 28

const VIDEO_ENTRIES: Record<string, [string, (entry: string, payload: Uint8Array) => string | null]> = {
  avc1: ['avcC', avcCodec], avc3: ['avcC', avcCodec],
  hvc1: ['hvcC', hevcCodec], hev1: ['hvcC', hevcCodec],
  av01: ['av1C', (_e, p) => av1Codec(p)],
  vp09: ['vpcC', (_e, p) => vp9Codec(p)]
}
const AUDIO_ENTRIES: Record<string, [string, (payload: Uint8Array) => string | null] | string> = {
  mp4a: ['esds', mp4aCodec],
  Opus: ['dOps', opusCodec],
  fLaC: 'flac',
  'ac-3': 'ac-3',
  'ec-3': 'ec-3'
}

/** The codec string of one sample entry (the stsd box's first entry), or an error saying why not. */
function entryCodec (b: Uint8Array, start: number, end: number): { codec: string, video: boolean } | { error: string } {
  const type = fourcc(b, start + 4)
  const video = VIDEO_ENTRIES[type]
  if (video) {
    const rec = findChild(b, start + 8 + VISUAL_ENTRY_FIELDS, end, video[0])
    const codec = rec ? video[1](type, b.subarray(rec[0] + 8, rec[1])) : null
    return codec ? { codec, video: true } : { error: `the ${type} track's ${video[0]} box is ${rec ? (rec[1] - rec[0] === 8 ? 'empty' : 'malformed') : 'missing'}` }
  }
  const audio = AUDIO_ENTRIES[type]
  if (audio) {
    if (typeof audio === 'string') return { codec: audio, video: false }
    // QuickTime sound descriptions (version 1, 2) have 16 or 36 more bytes of fields.
    const version = start + 18 <= end ? (b[start + 16]! << 8) | b[start + 17]! : 0
    const extra = version === 1 ? 16 : version === 2 ? 36 : 0
    const rec = findChild(b, start + 8 + AUDIO_ENTRY_FIELDS + extra, end, audio[0])
    const codec = rec ? audio[1](b.subarray(rec[0] + 8, rec[1])) : null
    return codec ? { codec, video: false } : { error: `the ${type} track's ${audio[0]} box is ${rec ? 'malformed' : 'missing'}` }
  }
  return { error: `no codec string known for sample entry '${type.replace(/[^\x20-\x7e]/g, '?')}'` }
}

/**
 * The codecs of an initialisation segment (ftyp + moov), one per track in track order, read from
 * each track's sample description (moov/trak/mdia/minf/stbl/stsd): see codecs.ts. Throws an error
 * naming the track when a codec cannot be named.
 */
export function mp4Codecs (init: Uint8Array): { codecs: string[], video: boolean } {
  const moov = path(init, 0, init.length, ['moov'])
  if (!moov) throw new Error('no moov box in the initialisation segment')
  const codecs: string[] = []
  let video = false
  for (const [s, e, t] of children(init, moov[0], moov[1])) {
    if (t !== 'trak') continue
    const stsd = path(init, s + 8, e, ['mdia', 'minf', 'stbl', 'stsd'])
    if (!stsd || stsd[1] - stsd[0] < 16) throw new Error('a track without a sample description (stsd)')
    const first = children(init, stsd[0] + 8, stsd[1])[0]
    if (!first) throw new Error('a track with an empty sample description (stsd)')
    const r = entryCodec(init, first[0], first[1])
    if ('error' in r) throw new Error(`cannot name the codec: ${r.error}`)
    codecs.push(r.codec)
    video ||= r.video
  }
  if (codecs.length === 0) throw new Error('no tracks in the initialisation segment')
  return { codecs, video }
}

/** The MSE MIME type of an fMP4 initialisation segment: video/mp4 or audio/mp4, with its codecs. */
export function mp4MimeOf (init: Uint8Array): string {
  const { codecs, video } = mp4Codecs(init)
  return `${video ? 'video' : 'audio'}/mp4; codecs="${codecs.join(', ')}"`
}

/** Reads ftyp + moov from the start of a stream: the initialisation segment. */
export async function readMp4Init (chunks: AsyncIterable<Uint8Array>): Promise<Uint8Array> {
  const r = new BoxReader()
  const parts: Uint8Array[] = []
  for await (const c of chunks) {
    r.push(c)
    for (let box = r.next(); box; box = r.next()) {
      if (box.type === 'moof' || box.type === 'mdat') throw new Error('no moov before the first fragment')
      parts.push(box.bytes.slice())
      if (box.type === 'moov') return concat(parts)
    }
    if (r.offset + r.pending > 64 * 1024 * 1024) break
  }
  throw new Error('the stream ended before its moov box: not a fragmented MP4')
}

export { concat }
