/**
 * The broadcaster's signed state ("head") and the exact bytes that are signed.
 *
 * Signable (112 bytes, fixed layout, big-endian):
 *   0   15  "ut_live/1/head\0"      namespace (includes the protocol version)
 *   15  20  live infohash           binds the head to one broadcast (and so to the key)
 *   35   8  count                   pieces published
 *   43   8  length                  bytes published
 *   51   8  time                    broadcaster's clock, ms since the Unix epoch
 *   59   1  flags                   bit 0: ended
 *   60  32  commitment              chain value c[count]
 *   92  20  final infohash          zero unless ended
 */
import { ascii, concat, equal, readU64, view, writeU64 } from './bytes.js'
import { CHAIN_BYTES, FLAG_ENDED, INFOHASH_BYTES, MAX_PIECES, NAMESPACE_HEAD, SIGNATURE_BYTES } from './constants.js'
import { fail, ok, type Result } from './result.js'

export interface Head {
  count: number
  length: number
  time: number
  ended: boolean
  commitment: Uint8Array
  /** The final torrent's infohash once ended, else null. */
  finalInfoHash: Uint8Array | null
}

export interface SignedHead extends Head {
  signature: Uint8Array
}

/** Size of a head's body on the wire (the signable without namespace and infohash). */
export const HEAD_BODY_BYTES = 8 + 8 + 8 + 1 + CHAIN_BYTES + INFOHASH_BYTES // 77
export const SIGNABLE_BYTES = NAMESPACE_HEAD.length + INFOHASH_BYTES + HEAD_BODY_BYTES // 112

const NS = ascii(NAMESPACE_HEAD)
const ZERO20 = new Uint8Array(INFOHASH_BYTES)

export function encodeHeadBody (h: Head): Uint8Array {
  const out = new Uint8Array(HEAD_BODY_BYTES)
  const v = view(out)
  writeU64(v, 0, h.count)
  writeU64(v, 8, h.length)
  writeU64(v, 16, h.time)
  out[24] = h.ended ? FLAG_ENDED : 0
  out.set(h.commitment, 25)
  out.set(h.finalInfoHash ?? ZERO20, 25 + CHAIN_BYTES)
  return out
}

/** Decodes a head body and checks each field's range (not its meaning against a piece length). */
export function decodeHeadBody (b: Uint8Array): Result<Head> {
  if (b.length !== HEAD_BODY_BYTES) return fail('BAD_LENGTH', `head body is ${b.length} bytes, expected ${HEAD_BODY_BYTES}`)
  const v = view(b)
  const count = readU64(v, 0)
  const length = readU64(v, 8)
  const time = readU64(v, 16)
  const flags = b[24] as number
  if (count < 0 || count > MAX_PIECES) return fail('TOO_LARGE', 'head count out of range')
  if (length < 0) return fail('TOO_LARGE', 'head length out of range')
  if (time < 0) return fail('BAD_FIELD', 'head time out of range')
  if ((flags & ~FLAG_ENDED) !== 0) return fail('BAD_FIELD', `unknown head flags 0x${flags.toString(16)}`)
  const ended = (flags & FLAG_ENDED) !== 0
  const commitment = b.slice(25, 25 + CHAIN_BYTES)
  const fin = b.slice(25 + CHAIN_BYTES)
  const finIsZero = equal(fin, ZERO20)
  if (ended === finIsZero) return fail('BAD_FIELD', ended ? 'ended head without final infohash' : 'final infohash on a head that has not ended')
  return ok({ count, length, time, ended, commitment, finalInfoHash: ended ? fin : null })
}

/** The exact bytes the broadcaster signs. */
export function signable (infoHash: Uint8Array, h: Head): Uint8Array {
  if (infoHash.length !== INFOHASH_BYTES) throw new TypeError('infoHash must be 20 bytes')
  return concat([NS, infoHash, encodeHeadBody(h)])
}

/** Checks a head's counters against the stream's piece length: only full pieces until the end. */
export function checkHeadShape (h: Head, pieceLength: number): Result<Head> {
  if (h.count > MAX_PIECES) return fail('TOO_LARGE', 'too many pieces')
  if (!h.ended) {
    if (h.length !== h.count * pieceLength) return fail('BAD_FIELD', 'a live head must cover only full pieces')
  } else if (h.count === 0) {
    if (h.length !== 0) return fail('BAD_FIELD', 'an empty stream has no bytes')
  } else if (h.length <= (h.count - 1) * pieceLength || h.length > h.count * pieceLength) {
    return fail('BAD_FIELD', 'ended head length does not fit its piece count')
  }
  if (h.commitment.length !== CHAIN_BYTES) return fail('BAD_FIELD', 'commitment must be 32 bytes')
  return ok(h)
}

/** Heads are ordered by (count, ended): a higher rank is newer. */
export function rank (h: Head): number {
  return h.count * 2 + (h.ended ? 1 : 0)
}

/** Two heads "say the same" if they agree on everything that describes pieces. */
export function sameState (a: Head, b: Head): boolean {
  return a.count === b.count && a.length === b.length && a.ended === b.ended && equal(a.commitment, b.commitment) &&
    (a.finalInfoHash === null ? b.finalInfoHash === null : b.finalInfoHash !== null && equal(a.finalInfoHash, b.finalInfoHash))
}

export function pieceLengthAt (h: Head, index: number, pieceLength: number): number {
  if (index < 0 || index >= h.count) return 0
  if (index < h.count - 1) return pieceLength
  return h.length - (h.count - 1) * pieceLength
}

export { SIGNATURE_BYTES }
