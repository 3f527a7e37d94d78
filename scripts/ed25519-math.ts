/**
 * Plain BigInt Ed25519 arithmetic (RFC 8032 §5.1), for making the strict-verification test vectors
 * only: slow, not constant-time, never used to sign or verify in the library. It decodes leniently
 * (y taken mod p, as a lax verifier would) so that non-canonical encodings can be built and checked.
 */
import { createHash } from 'node:crypto'

export const P = (1n << 255n) - 19n
export const L = (1n << 252n) + 27742317777372353535851937790883648493n
const D = mod(-121665n * inv(121666n))
const SQRT_M1 = pow(2n, (P - 1n) / 4n)

export type Point = [bigint, bigint, bigint, bigint] // extended coordinates X, Y, Z, T

export function mod (a: bigint, m = P): bigint { const r = a % m; return r < 0n ? r + m : r }
function pow (b: bigint, e: bigint): bigint {
  let r = 1n; b = mod(b)
  while (e > 0n) { if (e & 1n) r = mod(r * b); b = mod(b * b); e >>= 1n }
  return r
}
function inv (a: bigint): bigint { return pow(a, P - 2n) }

export const IDENTITY: Point = [0n, 1n, 1n, 0n]

export function add (a: Point, b: Point): Point {
  const [X1, Y1, Z1, T1] = a; const [X2, Y2, Z2, T2] = b
  const A = mod((Y1 - X1) * (Y2 - X2)); const B = mod((Y1 + X1) * (Y2 + X2))
  const C = mod(2n * T1 * T2 * D); const DD = mod(2n * Z1 * Z2)
  const E = B - A; const F = DD - C; const G = DD + C; const H = B + A
  return [mod(E * F), mod(G * H), mod(F * G), mod(E * H)]
}
export function neg (a: Point): Point { return [mod(-a[0]), a[1], a[2], mod(-a[3])] }
export function mul (k: bigint, a: Point): Point {
  let r = IDENTITY; let q = a
  while (k > 0n) { if (k & 1n) r = add(r, q); q = add(q, q); k >>= 1n }
  return r
}
export function equalPoints (a: Point, b: Point): boolean {
  return mod(a[0] * b[2]) === mod(b[0] * a[2]) && mod(a[1] * b[2]) === mod(b[1] * a[2])
}

export function leToBig (b: Uint8Array): bigint {
  let x = 0n
  for (let i = b.length - 1; i >= 0; i--) x = (x << 8n) | BigInt(b[i] as number)
  return x
}
export function bigToLe (x: bigint, n = 32): Uint8Array {
  const out = new Uint8Array(n)
  for (let i = 0; i < n; i++) { out[i] = Number(x & 0xffn); x >>= 8n }
  return out
}

/** The encoding of y with the sign bit of x; y is NOT reduced (so y ≥ p gives a non-canonical encoding). */
export function encodeRaw (y: bigint, xOdd: boolean): Uint8Array {
  const out = bigToLe(y, 32)
  if (xOdd) out[31] = (out[31] as number) | 0x80
  return out
}
export function encode (a: Point): Uint8Array {
  const zi = inv(a[2]); const x = mod(a[0] * zi); const y = mod(a[1] * zi)
  return encodeRaw(y, (x & 1n) === 1n)
}
/** Lenient decoding: y mod p, x = 0 with the sign bit set allowed. Null when not on the curve. */
export function decode (b: Uint8Array): Point | null {
  const raw = leToBig(b)
  const odd = (raw >> 255n) === 1n
  const y = mod(raw & ((1n << 255n) - 1n))
  const u = mod(y * y - 1n); const v = mod(D * y * y + 1n)
  let x = mod(u * pow(v, 3n) * pow(u * pow(v, 7n), (P - 5n) / 8n))
  if (mod(v * x * x) !== u) {
    if (mod(v * x * x) !== mod(-u)) return null
    x = mod(x * SQRT_M1)
  }
  if (((x & 1n) === 1n) !== odd) x = mod(-x)
  return [x, y, 1n, mod(x * y)]
}

export const BASE: Point = decode(encodeRaw(mod(4n * inv(5n)), false))!

export function sha512 (...parts: Uint8Array[]): bigint {
  const h = createHash('sha512')
  for (const p of parts) h.update(p)
  return leToBig(new Uint8Array(h.digest()))
}

/** The secret scalar a and prefix of an RFC 8032 seed. */
export function expandSeed (seed: Uint8Array): { a: bigint, prefix: Uint8Array } {
  const h = new Uint8Array(createHash('sha512').update(seed).digest())
  const s = h.slice(0, 32)
  s[0] = (s[0] as number) & 248; s[31] = ((s[31] as number) & 127) | 64
  return { a: leToBig(s), prefix: h.slice(32) }
}

/** k = SHA-512(R ‖ A ‖ M) mod L, over the bytes as given. */
export function challenge (R: Uint8Array, A: Uint8Array, M: Uint8Array): bigint {
  return mod(sha512(R, A, M), L)
}

/** A lax, cofactorless verifier: decodes leniently, no S < L check: [S]B = R + [k]A. */
export function laxVerify (A: Uint8Array, M: Uint8Array, sig: Uint8Array): boolean {
  const a = decode(A); const r = decode(sig.subarray(0, 32))
  if (!a || !r) return false
  const S = leToBig(sig.subarray(32))
  return equalPoints(mul(S, BASE), add(r, mul(challenge(sig.subarray(0, 32), A, M), a)))
}

/** The order of a point that has small order (1, 2, 4 or 8), or 0 if it has none of these. */
export function smallOrder (a: Point): number {
  let q = a
  for (const n of [1, 2, 4, 8]) {
    if (equalPoints(q, IDENTITY)) return n
    q = add(q, q)
  }
  return 0
}

/** The canonical encodings of the 8 points of small order (x = 0 only with the sign bit clear). */
export function smallOrderEncodings (): Uint8Array[] {
  // The 8-torsion is cyclic: the multiples of one point of order 8.
  const out: Uint8Array[] = []
  for (let y = 0n; y < 1000n && out.length === 0; y++) {
    for (const odd of [false, true]) {
      const p = decode(encodeRaw(y, odd))
      if (p && smallOrder(p) === 8) {
        for (let i = 0n; i < 8n; i++) out.push(encode(mul(i, p)))
        break
      }
    }
  }
  if (out.length === 0) {
    // No order-8 point with a small y: take the torsion component of a point of large order.
    for (let y = 2n; out.length === 0; y++) {
      const p = decode(encodeRaw(y, false))
      if (!p) continue
      const t = mul(L, p)
      if (smallOrder(t) === 8) for (let i = 0n; i < 8n; i++) out.push(encode(mul(i, t)))
    }
  }
  return out
}
