/**
 * Generates the ut_live version 1 test vectors (test/vectors/ut_live-v1.json).
 *
 *   node dist/scripts/make-vectors.js           prints the JSON
 *   node dist/scripts/make-vectors.js --write   writes test/vectors/ut_live-v1.json
 *
 * Everything is deterministic: a fixed Ed25519 seed, a fixed nonce, a fixed name, piece data from
 * a fixed xorshift32 generator and fixed clock values. Ed25519 signatures (RFC 8032) are
 * deterministic, so running this twice gives byte-identical output. test/vectors/vectors.test.ts
 * recomputes every value independently and compares it with the committed file.
 */
import { mkdirSync, writeFileSync } from 'node:fs'
import { pathToFileURL } from 'node:url'
import {
  CHAIN_BYTES, FLAG_ENDED, MAX_MESSAGE_BYTES, MAX_PAGE_HASHES, MAX_PIECES, MAX_TAIL_HASHES, MAX_WINDOW, MSG_HASHES,
  MSG_HASH_REJECT, MSG_HASH_REQUEST, MSG_HEAD, MSG_PUSH, PROTOCOL_VERSION, SIGNATURE_BYTES, MAX_PIECE_LENGTH, PUSH_HEADER_BYTES,
  HEAD_BODY_BYTES, MAX_NAME_BYTES, SIGNATURE_METHOD, concat, createFinalInfo, createLiveInfo, decode, encode, encodeInfo, fromHex, genesis,
  infoHashOf, pureHashes, runChain, signable, step, toHex, view, writeU64,
  type ErrorCode, type Head, type SignedHead
} from '../lib/protocol/index.js'
import { nativeEd25519 } from '../lib/crypto/native-node.js'
import { strictVectors } from './strict-vectors.js'

// ---- fixed parameters --------------------------------------------------------------------------

export const SEED_HEX = '000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f'
export const NONCE_HEX = 'f0f1f2f3f4f5f6f7f8f9fafbfcfdfeff'
export const NAME = 'vector.bin'
export const PIECE_LENGTH = 16384
/** 3 full pieces and a short fourth one. */
export const DATA_LENGTH = 3 * PIECE_LENGTH + 1000
/** The window of the windowed live info dict vector (pieces). */
export const WINDOW = 90
export const XORSHIFT_STATE = 0x75746c76 // "utlv"
export const LIVE_TIME = 1700000000000
export const END_TIME = 1700000004000

/** xorshift32 (Marsaglia, shifts 13/17/5): each output byte is the low byte of the next state. */
export function pieceData (length: number, state = XORSHIFT_STATE): Uint8Array {
  const out = new Uint8Array(length)
  let x = state >>> 0
  for (let i = 0; i < length; i++) {
    x ^= x << 13; x >>>= 0
    x ^= x >>> 17
    x ^= x << 5; x >>>= 0
    out[i] = x & 0xff
  }
  return out
}

// ---- invalid messages ---------------------------------------------------------------------------

interface Invalid { description: string, hex: string, error: ErrorCode }

function withByte (b: Uint8Array, offset: number, value: number): Uint8Array {
  const c = b.slice(); c[offset] = value; return c
}
/** 2^53 as a big-endian u64: the smallest value every u64 field rejects. */
const U64_2_53 = Uint8Array.of(0, 0x20, 0, 0, 0, 0, 0, 0)
function withBytes (b: Uint8Array, offset: number, bytes: Uint8Array): Uint8Array {
  const c = b.slice(); c.set(bytes, offset); return c
}
function withU64 (b: Uint8Array, offset: number, value: number): Uint8Array {
  const c = b.slice(); writeU64(view(c), offset, value); return c
}
function withU16 (b: Uint8Array, offset: number, value: number): Uint8Array {
  const c = b.slice(); view(c).setUint16(offset, value); return c
}
function range (type: number, start: number, n: number): Uint8Array {
  const b = new Uint8Array(11); b[0] = type; writeU64(view(b), 1, start); view(b).setUint16(9, n); return b
}

