/**
 * Just enough ISO BMFF (MP4) to feed a growing fragmented MP4 to Media Source Extensions: split a
 * byte stream into top-level boxes, find a fragment boundary (a moof) in the middle of a stream,
 * and name the codecs of an initialisation segment. Pure: no DOM, no Node.
 */

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

/** Finds a box by path of types inside a container's payload (depth-first over the given path). */
function findChild (b: Uint8Array, start: number, end: number, type: string): [number, number] | null {
  let i = start
  while (i + 8 <= end) {
    const size = u32(b, i)
    if (size < 8 || i + size > end) return null
    if (fourcc(b, i + 4) === type) return [i, i + size]
    i += size
  }
  return null
}

function indexOf (b: Uint8Array, s: string, from = 0): number {
  outer: for (let i = from; i + s.length <= b.length; i++) {
    for (let k = 0; k < s.length; k++) if (b[i + k] !== s.charCodeAt(k)) continue outer
    return i
  }
  return -1
}

/**
 * The MSE MIME type of an initialisation segment (ftyp + moov): avc1.PPCCLL from the avcC box,
 * mp4a.40.2 when there is an AAC track.
 */
export function mimeOf (init: Uint8Array): string {
  const codecs: string[] = []
  const moov = findChild(init, 0, init.length, 'moov')
  const scope = moov ? init.subarray(moov[0], moov[1]) : init
  const avcC = indexOf(scope, 'avcC')
  if (avcC >= 0 && avcC + 8 <= scope.length) {
    const hex = (x: number): string => x.toString(16).padStart(2, '0')
    codecs.push(`avc1.${hex(scope[avcC + 5]!)}${hex(scope[avcC + 6]!)}${hex(scope[avcC + 7]!)}`)
  } else if (indexOf(scope, 'hvcC') >= 0) {
    codecs.push('hvc1.1.6.L93.B0')
  }
  if (indexOf(scope, 'mp4a') >= 0) codecs.push('mp4a.40.2')
  if (codecs.length === 0) codecs.push('avc1.42E01E')
  return `video/mp4; codecs="${codecs.join(', ')}"`
}

/** Reads ftyp + moov from the start of a stream: the initialisation segment. */
export async function readInit (chunks: AsyncIterable<Uint8Array>): Promise<Uint8Array> {
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

export function concat (parts: Uint8Array[]): Uint8Array {
  const n = parts.reduce((a, p) => a + p.length, 0)
  const out = new Uint8Array(n)
  let o = 0
  for (const p of parts) { out.set(p, o); o += p.length }
  return out
}
