/**
 * The two containers a browser plays while they grow, behind one face: fragmented MP4 (mp4.ts) and
 * WebM (webm.ts). Recognises the container from its first bytes, finds the initialisation segment,
 * names its MSE MIME type, and finds where a player can start in the middle of the stream (a moof,
 * a Cluster). Pure: no DOM, no Node.
 */
import { BoxReader, concat, findFragmentStart, mp4MimeOf } from './mp4.js'
import { findClusterStart, isWebM, webmInitLength, webmMimeOf } from './webm.js'

export type Container = 'mp4' | 'webm'

/** The container of a stream from its first bytes (at least 8), or null if it is neither. */
export function containerOf (b: Uint8Array): Container | null {
  if (isWebM(b)) return 'webm'
  if (b.length >= 8) {
    const t = String.fromCharCode(b[4]!, b[5]!, b[6]!, b[7]!)
    if (t === 'ftyp' || t === 'styp' || t === 'moov') return 'mp4'
  }
  return null
}

/** The MSE MIME type of an initialisation segment, with its codecs (e.g. `video/webm; codecs="vp9, opus"`). */
export function mimeOf (init: Uint8Array): string {
  const c = containerOf(init)
  if (c === 'webm') return webmMimeOf(init)
  if (c === 'mp4') return mp4MimeOf(init)
  throw new Error('neither fragmented MP4 nor WebM: the page plays only those')
}

/**
 * Length of the initialisation segment at the start of b (MP4: ftyp … moov; WebM: up to the first
 * Cluster), or -1 when more bytes are needed. Throws when the stream is neither container, or
 * its media begins before an initialisation segment.
 */
export function initLength (b: Uint8Array): number {
  if (b.length < 8) return -1
  const c = containerOf(b)
  if (c === 'webm') return webmInitLength(b)
  if (c !== 'mp4') throw new Error('neither fragmented MP4 nor WebM: the page plays only those')
  const r = new BoxReader()
  r.push(b)
  for (let box = r.next(); box; box = r.next()) {
    if (box.type === 'moof' || box.type === 'mdat') throw new Error('no moov before the first fragment')
    if (box.type === 'moov') return r.offset
  }
  return -1
}

/** Where a player can start inside b (a moof for MP4, a Cluster for WebM), or -1 if none yet. */
export function findMediaStart (container: Container, b: Uint8Array, from = 0): number {
  return container === 'webm' ? findClusterStart(b, from) : findFragmentStart(b, from)
}

/** A bound on how far into a stream its initialisation segment may end. */
const MAX_INIT_BYTES = 64 * 1024 * 1024

/**
 * Reads the initialisation segment from the start of a stream; `rest` is what followed it in the
 * chunks read (the first media bytes).
 */
export async function readInitAndRest (chunks: AsyncIterator<Uint8Array>): Promise<{ init: Uint8Array, rest: Uint8Array, container: Container }> {
  let buf: Uint8Array = new Uint8Array(0)
  for (;;) {
    const n = initLength(buf)
    if (n >= 0) return { init: buf.slice(0, n), rest: buf.subarray(n), container: containerOf(buf)! }
    if (buf.length > MAX_INIT_BYTES) throw new Error('no initialisation segment in the first 64 MiB')
    const x = await chunks.next()
    if (x.done) throw new Error(buf.length === 0 ? 'the stream is empty' : 'the stream ended before its initialisation segment')
    buf = concat([buf, x.value])
  }
}

/** Reads the initialisation segment (fragmented MP4 or WebM) from the start of a stream. */
export async function readInit (chunks: AsyncIterable<Uint8Array>): Promise<Uint8Array> {
  const it = chunks[Symbol.asyncIterator]()
  try {
    return (await readInitAndRest(it)).init
  } finally {
    await it.return?.()
  }
}
