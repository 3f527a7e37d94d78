/**
 * Just enough WebM (Matroska's EBML) to feed a growing WebM stream to Media Source Extensions, as
 * browsers' MediaRecorder and `ffmpeg -f webm` write it: the initialisation segment (the EBML
 * header and the Segment up to its first Cluster), the codecs of its track entries, and where a
 * Cluster starts in the middle of a stream (a live-edge start). Pure: no DOM, no Node.
 *
 *   element      ID          inside      used for
 *   EBML         1A 45 DF A3 (top)       recognising WebM
 *   Segment      18 53 80 67 (top)       size often unknown (live)
 *   Tracks       16 54 AE 6B Segment
 *   TrackEntry   AE          Tracks
 *   CodecID      86          TrackEntry  V_VP8, V_VP9, V_AV1, A_OPUS, A_VORBIS
 *   CodecPrivate 63 A2       TrackEntry  V_AV1: an av1C record
 *   Cluster      1F 43 B6 75 Segment     media; size often unknown (live)
 *   Timestamp    E7          Cluster     its first child
 */
import { av1Codec } from './codecs.js'

const EBML = 0x1a45dfa3
const SEGMENT = 0x18538067
const CLUSTER = 0x1f43b675
const TRACKS = 0x1654ae6b
const TRACK_ENTRY = 0xae
const CODEC_ID = 0x86
const CODEC_PRIVATE = 0x63a2
const TIMESTAMP = 0xe7
/** Elements that may follow a Cluster at the Segment's level. */
const AFTER_CLUSTER = new Set([CLUSTER, 0x1c53bb6b /* Cues */, 0x1254c367 /* Tags */, 0x1941a469 /* Attachments */, 0x1043a770 /* Chapters */, EBML])
/** Where the first Cluster must have begun: an initialisation segment is small. */
const MAX_INIT = 4 * 1024 * 1024
/** A bound on the elements walked at one level. */
const MAX_ELEMENTS = 4096

interface Header {
  id: number
  /** Payload size, or null for "unknown" (all value bits set). */
  size: number | null
  /** Length of the ID and size fields. */
  headerLength: number
}

/** A variable-size integer at i: [value, length, all value bits set], or null if not all there / invalid. */
function vint (b: Uint8Array, i: number, keepMarker: boolean): [number, number, boolean] | null {
  if (i >= b.length) return null
  const first = b[i]!
  if (first === 0) return null
  const len = Math.clz32(first) - 23 // 1 for 0b1xxxxxxx … 8 for 0b00000001
  if (i + len > b.length) return null
  let v = keepMarker ? first : first & (0xff >> len)
  let ones = ((first | (0xff << (8 - len))) & 0xff) === 0xff
  for (let k = 1; k < len; k++) {
    v = v * 256 + b[i + k]!
    if (b[i + k] !== 0xff) ones = false
  }
  return [v, len, ones]
}

/** The element header at i, or null when more bytes are needed (throws on an invalid one). */
function header (b: Uint8Array, i: number): Header | null {
  if (i >= b.length) return null
  if (b[i]! < 0x10) throw new Error(`invalid EBML element ID at byte ${i}`) // IDs are 1 to 4 bytes
  const id = vint(b, i, true)
  if (!id) return null
  const size = vint(b, i + id[1], false)
  if (!size) {
    if (i + id[1] < b.length && b[i + id[1]] === 0) throw new Error(`invalid EBML size at byte ${i + id[1]}`)
    return null
  }
  return { id: id[0], size: size[2] ? null : size[0], headerLength: id[1] + size[1] }
}

/** Whether these bytes begin a WebM/Matroska stream (the EBML header's ID). */
export function isWebM (b: Uint8Array): boolean {
  return b.length >= 4 && b[0] === 0x1a && b[1] === 0x45 && b[2] === 0xdf && b[3] === 0xa3
}

/**
 * Length of the initialisation segment at the start of b (EBML header + Segment header + the
 * Segment's elements before its first Cluster), or -1 when more bytes are needed. Throws when the
 * bytes are not WebM or have no Cluster within MAX_INIT.
 */
export function webmInitLength (b: Uint8Array): number {
  if (b.length < 4) return -1
  if (!isWebM(b)) throw new Error('not a WebM stream (no EBML header)')
  const ebml = header(b, 0)
  if (!ebml) return -1
  if (ebml.size === null) throw new Error('the EBML header has an unknown size')
  let i = ebml.headerLength + ebml.size
  const seg = header(b, i)
  if (!seg) return b.length > MAX_INIT ? fail() : -1
  if (seg.id !== SEGMENT) throw new Error('no Segment after the EBML header')
  i += seg.headerLength
  for (let n = 0; n < MAX_ELEMENTS; n++) {
    if (i > MAX_INIT) return fail()
    if (i + 4 > b.length) return -1
    if (b[i] === 0x1f && b[i + 1] === 0x43 && b[i + 2] === 0xb6 && b[i + 3] === 0x75) return i // the first Cluster
    const h = header(b, i)
    if (!h) return -1
    if (h.size === null) throw new Error('an element of unknown size before the first Cluster')
    i += h.headerLength + h.size
  }
  return fail()
}

