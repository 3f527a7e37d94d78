/**
 * ut_live messages (the payload of a BEP 10 extended message whose id the peer assigned to ut_live).
 * Byte 0 is the message type; every integer is big-endian; no message exceeds MAX_MESSAGE_BYTES.
 *
 *   HEAD         01 ‖ body(77) ‖ signature(64) ‖ u16 n ‖ [anchor(32) ‖ n × sha1(20)]   (n ≤ 64, n ≤ count)
 *   HASH_REQUEST 02 ‖ u64 start ‖ u16 n                                               (1 ≤ n ≤ 512)
 *   HASHES       03 ‖ u64 start ‖ u16 n ‖ anchor(32) ‖ n × sha1(20)                      (1 ≤ n ≤ 512)
 *   HASH_REJECT  04 ‖ u64 start ‖ u16 n
 *   PUSH         05 ‖ u64 index ‖ u32 begin ‖ data                         (1 ≤ |data| ≤ 16 384, begin a multiple of 16 384)
 *
 * The end of a broadcast is announced by a HEAD whose ended flag is set. PUSH alone may exceed
 * MAX_MESSAGE_BYTES, up to MAX_PUSH_MESSAGE_BYTES (a block and its header, as BitTorrent's PIECE).
 */
import { readU64, view, writeU64 } from './bytes.js'
import {
  CHAIN_BYTES, MAX_MESSAGE_BYTES, MAX_PAGE_HASHES, MAX_PIECE_LENGTH, MAX_PIECES, MAX_PUSH_MESSAGE_BYTES, MAX_TAIL_HASHES,
  MSG_HASHES, MSG_HASH_REJECT, MSG_HASH_REQUEST, MSG_HEAD, MSG_PUSH, PIECE_HASH_BYTES, PUSH_BLOCK_BYTES, PUSH_HEADER_BYTES,
  SIGNATURE_BYTES
} from './constants.js'
import { HEAD_BODY_BYTES, decodeHeadBody, encodeHeadBody, type SignedHead } from './head.js'
import { fail, ok, type Result } from './result.js'

export interface Tail {
  /** c[count - n]: the chain value before the first tail hash. */
  anchor: Uint8Array
  /** n × 20 bytes: sha1 of pieces count-n … count-1. */
  hashes: Uint8Array
}

export type Message =
  | { type: 'head', head: SignedHead, tail: Tail | null }
  | { type: 'hash-request', start: number, count: number }
  | { type: 'hashes', start: number, anchor: Uint8Array, hashes: Uint8Array }
  | { type: 'hash-reject', start: number, count: number }
  | { type: 'push', index: number, begin: number, data: Uint8Array }

const RANGE_BYTES = 1 + 8 + 2

export function encode (m: Message): Uint8Array {
  switch (m.type) {
    case 'head': {
      const n = m.tail ? m.tail.hashes.length / PIECE_HASH_BYTES : 0
      if (!Number.isInteger(n) || n > MAX_TAIL_HASHES || n > m.head.count) throw new RangeError('bad tail')
      const out = new Uint8Array(1 + HEAD_BODY_BYTES + SIGNATURE_BYTES + 2 + (n > 0 ? CHAIN_BYTES + n * PIECE_HASH_BYTES : 0))
      out[0] = MSG_HEAD
      out.set(encodeHeadBody(m.head), 1)
      if (m.head.signature.length !== SIGNATURE_BYTES) throw new RangeError('signature must be 64 bytes')
      out.set(m.head.signature, 1 + HEAD_BODY_BYTES)
      let o = 1 + HEAD_BODY_BYTES + SIGNATURE_BYTES
      view(out).setUint16(o, n); o += 2
      if (n > 0 && m.tail) { out.set(m.tail.anchor, o); out.set(m.tail.hashes, o + CHAIN_BYTES) }
      return out
    }
    case 'hash-request':
    case 'hash-reject': {
      checkRange(m.start, m.count)
      const out = new Uint8Array(RANGE_BYTES)
      out[0] = m.type === 'hash-request' ? MSG_HASH_REQUEST : MSG_HASH_REJECT
      writeU64(view(out), 1, m.start)
      view(out).setUint16(9, m.count)
      return out
    }
    case 'hashes': {
      const n = m.hashes.length / PIECE_HASH_BYTES
      checkRange(m.start, n)
      if (m.anchor.length !== CHAIN_BYTES) throw new RangeError('anchor must be 32 bytes')
      const out = new Uint8Array(RANGE_BYTES + CHAIN_BYTES + m.hashes.length)
      out[0] = MSG_HASHES
      writeU64(view(out), 1, m.start)
      view(out).setUint16(9, n)
      out.set(m.anchor, RANGE_BYTES)
      out.set(m.hashes, RANGE_BYTES + CHAIN_BYTES)
      return out
    }
    case 'push': {
      checkPush(m.index, m.begin, m.data.length)
      const out = new Uint8Array(PUSH_HEADER_BYTES + m.data.length)
      out[0] = MSG_PUSH
      writeU64(view(out), 1, m.index)
      view(out).setUint32(9, m.begin)
      out.set(m.data, PUSH_HEADER_BYTES)
      return out
    }
  }
}

