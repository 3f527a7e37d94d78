/**
 * Strict Ed25519 (spec §4.2): the checks every verifier applies before the curve arithmetic, so that
 * node:crypto (OpenSSL), elliptic and WebCrypto accept exactly the same signatures. Measured before
 * this check (test/vectors strictEd25519): OpenSSL accepted small-order and non-canonical keys and a
 * small-order R; elliptic also accepted a non-canonical R that OpenSSL rejected.
 *
 * Rejected, in this order (the first that applies is the rule reported):
 *   1. S_NOT_BELOW_L      the scalar S (signature bytes 32..63, little-endian) is not below L
 *   2. NON_CANONICAL_KEY  the public key's y (sign bit cleared) is not below p = 2^255 − 19, or the
 *                         key is x = 0 (y = 1 or y = p − 1) with the sign bit set
 *   3. SMALL_ORDER_KEY    the public key is one of the 8 points of order 1, 2, 4 or 8
 *   4. NON_CANONICAL_R    the same as 2 for R (signature bytes 0..31)
 *   5. SMALL_ORDER_R      the same as 3 for R
 * Byte comparisons only: no arithmetic, no secrets, cheap next to a verification.
 */

export type StrictRule = 'BAD_SIZE' | 'S_NOT_BELOW_L' | 'NON_CANONICAL_KEY' | 'SMALL_ORDER_KEY' | 'NON_CANONICAL_R' | 'SMALL_ORDER_R'

// L = 2^252 + 27742317777372353535851937790883648493, little-endian.
const L = [0xed, 0xd3, 0xf5, 0x5c, 0x1a, 0x63, 0x12, 0x58, 0xd6, 0x9c, 0xf7, 0xa2, 0xde, 0xf9, 0xde, 0x14,
  0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x10]

/** The canonical encodings of the 8 points of small order (hex, as in the test vectors). */
export const SMALL_ORDER_ENCODINGS: readonly string[] = [
  '0100000000000000000000000000000000000000000000000000000000000000', // order 1 (the identity)
  'ecffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f', // order 2 (0, −1)
  '0000000000000000000000000000000000000000000000000000000000000000', // order 4
  '0000000000000000000000000000000000000000000000000000000000000080', // order 4
  '26e8958fc2b227b045c3f489f2ef98f0d5dfac05d3c63339b13802886d53fc05', // order 8
  '26e8958fc2b227b045c3f489f2ef98f0d5dfac05d3c63339b13802886d53fc85', // order 8
  'c7176a703d4dd84fba3c0b760d10670f2a2053fa2c39ccc64ec7fd7792ac037a', // order 8
  'c7176a703d4dd84fba3c0b760d10670f2a2053fa2c39ccc64ec7fd7792ac03fa' // order 8
]
const SMALL = SMALL_ORDER_ENCODINGS.map((h) => Uint8Array.from(h.match(/../g) ?? [], (x) => parseInt(x, 16)))

function scalarBelowL (s: Uint8Array): boolean {
  for (let i = 31; i >= 0; i--) {
    const a = s[i] as number; const b = L[i] as number
    if (a < b) return true
    if (a > b) return false
  }
  return false
}

/** y < p for the 255-bit y (bit 255 is x's sign); x = 0 (y = ±1) only with the sign bit clear. */
function pointIsCanonical (e: Uint8Array): boolean {
  const top = (e[31] as number) & 0x7f
  let high = top === 0x7f
  for (let i = 1; i < 31 && high; i++) high = e[i] === 0xff
  if (high && (e[0] as number) >= 0xed) return false // y ≥ p = 2^255 − 19
  if (((e[31] as number) & 0x80) !== 0) {
    // y = 1 or y = p − 1 (= 0xec ff … ff 7f): then x = 0, which has no negative.
    let one = e[0] === 1 && top === 0
    for (let i = 1; i < 31 && one; i++) one = e[i] === 0
    const minusOne = high && e[0] === 0xec
    if (one || minusOne) return false
  }
  return true
}

function isSmallOrder (e: Uint8Array): boolean {
  return SMALL.some((s) => s.every((b, i) => e[i] === b))
}

/** Why Ed25519 verification must fail before any curve arithmetic, or null when it may proceed. */
export function strictEd25519Reject (publicKey: Uint8Array, signature: Uint8Array): StrictRule | null {
  if (publicKey.length !== 32 || signature.length !== 64) return 'BAD_SIZE'
  if (!scalarBelowL(signature.subarray(32))) return 'S_NOT_BELOW_L'
  if (!pointIsCanonical(publicKey)) return 'NON_CANONICAL_KEY'
  if (isSmallOrder(publicKey)) return 'SMALL_ORDER_KEY'
  const R = signature.subarray(0, 32)
  if (!pointIsCanonical(R)) return 'NON_CANONICAL_R'
  if (isSmallOrder(R)) return 'SMALL_ORDER_R'
  return null
}