function fail (): never {
  throw new Error(`no Cluster in the first ${MAX_INIT} bytes: not a streamable WebM`)
}

/** The children of the element whose payload is [start, end): [id, payload start, payload end]. */
function elements (b: Uint8Array, start: number, end: number): Array<[number, number, number]> {
  const out: Array<[number, number, number]> = []
  for (let i = start; i < end && out.length < MAX_ELEMENTS;) {
    const h = header(b, i)
    if (!h || h.size === null || i + h.headerLength + h.size > end) break
    out.push([h.id, i + h.headerLength, i + h.headerLength + h.size])
    i += h.headerLength + h.size
  }
  return out
}

const CODECS: Record<string, { video: boolean, codec: string | ((priv: Uint8Array | null) => string | null) }> = {
  V_VP8: { video: true, codec: 'vp8' },
  V_VP9: { video: true, codec: 'vp9' },
  V_AV1: { video: true, codec: (priv) => priv ? av1Codec(priv) : null },
  A_OPUS: { video: false, codec: 'opus' },
  A_VORBIS: { video: false, codec: 'vorbis' }
}

/** The codecs of a WebM initialisation segment, one per track entry in order. */
export function webmCodecs (init: Uint8Array): { codecs: string[], video: boolean } {
  const len = webmInitLength(init)
  const end = len < 0 ? init.length : len
  const ebml = header(init, 0)
  const segStart = ebml ? ebml.headerLength + ebml.size! : init.length
  const seg = header(init, segStart)
  if (!seg) throw new Error('the initialisation segment ends before its Segment')
  const top = elements(init, segStart + seg.headerLength, end)
  const tracks = top.find(([id]) => id === TRACKS)
  if (!tracks) throw new Error('no Tracks element in the initialisation segment')
  const codecs: string[] = []
  let video = false
  for (const [id, s, e] of elements(init, tracks[1], tracks[2])) {
    if (id !== TRACK_ENTRY) continue
    const fields = elements(init, s, e)
    const cid = fields.find(([x]) => x === CODEC_ID)
    const priv = fields.find(([x]) => x === CODEC_PRIVATE)
    const name = cid ? String.fromCharCode(...init.subarray(cid[1], Math.min(cid[2], cid[1] + 64))).replace(/\0+$/, '') : '(none)'
    const known = CODECS[name]
    if (!known) throw new Error(`cannot name the codec: no MSE codec string known for WebM CodecID '${name.replace(/[^\x20-\x7e]/g, '?')}'`)
    const codec = typeof known.codec === 'string' ? known.codec : known.codec(priv ? init.subarray(priv[1], priv[2]) : null)
    if (!codec) throw new Error(`cannot name the codec: the ${name} track's CodecPrivate is ${priv ? 'malformed' : 'missing'}`)
    codecs.push(codec)
    video ||= known.video
  }
  if (codecs.length === 0) throw new Error('no track entries in the initialisation segment')
  return { codecs, video }
}

/** The MSE MIME type of a WebM initialisation segment: video/webm or audio/webm, with its codecs. */
export function webmMimeOf (init: Uint8Array): string {
  const { codecs, video } = webmCodecs(init)
  return `${video ? 'video' : 'audio'}/webm; codecs="${codecs.join(', ')}"`
}

/**
 * The offset of the first Cluster in b at or after `from` whose header is followed by its
 * Timestamp element and, when its size is known and its end is there, by another top-level
 * element: where a player can start in the middle of a WebM stream. -1 if none yet.
 */
export function findClusterStart (b: Uint8Array, from = 0): number {
  for (let i = from; i + 4 <= b.length; i++) {
    if (b[i] !== 0x1f || b[i + 1] !== 0x43 || b[i + 2] !== 0xb6 || b[i + 3] !== 0x75) continue
    try {
      const h = header(b, i)
      if (!h) return -1
      const ts = header(b, i + h.headerLength)
      if (!ts) return -1
      if (ts.id !== TIMESTAMP || ts.size === null || ts.size < 1 || ts.size > 8) continue
      if (h.size !== null) {
        const next = i + h.headerLength + h.size
        if (next + 4 <= b.length) {
          const n = header(b, next)
          if (n && !AFTER_CLUSTER.has(n.id)) continue
        }
      }
      return i
    } catch {
      continue // not an element header here: bytes of a frame that look like a Cluster ID
    }
  }
  return -1
}
