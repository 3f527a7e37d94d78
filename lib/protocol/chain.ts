/**
 * The piece-hash commitment: a SHA-256 hash chain over the SHA-1 of every piece.
 *
 *   c[0]   = SHA-256(NAMESPACE_CHAIN ‖ live infohash)
 *   c[i+1] = SHA-256(c[i] ‖ sha1(piece i))
 *
 * A head at count n signs c[n]. Given a trusted c[n], a peer verifies any run of hashes
 * h[k..n-1] with the untrusted c[k] that precedes them: chain(c[k], h[k..n-1]) must equal c[n],
 * after which c[k] is trusted too. See the specification for why a chain and not a tree.
 */
import { ascii, concat } from './bytes.js'
import { CHAIN_BYTES, NAMESPACE_CHAIN, PIECE_HASH_BYTES } from './constants.js'
import type { Hashes } from './sha.js'

const NS = ascii(NAMESPACE_CHAIN)

export function genesis (hashes: Hashes, infoHash: Uint8Array): Uint8Array {
  return hashes.sha256(concat([NS, infoHash]))
}

const scratch = new Uint8Array(CHAIN_BYTES + PIECE_HASH_BYTES)

export function step (hashes: Hashes, c: Uint8Array, pieceHash: Uint8Array): Uint8Array {
  scratch.set(c, 0)
  scratch.set(pieceHash, CHAIN_BYTES)
  return hashes.sha256(scratch)
}

/**
 * Runs the chain from `start` over `pieceHashes` (a flat buffer of 20-byte hashes). When
 * `every` is given, it is called with each intermediate value (after i+1 hashes).
 */
export function runChain (hashes: Hashes, start: Uint8Array, pieceHashes: Uint8Array, every?: (i: number, c: Uint8Array) => void): Uint8Array {
  let c = start
  const n = pieceHashes.length / PIECE_HASH_BYTES
  for (let i = 0; i < n; i++) {
    c = step(hashes, c, pieceHashes.subarray(i * PIECE_HASH_BYTES, (i + 1) * PIECE_HASH_BYTES))
    if (every) every(i, c)
  }
  return c
}
