/**
 * P10 Cheap protocol encryption handshakes. MSE/PE (WebTorrent's default, `secure: 1`) gives each
 * TCP connection its own Node DiffieHellman over the 768-bit MSE prime, and OpenSSL 3 tests that
 * prime for primality every time one is constructed: about 17 ms of CPU per connection, 82% of a
 * swarm-lab viewer process's CPU (connections come and go by the thousand in a live swarm). The same
 * exchange in BigInt arithmetic costs about 0.3 ms: Y = 2^X mod P with a 160-bit private X (the MSE
 * spec's recommendation), S = Y'^X mod P, both 96 bytes big-endian, and the public keys Node's
 * DiffieHellman would refuse (Y' ≤ 1, Y' ≥ P − 1) refused with the same error. Same bytes on the wire;
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

function modPow (base: bigint, exp: bigint, mod: bigint): bigint {
  let r = 1n
  let b = base % mod
  let e = exp
  while (e > 0n) {
    if (e & 1n) r = r * b % mod
    b = b * b % mod
    e >>= 1n
  }
  return r
}

function toBytes (n: bigint): Uint8Array {
  const out = new Uint8Array(KEY_BYTES)
  for (let i = KEY_BYTES - 1; i >= 0 && n > 0n; i--) { out[i] = Number(n & 0xffn); n >>= 8n }
  return out
}

function toBigInt (b: Uint8Array): bigint {
  let n = 0n
  for (const x of b) n = (n << 8n) | BigInt(x)
  return n
}

function keyError (message: string): Error {
  const err = new Error(message)
  ;(err as Error & { code: string }).code = 'ERR_CRYPTO_INVALID_KEYLEN'
  return err
}

/** The subset of Node's DiffieHellman that mse.js uses. */
export class MseDiffieHellman {
  private readonly x: bigint
  constructor () {
    const r = new Uint8Array(20)
    globalThis.crypto.getRandomValues(r)
    this.x = toBigInt(r) | 1n << 159n // 160 bits
  }

  generateKeys (): Uint8Array {
    return toBytes(modPow(2n, this.x, P))
  }

  computeSecret (other: Uint8Array): Uint8Array {
    const y = toBigInt(other)
    if (y <= 1n) throw keyError('Supplied key is too small')
    if (y >= P - 1n) throw keyError('Supplied key is too large')
    return toBytes(modPow(y, this.x, P))
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