// Offsets inside a HEAD message (byte 0 is the type).
const H_COUNT = 1
const H_TIME = 1 + 16
const H_FLAGS = 1 + 24
const H_FINAL = 1 + 25 + CHAIN_BYTES
const H_SIG = 1 + HEAD_BODY_BYTES
const H_N = H_SIG + SIGNATURE_BYTES
const H_FIXED = H_N + 2

function u32 (n: number): Uint8Array { const b = new Uint8Array(4); new DataView(b.buffer).setUint32(0, n); return b }

function invalidMessages (headNoTail: Uint8Array, headTail: Uint8Array, endMsg: Uint8Array, hashes: Uint8Array, push: Uint8Array): Invalid[] {
  const list: Invalid[] = [
    { description: 'empty message', hex: '', error: 'BAD_LENGTH' },
    { description: 'unknown message type 0x00', hex: '00', error: 'BAD_TYPE' },
    { description: 'unknown message type 0x06 followed by a range', hex: toHex(range(0x06, 0, 1)), error: 'BAD_TYPE' },
    { description: 'unknown message type 0x06 of MAX_MESSAGE_BYTES + 1 bytes (only PUSH may be longer)', hex: toHex(concat([Uint8Array.of(0x06), new Uint8Array(MAX_MESSAGE_BYTES)])), error: 'TOO_LARGE' },
    { description: 'PUSH without data', hex: toHex(push.subarray(0, PUSH_HEADER_BYTES)), error: 'BAD_LENGTH' },
    { description: 'PUSH of PUSH_BLOCK_BYTES + 1 bytes of data', hex: toHex(concat([push, Uint8Array.of(0)])), error: 'TOO_LARGE' },
    { description: 'PUSH index MAX_PIECES', hex: toHex(withU64(push, 1, MAX_PIECES)), error: 'TOO_LARGE' },
    { description: 'PUSH index exactly 2^53', hex: toHex(withBytes(push, 1, U64_2_53)), error: 'TOO_LARGE' },
    { description: 'PUSH begin 1 (not a multiple of PUSH_BLOCK_BYTES)', hex: toHex(withBytes(push, 9, Uint8Array.of(0, 0, 0, 1))), error: 'BAD_FIELD' },
    { description: 'PUSH block reaching past MAX_PIECE_LENGTH', hex: toHex(withBytes(push, 9, u32(MAX_PIECE_LENGTH))), error: 'TOO_LARGE' },
    { description: 'message longer than MAX_MESSAGE_BYTES', hex: toHex(concat([Uint8Array.of(MSG_HASHES), new Uint8Array(MAX_MESSAGE_BYTES)])), error: 'TOO_LARGE' },
    { description: 'HEAD truncated inside the fixed part', hex: toHex(headNoTail.subarray(0, H_FIXED - 1)), error: 'BAD_LENGTH' },
    { description: 'HEAD without tail followed by one extra byte', hex: toHex(concat([headNoTail, Uint8Array.of(0)])), error: 'TRAILING_BYTES' },
    { description: 'HEAD with tail followed by one extra byte', hex: toHex(concat([headTail, Uint8Array.of(0)])), error: 'TRAILING_BYTES' },
    { description: 'HEAD whose tail is one byte short', hex: toHex(headTail.subarray(0, headTail.length - 1)), error: 'BAD_LENGTH' },
    { description: 'HEAD announcing a tail (n = 1) but carrying none', hex: toHex(withU16(headNoTail, H_N, 1)), error: 'BAD_LENGTH' },
    { description: 'HEAD with unknown flag bit 0x02', hex: toHex(withByte(headNoTail, H_FLAGS, 0x02)), error: 'BAD_FIELD' },
    { description: 'HEAD with ended flag but zero final infohash', hex: toHex(withByte(headNoTail, H_FLAGS, FLAG_ENDED)), error: 'BAD_FIELD' },
    { description: 'HEAD without ended flag but with a final infohash', hex: toHex(withByte(endMsg, H_FLAGS, 0)), error: 'BAD_FIELD' },
    { description: 'HEAD with final infohash set on a live head', hex: toHex(withByte(headNoTail, H_FINAL + 19, 1)), error: 'BAD_FIELD' },
    { description: 'HEAD count above MAX_PIECES', hex: toHex(withU64(headNoTail, H_COUNT, MAX_PIECES + 1)), error: 'TOO_LARGE' },
    { description: 'HEAD count above 2^53', hex: toHex(withByte(headNoTail, H_COUNT, 0x80)), error: 'TOO_LARGE' },
    { description: 'HEAD time above 2^53', hex: toHex(withByte(headNoTail, H_TIME, 0xff)), error: 'BAD_FIELD' },
    { description: 'HEAD tail of MAX_TAIL_HASHES + 1 hashes', hex: toHex(withU16(headNoTail, H_N, MAX_TAIL_HASHES + 1)), error: 'TOO_LARGE' },
    { description: 'HEAD tail longer than the head count (n = 4, count = 3)', hex: toHex(withU16(headNoTail, H_N, 4)), error: 'BAD_FIELD' },
    { description: 'HASH_REQUEST one byte short', hex: toHex(range(MSG_HASH_REQUEST, 0, 3).subarray(0, 10)), error: 'BAD_LENGTH' },
    { description: 'HASH_REQUEST followed by one extra byte', hex: toHex(concat([range(MSG_HASH_REQUEST, 0, 3), Uint8Array.of(0)])), error: 'TRAILING_BYTES' },
    { description: 'HASH_REQUEST for zero hashes', hex: toHex(range(MSG_HASH_REQUEST, 0, 0)), error: 'TOO_LARGE' },
    { description: 'HASH_REQUEST for MAX_PAGE_HASHES + 1 hashes', hex: toHex(range(MSG_HASH_REQUEST, 0, MAX_PAGE_HASHES + 1)), error: 'TOO_LARGE' },
    { description: 'HASH_REQUEST reaching past MAX_PIECES', hex: toHex(range(MSG_HASH_REQUEST, MAX_PIECES - 1, 2)), error: 'TOO_LARGE' },
    { description: 'HASH_REQUEST start above 2^53', hex: toHex(withByte(range(MSG_HASH_REQUEST, 0, 1), 1, 0xff)), error: 'TOO_LARGE' },
    { description: 'HASH_REJECT followed by one extra byte', hex: toHex(concat([range(MSG_HASH_REJECT, 0, 3), Uint8Array.of(0)])), error: 'TRAILING_BYTES' },
    { description: 'HASH_REJECT for zero hashes', hex: toHex(range(MSG_HASH_REJECT, 0, 0)), error: 'TOO_LARGE' },
    { description: 'HASHES without its anchor', hex: toHex(hashes.subarray(0, 11)), error: 'BAD_LENGTH' },
    { description: 'HASHES one byte short', hex: toHex(hashes.subarray(0, hashes.length - 1)), error: 'BAD_LENGTH' },
    { description: 'HASHES followed by one extra byte', hex: toHex(concat([hashes, Uint8Array.of(0)])), error: 'TRAILING_BYTES' },
    { description: 'HASHES carrying zero hashes', hex: toHex(withU16(hashes.subarray(0, 11 + CHAIN_BYTES), 9, 0)), error: 'TOO_LARGE' },
    { description: 'HASHES announcing MAX_PAGE_HASHES + 1 hashes', hex: toHex(withU16(hashes, 9, MAX_PAGE_HASHES + 1)), error: 'TOO_LARGE' },
    // The 2^53 boundary: exactly 2^53 is already rejected ("at or above").
    { description: 'HEAD count exactly 2^53', hex: toHex(withBytes(headNoTail, H_COUNT, U64_2_53)), error: 'TOO_LARGE' },
    { description: 'HEAD length exactly 2^53', hex: toHex(withBytes(headNoTail, H_COUNT + 8, U64_2_53)), error: 'TOO_LARGE' },
    { description: 'HEAD time exactly 2^53', hex: toHex(withBytes(headNoTail, H_TIME, U64_2_53)), error: 'BAD_FIELD' },
    { description: 'HASH_REQUEST start exactly 2^53', hex: toHex(withBytes(range(MSG_HASH_REQUEST, 0, 1), 1, U64_2_53)), error: 'TOO_LARGE' },
    { description: 'HASHES start exactly 2^53', hex: toHex(withBytes(hashes, 1, U64_2_53)), error: 'TOO_LARGE' },
    // HASH_REJECT's n obeys the same rules as the request it answers.
    { description: 'HASH_REJECT for MAX_PAGE_HASHES + 1 hashes', hex: toHex(range(MSG_HASH_REJECT, 0, MAX_PAGE_HASHES + 1)), error: 'TOO_LARGE' },
    { description: 'HASH_REJECT reaching past MAX_PIECES', hex: toHex(range(MSG_HASH_REJECT, MAX_PIECES - 1, 2)), error: 'TOO_LARGE' },
    { description: 'HASH_REJECT start exactly 2^53', hex: toHex(withBytes(range(MSG_HASH_REJECT, 0, 1), 1, U64_2_53)), error: 'TOO_LARGE' },
    { description: 'HASH_REJECT one byte short', hex: toHex(range(MSG_HASH_REJECT, 0, 3).subarray(0, 10)), error: 'BAD_LENGTH' }
  ]
  // The generator must agree with the decoder; a mismatch is a bug in one of them.
  for (const v of list) {
    const r = decode(fromHex(v.hex))
    if (r.ok || r.code !== v.error) throw new Error(`invalid vector "${v.description}": decoder says ${r.ok ? 'ok' : r.code}, vector says ${v.error}`)
  }
  return list
}