function checkPush (index: number, begin: number, n: number): void {
  if (!Number.isInteger(index) || index < 0 || index >= MAX_PIECES) throw new RangeError('push index out of range')
  if (!Number.isInteger(begin) || begin < 0 || begin % PUSH_BLOCK_BYTES !== 0) throw new RangeError(`push begin must be a multiple of ${PUSH_BLOCK_BYTES}`)
  if (n < 1 || n > PUSH_BLOCK_BYTES || begin + n > MAX_PIECE_LENGTH) throw new RangeError(`push block must be 1..${PUSH_BLOCK_BYTES} bytes within a piece`)
}

function checkRange (start: number, n: number): void {
  if (!Number.isInteger(n) || n < 1 || n > MAX_PAGE_HASHES) throw new RangeError(`page size must be 1..${MAX_PAGE_HASHES}`)
  if (!Number.isInteger(start) || start < 0 || start + n > MAX_PIECES) throw new RangeError('page out of range')
}

function decodeRange (b: Uint8Array): Result<{ start: number, count: number }> {
  const v = view(b)
  const start = readU64(v, 1)
  const count = v.getUint16(9)
  if (count < 1 || count > MAX_PAGE_HASHES) return fail('TOO_LARGE', `page of ${count} hashes`)
  if (start < 0 || start + count > MAX_PIECES) return fail('TOO_LARGE', 'page beyond the piece limit')
  return ok({ start, count })
}

/** Decodes one message. Never throws; rejects unknown types, short or long messages and bad fields. */
export function decode (b: Uint8Array): Result<Message> {
  if (!(b instanceof Uint8Array) || b.length === 0) return fail('BAD_LENGTH', 'empty message')
  if (b.length > MAX_PUSH_MESSAGE_BYTES) return fail('TOO_LARGE', `message of ${b.length} bytes`)
  const type = b[0]
  if (b.length > MAX_MESSAGE_BYTES && type !== MSG_PUSH) return fail('TOO_LARGE', `message of ${b.length} bytes`)
  switch (type) {
    case MSG_HEAD: {
      const fixed = 1 + HEAD_BODY_BYTES + SIGNATURE_BYTES + 2
      if (b.length < fixed) return fail('BAD_LENGTH', 'truncated HEAD')
      const body = decodeHeadBody(b.subarray(1, 1 + HEAD_BODY_BYTES))
      if (!body.ok) return body
      const signature = b.slice(1 + HEAD_BODY_BYTES, 1 + HEAD_BODY_BYTES + SIGNATURE_BYTES)
      const n = view(b).getUint16(fixed - 2)
      if (n > MAX_TAIL_HASHES) return fail('TOO_LARGE', `tail of ${n} hashes`)
      if (n > body.value.count) return fail('BAD_FIELD', 'tail longer than the stream')
      const want = fixed + (n > 0 ? CHAIN_BYTES + n * PIECE_HASH_BYTES : 0)
      if (b.length < want) return fail('BAD_LENGTH', 'truncated HEAD tail')
      if (b.length > want) return fail('TRAILING_BYTES', 'bytes after HEAD')
      const tail = n > 0 ? { anchor: b.slice(fixed, fixed + CHAIN_BYTES), hashes: b.slice(fixed + CHAIN_BYTES, want) } : null
      return ok({ type: 'head', head: { ...body.value, signature }, tail })
    }
    case MSG_HASH_REQUEST:
    case MSG_HASH_REJECT: {
      if (b.length < RANGE_BYTES) return fail('BAD_LENGTH', 'truncated range')
      if (b.length > RANGE_BYTES) return fail('TRAILING_BYTES', 'bytes after range')
      const r = decodeRange(b)
      if (!r.ok) return r
      return ok({ type: type === MSG_HASH_REQUEST ? 'hash-request' : 'hash-reject', start: r.value.start, count: r.value.count })
    }
    case MSG_HASHES: {
      if (b.length < RANGE_BYTES + CHAIN_BYTES) return fail('BAD_LENGTH', 'truncated HASHES')
      const r = decodeRange(b)
      if (!r.ok) return r
      const want = RANGE_BYTES + CHAIN_BYTES + r.value.count * PIECE_HASH_BYTES
      if (b.length < want) return fail('BAD_LENGTH', 'truncated HASHES')
      if (b.length > want) return fail('TRAILING_BYTES', 'bytes after HASHES')
      return ok({ type: 'hashes', start: r.value.start, anchor: b.slice(RANGE_BYTES, RANGE_BYTES + CHAIN_BYTES), hashes: b.slice(RANGE_BYTES + CHAIN_BYTES) })
    }
    case MSG_PUSH: {
      if (b.length <= PUSH_HEADER_BYTES) return fail('BAD_LENGTH', 'PUSH without data')
      const v = view(b)
      const index = readU64(v, 1)
      if (index < 0 || index >= MAX_PIECES) return fail('TOO_LARGE', 'push beyond the piece limit')
      const begin = v.getUint32(9)
      if (begin % PUSH_BLOCK_BYTES !== 0) return fail('BAD_FIELD', `push begin ${begin} is not a multiple of ${PUSH_BLOCK_BYTES}`)
      if (begin + b.length - PUSH_HEADER_BYTES > MAX_PIECE_LENGTH) return fail('TOO_LARGE', 'push block beyond the largest piece')
      return ok({ type: 'push', index, begin, data: b.slice(PUSH_HEADER_BYTES) })
    }
    default:
      return fail('BAD_TYPE', `unknown message type ${String(type)}`)
  }
}
