/**
 * The strict-Ed25519 test vectors (spec §4.2): signatures that a lax verifier may accept but every
 * ut_live verifier MUST reject, one per rule of the pre-check in lib/protocol/ed25519-strict.ts.
 * Built with scripts/ed25519-math.ts; most are accepted by a lax cofactorless verifier that reads y
 * mod p (`laxAccepts`), so they are real forgeries or malleations, not merely broken bytes.
 */
import {
  BASE, L, P, bigToLe, challenge, decode, encode, encodeRaw, expandSeed, laxVerify, leToBig, mod, smallOrder,
  smallOrderEncodings
} from './ed25519-math.js'

export interface StrictVector {
  description: string
  /** The pre-check rule that rejects it (StrictRule in lib/protocol/ed25519-strict.ts). */
  rule: string
  publicKey: string
  message: string
  signature: string
  /** Whether a lax cofactorless verifier (y mod p, no S < L check, no small-order check) accepts it. */
  laxAccepts: boolean
}

const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex')
const cat = (a: Uint8Array, b: Uint8Array): Uint8Array => { const o = new Uint8Array(a.length + b.length); o.set(a); o.set(b, a.length); return o }

/** A signature R ‖ S by the seed's key with R chosen by the caller: S = k·a mod L makes [S]B = R + [k]A hold when R is the identity. */
function withR (seed: Uint8Array, A: Uint8Array, R: Uint8Array, msg: Uint8Array): Uint8Array {
  const { a } = expandSeed(seed)
  return cat(R, bigToLe(mod(challenge(R, A, msg) * a, L)))
}

/** R = B, S = 1 under key A, with a message ground until [k]A is the identity (A of small order). */
function forSmallOrderKey (A: Uint8Array, tag: string): { message: Uint8Array, signature: Uint8Array } {
  const point = decode(A)
  const order = point ? smallOrder(point) : 0
  const R = encode(BASE)
  const S = bigToLe(1n)
  for (let i = 0; ; i++) {
    const message = new TextEncoder().encode(`ut_live strict vector: ${tag} #${i}`)
    if (order === 0 || challenge(R, A, message) % BigInt(order) === 0n) return { message, signature: cat(R, S) }
  }
}

export function strictVectors (seed: Uint8Array, publicKey: Uint8Array, signable: Uint8Array, signature: Uint8Array): StrictVector[] {
  const out: StrictVector[] = []
  const push = (description: string, rule: string, pk: Uint8Array, message: Uint8Array, sig: Uint8Array): void => {
    out.push({ description, rule, publicKey: hex(pk), message: hex(message), signature: hex(sig), laxAccepts: laxVerify(pk, message, sig) })
  }
  // S ≥ L: the live head's own signature with S + L, S + 2L and S + 15L (each still 32 bytes).
  const S = leToBig(signature.subarray(32))
  for (const k of [1n, 2n, 15n]) {
    if (S + k * L >= 1n << 256n) continue
    push(`live head signature with S + ${k === 1n ? '' : String(k) + ' '}L`, 'S_NOT_BELOW_L', publicKey, signable, cat(signature.subarray(0, 32), bigToLe(S + k * L)))
  }
  // Non-canonical R (the identity as y = p + 1, and as x = 0 with the sign bit set), signed by the real key.
  push('R = identity encoded as y = p + 1 (non-canonical), S = k·a', 'NON_CANONICAL_R', publicKey, signable,
    withR(seed, publicKey, encodeRaw(P + 1n, false), signable))
  push('R = identity encoded with the sign bit set on x = 0 (non-canonical), S = k·a', 'NON_CANONICAL_R', publicKey, signable,
    withR(seed, publicKey, encodeRaw(1n, true), signable))
  // Small-order R: the canonical identity, signed by the real key ([S]B = R + [k]A holds exactly).
  push('R = identity (small order), S = k·a', 'SMALL_ORDER_R', publicKey, signable, withR(seed, publicKey, encodeRaw(1n, false), signable))
  // Non-canonical A: y ≥ p, or x = 0 with the sign bit set.
  const nonCanonicalKeys: Array<[string, Uint8Array]> = [
    ['A = identity encoded as y = p + 1', encodeRaw(P + 1n, false)],
    ['A = (0, −1) encoded with the sign bit set on x = 0', encodeRaw(P - 1n, true)],
    ['A = identity encoded with the sign bit set on x = 0', encodeRaw(1n, true)],
    ['A = an order-4 point encoded as y = p', encodeRaw(P, false)],
    ['A = all ones (y = 2^255 − 1 = p + 18, sign bit set)', encodeRaw((1n << 255n) - 1n, true)]
  ]
  for (const [what, A] of nonCanonicalKeys) {
    const v = forSmallOrderKey(A, what)
    push(`${what} (non-canonical key)`, 'NON_CANONICAL_KEY', A, v.message, v.signature)
  }
  // Small-order A: each of the 8 points of small order, canonically encoded.
  for (const A of smallOrderEncodings()) {
    const order = smallOrder(decode(A)!)
    const v = forSmallOrderKey(A, hex(A))
    push(`A = ${hex(A).slice(0, 8)}…${hex(A).slice(-2)}, a point of order ${order} (small-order key)`, 'SMALL_ORDER_KEY', A, v.message, v.signature)
  }
  return out
}