// ---- the vectors ---------------------------------------------------------------------------------

function headJson (name: string, infoHash: Uint8Array, h: SignedHead, extra: Record<string, unknown>): Record<string, unknown> {
  return {
    name,
    count: h.count,
    length: h.length,
    time: h.time,
    ended: h.ended,
    commitment: toHex(h.commitment),
    ...extra,
    finalInfoHash: h.finalInfoHash ? toHex(h.finalInfoHash) : null,
    signable: toHex(signable(infoHash, h)),
    signature: toHex(h.signature)
  }
}

export async function makeVectors (): Promise<Record<string, unknown>> {
  const ed = nativeEd25519
  if (!ed) throw new Error('node:crypto Ed25519 is not available')
  const hashes = pureHashes
  const seed = fromHex(SEED_HEX)
  const nonce = fromHex(NONCE_HEX)
  const publicKey = await ed.publicKey(seed)

  // Live info dict and its infohash.
  const infoBytes = encodeInfo(createLiveInfo({ name: NAME, pieceLength: PIECE_LENGTH, publicKey, nonce }))
  const infoHash = infoHashOf(hashes, infoBytes)
  // The same broadcast with a window of 90 pieces (spec §2 `live.window`): another dict, another infohash.
  const windowedInfoBytes = encodeInfo(createLiveInfo({ name: NAME, pieceLength: PIECE_LENGTH, publicKey, nonce, window: WINDOW }))

  // Broadcast bytes, pieces and chain.
  const data = pieceData(DATA_LENGTH)
  const count = Math.ceil(DATA_LENGTH / PIECE_LENGTH)
  const pieceHashes: Uint8Array[] = []
  for (let i = 0; i < count; i++) pieceHashes.push(hashes.sha1(data.subarray(i * PIECE_LENGTH, Math.min(DATA_LENGTH, (i + 1) * PIECE_LENGTH))))
  const chain: Uint8Array[] = [genesis(hashes, infoHash)]
  for (let i = 0; i < count; i++) chain.push(step(hashes, chain[i]!, pieceHashes[i]!))
  const flat = concat(pieceHashes)
  if (toHex(runChain(hashes, chain[0]!, flat)) !== toHex(chain[count]!)) throw new Error('runChain disagrees with step')

  // Heads: live at 3 full pieces; ended at 4 pieces with a short last piece.
  const liveHead: Head = { count: 3, length: 3 * PIECE_LENGTH, time: LIVE_TIME, ended: false, commitment: chain[3]!, finalInfoHash: null }
  const finalInfoBytes = encodeInfo(createFinalInfo(NAME, PIECE_LENGTH, DATA_LENGTH, flat))
  const finalInfoHash = infoHashOf(hashes, finalInfoBytes)
  const endHead: Head = { count, length: DATA_LENGTH, time: END_TIME, ended: true, commitment: chain[count]!, finalInfoHash }
  const live: SignedHead = { ...liveHead, signature: await ed.sign(seed, signable(infoHash, liveHead)) }
  const end: SignedHead = { ...endHead, signature: await ed.sign(seed, signable(infoHash, endHead)) }

  // Messages.
  const liveTail = { anchor: chain[1]!, hashes: concat(pieceHashes.slice(1, 3)) }
  const headNoTail = encode({ type: 'head', head: live, tail: null })
  const headTail = encode({ type: 'head', head: live, tail: liveTail })
  const endTail = { anchor: chain[3]!, hashes: pieceHashes[3]! }
  const endMsg = encode({ type: 'head', head: end, tail: endTail })
  const hashReq = encode({ type: 'hash-request', start: 0, count: 3 })
  const hashesMsg = encode({ type: 'hashes', start: 0, anchor: chain[0]!, hashes: concat(pieceHashes.slice(0, 3)) })
  const hashReject = encode({ type: 'hash-reject', start: 0, count: MAX_PAGE_HASHES })
  const pushFull = encode({ type: 'push', index: 1, begin: 0, data: data.subarray(PIECE_LENGTH, 2 * PIECE_LENGTH) })
  const pushLast = encode({ type: 'push', index: 3, begin: 0, data: data.subarray(3 * PIECE_LENGTH) })

  // A few heads that decode but must not be accepted (signature or shape).
  const badSig = headNoTail.slice(); badSig[H_SIG] = (badSig[H_SIG] as number) ^ 0x01
  const otherTime = withU64(headNoTail, H_TIME, LIVE_TIME + 1) // signed fields changed, signature kept
  const partialLive: Head = { ...liveHead, length: 3 * PIECE_LENGTH - 1 }
  const partialLiveMsg = encode({ type: 'head', head: { ...partialLive, signature: await ed.sign(seed, signable(infoHash, partialLive)) }, tail: null })
  const endTooLong: Head = { ...endHead, length: 4 * PIECE_LENGTH + 1 }
  const endTooLongMsg = encode({ type: 'head', head: { ...endTooLong, signature: await ed.sign(seed, signable(infoHash, endTooLong)) }, tail: null })
  const endFull: Head = { ...endHead, length: 3 * PIECE_LENGTH }
  const endFullMsg = encode({ type: 'head', head: { ...endFull, signature: await ed.sign(seed, signable(infoHash, endFull)) }, tail: null })

  return {
    description: 'ut_live version 1 test vectors. Generated by scripts/make-vectors.ts; checked by test/vectors/vectors.test.ts. All byte strings are lowercase hex.',
    protocolVersion: PROTOCOL_VERSION,
    parameters: {
      ed25519Seed: SEED_HEX,
      publicKey: toHex(publicKey),
      nonce: NONCE_HEX,
      name: NAME,
      pieceLength: PIECE_LENGTH,
      dataLength: DATA_LENGTH,
      generator: {
        algorithm: 'xorshift32',
        state: XORSHIFT_STATE,
        rule: 'for each byte: x ^= x << 13; x ^= x >>> 17; x ^= x << 5 (32-bit unsigned); emit x & 0xff',
        firstBytes: toHex(data.subarray(0, 16)),
        sha256: toHex(hashes.sha256(data))
      }
    },
    liveInfo: {
      bencoded: toHex(infoBytes),
      infoHash: toHex(infoHash)
    },
    windowedLiveInfo: {
      window: WINDOW,
      bencoded: toHex(windowedInfoBytes),
      infoHash: toHex(infoHashOf(hashes, windowedInfoBytes))
    },
    pieces: pieceHashes.map((h, i) => ({ index: i, length: Math.min(PIECE_LENGTH, DATA_LENGTH - i * PIECE_LENGTH), sha1: toHex(h) })),
    chain: chain.map(toHex),
    heads: [
      headJson('live', infoHash, live, {}),
      headJson('ended', infoHash, end, { finalInfo: toHex(finalInfoBytes) })
    ],
    messages: [
      { name: 'HEAD (live, no tail)', type: MSG_HEAD, head: 'live', hex: toHex(headNoTail) },
      { name: 'HEAD (live, tail of 2: anchor c[1], sha1 of pieces 1..2)', type: MSG_HEAD, head: 'live', tailStart: 1, tailCount: 2, hex: toHex(headTail) },
      { name: 'END (ended HEAD, tail of 1: anchor c[3], sha1 of piece 3)', type: MSG_HEAD, head: 'ended', tailStart: 3, tailCount: 1, hex: toHex(endMsg) },
      { name: 'HASH_REQUEST start 0, 3 hashes', type: MSG_HASH_REQUEST, start: 0, count: 3, hex: toHex(hashReq) },
      { name: 'HASHES start 0, anchor c[0], sha1 of pieces 0..2 (verified against the live head)', type: MSG_HASHES, start: 0, count: 3, hex: toHex(hashesMsg) },
      { name: 'HASH_REJECT start 0, 512 hashes', type: MSG_HASH_REJECT, start: 0, count: MAX_PAGE_HASHES, hex: toHex(hashReject) },
      { name: 'PUSH piece 1, begin 0, the whole piece (one block of 16 384 bytes)', type: MSG_PUSH, index: 1, begin: 0, length: PIECE_LENGTH, hex: toHex(pushFull) },
      { name: 'PUSH piece 3, begin 0, the short last piece of the ended stream', type: MSG_PUSH, index: 3, begin: 0, length: DATA_LENGTH - 3 * PIECE_LENGTH, hex: toHex(pushLast) }
    ],
    invalidMessages: invalidMessages(headNoTail, headTail, endMsg, hashesMsg, pushFull),
    invalidInfo: [...invalidInfos(publicKey, nonce), ...invalidInfoKeys(publicKey, nonce)],
    invalidHeads: [
      { description: 'live HEAD with one signature bit flipped', hex: toHex(badSig), error: 'BAD_SIGNATURE' },
      { description: 'live HEAD whose time changed after signing', hex: toHex(otherTime), error: 'BAD_SIGNATURE' },
      { description: 'validly signed live head covering a partial piece', hex: toHex(partialLiveMsg), error: 'BAD_FIELD' },
      { description: 'validly signed ended head longer than count * piece length', hex: toHex(endTooLongMsg), error: 'BAD_FIELD' },
      { description: 'validly signed ended head whose last piece would be empty', hex: toHex(endFullMsg), error: 'BAD_FIELD' }
    ],
    strictEd25519: strictVectors(seed, publicKey, signable(infoHash, liveHead), live.signature)
  }
}

