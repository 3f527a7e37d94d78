/**
 * The live info dict: a valid BitTorrent v1 single-file info dict with zero length and no pieces,
 * plus a `live` dict that commits to the broadcaster's key. The infohash is SHA-1 of its canonical
 * bencoding, so it binds the key and the per-broadcast nonce.
 *
 *   d 6:lengthi0e 4:lived 5:nonce16:… 2:pk32:… 3:sig7:ed25519 1:vi1e [6:windowi…e] e 4:name… 12:piece lengthi…e 6:pieces0: e
 *
 * The optional `window` (spec §2, §8) is the number of pieces behind the edge that peers keep;
 * absent, peers keep everything (and the dict, hence the infohash, is as before the key existed).
 */
import bencode from 'bencode'
import {
  MAX_NAME_BYTES, MAX_PIECE_LENGTH, MAX_WINDOW, MIN_PIECE_LENGTH, NONCE_BYTES, PIECE_HASH_BYTES, PROTOCOL_VERSION,
  PUBLIC_KEY_BYTES, SIGNATURE_METHOD
} from './constants.js'
import { unsafeNameReason } from './name.js'
import { fail, ok, type Result } from './result.js'
import type { Hashes } from './sha.js'

export interface LiveInfo {
  name: string
  pieceLength: number
  publicKey: Uint8Array
  nonce: Uint8Array
  version: number
  /** Pieces behind the edge every peer keeps (spec §8); absent: an archive stream, nothing is dropped. */
  window?: number
}

const utf8d = new TextDecoder('utf-8', { fatal: true })
const INFO_KEYS = new Set(['length', 'live', 'name', 'piece length', 'pieces'])
const LIVE_KEYS = new Set(['nonce', 'pk', 'sig', 'v', 'window'])

export function isValidPieceLength (n: number): boolean {
  return Number.isInteger(n) && n >= MIN_PIECE_LENGTH && n <= MAX_PIECE_LENGTH && (n & (n - 1)) === 0
}

export function isValidWindow (n: unknown): n is number {
  return typeof n === 'number' && Number.isInteger(n) && n >= 1 && n <= MAX_WINDOW
}

function checkName (name: string): void {
  const why = unsafeNameReason(name)
  if (why !== null) throw new RangeError(`name ${JSON.stringify(name)} is not a safe file name: it ${why}`)
}

/** Builds the info dict (as an object ready for bencode) for a new broadcast. Throws on bad options. */
export function createLiveInfo (li: Omit<LiveInfo, 'version'>): Record<string, unknown> {
  checkName(li.name)
  if (!isValidPieceLength(li.pieceLength)) throw new RangeError(`piece length must be a power of two from ${MIN_PIECE_LENGTH} to ${MAX_PIECE_LENGTH}`)
  if (li.publicKey.length !== PUBLIC_KEY_BYTES) throw new RangeError('public key must be 32 bytes')
  if (li.nonce.length !== NONCE_BYTES) throw new RangeError(`nonce must be ${NONCE_BYTES} bytes`)
  if (li.window !== undefined && !isValidWindow(li.window)) throw new RangeError(`window must be an integer number of pieces from 1 to ${MAX_WINDOW}`)
  const live: Record<string, unknown> = { nonce: li.nonce, pk: li.publicKey, sig: SIGNATURE_METHOD, v: PROTOCOL_VERSION }
  if (li.window !== undefined) live.window = li.window
  return {
    length: 0,
    live,
    name: li.name,
    'piece length': li.pieceLength,
    pieces: new Uint8Array(0)
  }
}

export function encodeInfo (info: Record<string, unknown>): Uint8Array {
  return bencode.encode(info)
}

export function infoHashOf (hashes: Hashes, infoBytes: Uint8Array): Uint8Array {
  return hashes.sha1(infoBytes)
}

function bytesField (v: unknown): Uint8Array | null {
  return v instanceof Uint8Array ? v : null
}

/**
 * Reads the live parameters out of a decoded info dict (bencode output: byte strings are
 * Uint8Array). Returns NOT a throw but a result: the dict may come from a peer.
 */
export function parseLiveInfo (info: unknown): Result<LiveInfo> {
  if (info === null || typeof info !== 'object') return fail('BAD_INFO', 'info is not a dict')
  const d = info as Record<string, unknown>
  const live = d.live
  if (live === null || typeof live !== 'object' || live instanceof Uint8Array) return fail('BAD_INFO', 'info has no live dict')
  const l = live as Record<string, unknown>
  if (l.v !== PROTOCOL_VERSION) return fail('UNKNOWN_VERSION', `live version ${String(l.v)} is not supported`)
  // Exactly the keys of spec §2: an extra key such as `name.utf-8`, `path` or `files` would make
  // other software (parse-torrent reads `name.utf-8` before `name`) see another name or layout.
  const extra = Object.keys(d).find((k) => !INFO_KEYS.has(k)) ?? Object.keys(l).find((k) => !LIVE_KEYS.has(k))
  if (extra !== undefined) return fail('BAD_INFO', `the live info dict has a key ${JSON.stringify(extra)} beyond those of ut_live version 1`)
  if ('window' in l && !isValidWindow(l.window)) return fail('BAD_INFO', `live.window must be an integer from 1 to ${MAX_WINDOW}`)
  const sig = bytesField(l.sig)
  if (!sig || new TextDecoder().decode(sig) !== SIGNATURE_METHOD) return fail('BAD_INFO', 'unsupported signature method')
  const pk = bytesField(l.pk)
  if (!pk || pk.length !== PUBLIC_KEY_BYTES) return fail('BAD_INFO', 'live.pk must be 32 bytes')
  const nonce = bytesField(l.nonce)
  if (!nonce || nonce.length !== NONCE_BYTES) return fail('BAD_INFO', `live.nonce must be ${NONCE_BYTES} bytes`)
  const pl = d['piece length']
  if (typeof pl !== 'number' || !isValidPieceLength(pl)) return fail('BAD_INFO', 'bad piece length')
  if (d.length !== 0) return fail('BAD_INFO', 'a live info dict has length 0')
  const pieces = bytesField(d.pieces)
  if (!pieces || pieces.length !== 0) return fail('BAD_INFO', 'a live info dict has empty pieces')
  const nameB = bytesField(d.name)
  if (!nameB || nameB.length === 0 || nameB.length > MAX_NAME_BYTES) return fail('BAD_INFO', 'bad name')
  let name: string
  try { name = utf8d.decode(nameB) } catch { return fail('BAD_INFO', 'name is not UTF-8') }
  const why = unsafeNameReason(name)
  if (why !== null) return fail('BAD_INFO', `name ${JSON.stringify(name)} is not a safe file name: it ${why}`)
  const window = l.window as number | undefined
  return ok({ name, pieceLength: pl, publicKey: pk, nonce, version: PROTOCOL_VERSION, ...(window !== undefined ? { window } : {}) })
}

/**
 * The final torrent: an ordinary BitTorrent v1 single-file info dict over the broadcast bytes.
 * Same name and piece length as the live one; `pieces` is the concatenated SHA-1 of every piece.
 * Anyone holding the bytes gets the same infohash from any torrent maker that writes these four keys.
 */
export function createFinalInfo (name: string, pieceLength: number, length: number, pieceHashes: Uint8Array): Record<string, unknown> {
  if (pieceHashes.length % PIECE_HASH_BYTES !== 0) throw new RangeError('piece hashes must be 20 bytes each')
  checkName(name)
  return { length, name, 'piece length': pieceLength, pieces: pieceHashes }
}
