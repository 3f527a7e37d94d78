/**
 * P10 Cheap protocol encryption handshakes. MSE/PE (WebTorrent's default, `secure: 1`) gives each
 * TCP connection its own Node DiffieHellman over the 768-bit MSE prime, and OpenSSL 3 tests that
 * prime for primality every time one is constructed: about 17 ms of CPU per connection, 82% of a
 * swarm-lab viewer process's CPU (connections come and go by the thousand in a live swarm). The same
 * exchange in BigInt arithmetic costs about 0.43 ms a side (0.07 ms for Y with a fixed-base comb,
 * 0.36 ms for S in 4-bit windows; 0.65 ms by plain square-and-multiply, which was 19% of a viewer
 * process's CPU in a 200-viewer lab's connection storm): Y = 2^X mod P with a 160-bit private X (the MSE
 * spec's recommendation), S = Y'^X mod P, both 96 bytes big-endian, and the public keys Node's
 * DiffieHellman would refuse (Y' ≤ 1, Y' ≥ P − 1) given a random secret (see computeSecret). Same bytes on the wire;
 * MSE is obfuscation, not authentication, so a BigInt's variable timing reveals nothing it protected.
 *
 * MessageStreamEncryptor is not exported by bittorrent-protocol: its prototype is reached through
 * one throwaway Wire. Its lazy `dh` getter is what is replaced (checked: REQUIRES below).
 */
import Wire from 'bittorrent-protocol'
import type { Requirement, WireLike } from './types.js'

/** A Wire with PE on: its encryptor (MessageStreamEncryptor) is where the handshake lives. */
type PeWire = WireLike & { _encryptor?: object }

/**
 * What this file relies on: a Wire built with PE enabled holds `_encryptor`, whose prototype has a
 * `dh` getter (checked again, with a clear error, when the patch is installed).
 */
export const REQUIRES: readonly Requirement[] = [
  { where: 'peWire', path: '_encryptor', is: 'object' },
  { where: 'peWire', path: '_encryptor.generateStepA1', is: 'source', match: /this\.dh\.generateKeys\(\)/ },
  { where: 'peWire', path: '_encryptor.constructor', is: 'source', match: /this\._dh\s*=\s*null/ }
]

/** The 768-bit MSE prime (bittorrent-protocol mse.js DH_PRIME), generator 2. */
const P = BigInt('0xffffffffffffffffc90fdaa22168c234c4c6628b80dc1cd129024e088a67cc74020bbea63b139b22514a08798e3404ddef9519b3cd3a431b302b0a6df25f14374fe1356d6d51c245e485b576625e7ec6f44c42e9a63a36210000000000090563')
const KEY_BYTES = 96

/** Exponent bits: a 160-bit private X (the MSE spec's recommendation). */
const X_BITS = 160
/** Window bits for both exponentiations. */
const W = 4
const DIGITS = X_BITS / W // X_BITS a multiple of W: the windows cover every bit of X
/** Window `j` of x. */
const digit = (x: bigint, j: number): number => Number((x >> BigInt(j * W)) & BigInt((1 << W) - 1))

/** [g^0, g^1, …, g^15] mod P: one window's table (14 products). */
function powers (g: bigint): bigint[] {
  const row = [1n, g % P]
  for (let d = 2; d < 1 << W; d++) row.push(row[d - 1]! * row[1]! % P)
  return row
}

/**
 * base^x mod P, x < 2^160, in fixed 4-bit windows: 14 multiplications for the powers of the base,
 * then 4 squarings and at most one multiplication a window (about 214 products, against 240 for
 * square-and-multiply).
 */
function modPow (base: bigint, x: bigint): bigint {
  const pow = powers(base)
  let r = 1n
  for (let j = DIGITS - 1; j >= 0; j--) {
    for (let k = 0; k < W; k++) r = r * r % P
    const d = digit(x, j)
    if (d !== 0) r = r * pow[d]! % P
  }
  return r
}