/**
 * Live info dicts that are valid in every way but their name: a receiver rejects each (spec §2,
 * "name"), so that no name from a peer writes outside the download folder on any OS.
 */
export const UNSAFE_NAMES: Array<[string, string]> = [
  ['../../../../tmp/x', 'climbs out of the download folder'],
  ['a/b', 'holds a /'],
  ['a\\b', 'holds a \\'],
  ['.', 'is .'],
  ['..', 'is ..'],
  ['', 'is empty'],
  ['x'.repeat(MAX_NAME_BYTES + 1), `is longer than ${MAX_NAME_BYTES} bytes`],
  ['x\u0000y', 'holds NUL'],
  ['x\ny', 'holds a control character'],
  ['x\u007f', 'holds DEL'],
  ['C:x', 'names a drive (C:)'],
  ['C:\\Windows\\x', 'is an absolute Windows path'],
  ['x.ts:stream', 'names an NTFS alternate data stream'],
  ['x<y', 'holds <'],
  ['x>y', 'holds >'],
  ['x"y', 'holds "'],
  ['x|y', 'holds |'],
  ['x?y', 'holds ?'],
  ['x*y', 'holds *'],
  ['CON', 'is the Windows device CON'],
  ['con.ts', 'is the Windows device CON with an extension'],
  ['NUL.txt', 'is the Windows device NUL'],
  ['aux .ts', 'is the Windows device AUX (spaces before the extension)'],
  ['COM1', 'is the Windows device COM1'],
  ['lpt9.log', 'is the Windows device LPT9'],
  ['COM\u00b9', 'is the Windows device COM¹'],
  ['show.ts.', 'ends with a dot'],
  ['show.ts ', 'ends with a space'],
  ['/tmp/x', 'is an absolute path'],
  ['PRN', 'is the Windows device PRN'],
  ['com0.ts', 'is the Windows device COM0 with an extension'],
  ['LPT\u00b2', 'is the Windows device LPT²'],
  ['lpt\u00b3.ts', 'is the Windows device LPT³ with an extension'],
  ['x\u001f', 'holds U+001F'],
  ['x\ty', 'holds a tab']
]

