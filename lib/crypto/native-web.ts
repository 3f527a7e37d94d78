/** Native Ed25519 in browsers (WebCrypto), where the browser has it; hashes stay pure JS (sync). */
import { strictEd25519Reject } from '../protocol/ed25519-strict.js'
import { pureHashes, type Hashes } from '../protocol/sha.js'
import type { Ed25519 } from './types.js'

const subtle: SubtleCrypto | undefined = globalThis.crypto?.subtle
const ALG = { name: 'Ed25519' } as const
const PKCS8_PREFIX = new Uint8Array([0x30, 0x2e, 0x02, 0x01, 0x00, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x70, 0x04, 0x22, 0x04, 0x20])

function buf (b: Uint8Array): ArrayBuffer {
  return b.slice().buffer as ArrayBuffer
}

async function privateKey (seed: Uint8Array): Promise<CryptoKey> {
  const der = new Uint8Array(48); der.set(PKCS8_PREFIX); der.set(seed, 16)
  return await subtle!.importKey('pkcs8', buf(der), ALG, true, ['sign'])
}

const impl: Ed25519 = {
  name: 'webcrypto',
  async publicKey (seed) {
    const k = await privateKey(seed)
    const jwk = await subtle!.exportKey('jwk', k)
    const b64 = (jwk.x ?? '').replace(/-/g, '+').replace(/_/g, '/')
    const bin = atob(b64 + '='.repeat((4 - b64.length % 4) % 4))
    return Uint8Array.from(bin, (c) => c.charCodeAt(0))
  },
  async sign (seed, message) {
    return new Uint8Array(await subtle!.sign(ALG, await privateKey(seed), buf(message)))
  },
  async verify (publicKey, message, signature) {
    try {
      if (strictEd25519Reject(publicKey, signature) !== null) return false // spec §4.2: same rule on every backend
      const k = await subtle!.importKey('raw', buf(publicKey), ALG, false, ['verify'])
      return await subtle!.verify(ALG, k, buf(signature), buf(message))
    } catch {
      return false
    }
  }
}

/** Null until probe() has shown that this browser's WebCrypto knows Ed25519. */
export let nativeEd25519: Ed25519 | null = null

export async function probe (): Promise<Ed25519 | null> {
  if (!subtle) return null
  try {
    const pk = await impl.publicKey(new Uint8Array(32))
    nativeEd25519 = pk.length === 32 ? impl : null
  } catch {
    nativeEd25519 = null
  }
  return nativeEd25519
}

export const nativeHashes: Hashes = pureHashes

export function randomBytes (n: number): Uint8Array {
  const out = new Uint8Array(n)
  globalThis.crypto.getRandomValues(out)
  return out
}