/**
 * The fixed-base comb for the generator: COMB[j][d] = 2^(d · 16^j) mod P, built once (720 products).
 * Then 2^x is one product a window of x: 39 products instead of 240 (the public key of every
 * connection's handshake).
 */
let COMB: bigint[][] | null = null
function powOf2 (x: bigint): bigint {
  if (!COMB) {
    COMB = []
    let g = 2n
    for (let j = 0; j < DIGITS; j++) {
      COMB.push(powers(g))
      for (let k = 0; k < W; k++) g = g * g % P
    }
  }
  let r = 1n
  for (let j = 0; j < DIGITS; j++) {
    const d = digit(x, j)
    if (d !== 0) r = r * COMB[j]![d]! % P
  }
  return r
}

const HEX = '0123456789abcdef'

/** 96 bytes big-endian (through hex: a BigInt's byte-by-byte shifts cost as much as a product). */
function toBytes (n: bigint): Uint8Array {
  const hex = n.toString(16).padStart(KEY_BYTES * 2, '0')
  const out = new Uint8Array(KEY_BYTES)
  for (let i = 0; i < KEY_BYTES; i++) out[i] = parseInt(hex.slice(2 * i, 2 * i + 2), 16)
  return out
}

function toBigInt (b: Uint8Array): bigint {
  let hex = '0x0'
  for (const x of b) hex += HEX[x >> 4]! + HEX[x & 15]!
  return BigInt(hex)
}

/** The subset of Node's DiffieHellman that mse.js uses. */
export class MseDiffieHellman {
  private readonly x: bigint
  constructor () {
    const r = new Uint8Array(20)
    globalThis.crypto.getRandomValues(r)
    this.x = toBigInt(r) | 1n << BigInt(X_BITS - 1) // 160 bits
  }

  generateKeys (): Uint8Array {
    return toBytes(powOf2(this.x))
  }

  /**
   * S = Y'^X mod P. A public key Node's DiffieHellman would refuse (Y' ≤ 1, Y' ≥ P − 1: a secret
   * anyone could guess) gets a random secret instead of a throw: mse.js calls this inside the
   * wire's stream write, where a throw is uncaught and one packet of zeros would end the process.
   * With a secret no one knows, the peer's sync pattern is never found and its wire is dropped.
   */
  computeSecret (other: Uint8Array): Uint8Array {
    const y = toBigInt(other)
    if (y <= 1n || y >= P - 1n) {
      const r = new Uint8Array(KEY_BYTES)
      globalThis.crypto.getRandomValues(r)
      return r
    }
    return toBytes(modPow(y, this.x))
  }
}

let done = false

/**
 * A Wire with protocol encryption on, or null where this build of bittorrent-protocol has none
 * (its browser build maps mse.js away: WebRTC needs no MSE).
 */
export function peWire (): PeWire | null {
  try {
    const w: PeWire = new Wire('tcpOutgoing', 1)
    if (w._encryptor) return w
    w.destroy()
  } catch {}
  return null
}

/** Installs the BigInt handshake for every Wire of this process (idempotent). Throws if the contract moved. */
export function fastMseHandshake (): void {
  if (done) return
  const probe = peWire()
  if (!probe) { done = true; return } // a build without MSE (browsers: no TCP): nothing to patch
  const enc = probe._encryptor
  const proto = enc ? Object.getPrototypeOf(enc) : null
  const desc = proto ? Object.getOwnPropertyDescriptor(proto, 'dh') : undefined
  try { probe.destroy() } catch {}
  if (!desc || typeof desc.get !== 'function') {
    const err = new Error('WEBTORRENT_INTERNALS: bittorrent-protocol\'s MessageStreamEncryptor has no `dh` getter (patches/handshake.ts)')
    ;(err as Error & { code: string }).code = 'WEBTORRENT_INTERNALS'
    throw err
  }
  Object.defineProperty(proto, 'dh', {
    configurable: true,
    get (this: { _dh?: MseDiffieHellman }) {
      if (!this._dh) this._dh = new MseDiffieHellman()
      return this._dh
    }
  })
  done = true
}