/**
 * Live info dicts with a safe name but a key beyond those of spec §2: rejected, because other
 * software reads some of them (parse-torrent takes `name.utf-8` before `name`, `path` and `files`
 * change the layout on disk).
 */
function invalidInfoKeys (publicKey: Uint8Array, nonce: Uint8Array): Invalid[] {
  const live = { nonce, pk: publicKey, sig: SIGNATURE_METHOD, v: PROTOCOL_VERSION }
  const base = { length: 0, live, name: NAME, 'piece length': PIECE_LENGTH, pieces: new Uint8Array(0) }
  const cases: Array<[string, Record<string, unknown>, ErrorCode]> = [
    ['extra key name.utf-8 naming ../../../../tmp/x', { ...base, 'name.utf-8': '../../../../tmp/x' }, 'BAD_INFO'],
    ['extra key path (a single-file dict with a path list)', { ...base, path: ['..', 'x'] }, 'BAD_INFO'],
    ['extra key files (a live torrent is a single file)', { ...base, files: [{ length: 0, path: ['x'] }] }, 'BAD_INFO'],
    ['extra key private', { ...base, private: 1 }, 'BAD_INFO'],
    ['extra key in the live dict', { ...base, live: { ...live, x: 1 } }, 'BAD_INFO'],
    ['live.window 0', { ...base, live: { ...live, window: 0 } }, 'BAD_INFO'],
    ['live.window -1', { ...base, live: { ...live, window: -1 } }, 'BAD_INFO'],
    ['live.window 2^26 + 1 (beyond the most pieces a stream may hold)', { ...base, live: { ...live, window: MAX_WINDOW + 1 } }, 'BAD_INFO'],
    ['live.window a byte string', { ...base, live: { ...live, window: '90' } }, 'BAD_INFO'],
    ['live.v 2 with a key unknown to version 1 (the version is checked first)', { ...base, live: { ...live, v: 2, x: 1 } }, 'UNKNOWN_VERSION']
  ]
  return cases.map(([description, info, error]) => ({ description, hex: toHex(encodeInfo(info)), error }))
}

function invalidInfos (publicKey: Uint8Array, nonce: Uint8Array): Invalid[] {
  return UNSAFE_NAMES.map(([name, why]) => ({
    description: `name ${JSON.stringify(name.length > 40 ? `${name.slice(0, 12)}…(${name.length} bytes)` : name)} ${why}`,
    hex: toHex(encodeInfo({ length: 0, live: { nonce, pk: publicKey, sig: SIGNATURE_METHOD, v: PROTOCOL_VERSION }, name, 'piece length': PIECE_LENGTH, pieces: new Uint8Array(0) })),
    error: 'BAD_INFO'
  }))
}

async function main (): Promise<void> {
  const json = JSON.stringify(await makeVectors(), null, 2) + '\n'
  if (process.argv.includes('--write')) {
    const dir = new URL('../../test/vectors/', import.meta.url)
    mkdirSync(dir, { recursive: true })
    const file = new URL('ut_live-v1.json', dir)
    writeFileSync(file, json)
    console.log(`wrote ${file.pathname}`)
  } else {
    process.stdout.write(json)
  }
}

// Runs only when executed directly, so that importing this module has no side effects.
if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  main().catch((err: unknown) => { console.error(err); process.exitCode = 1 })
}
