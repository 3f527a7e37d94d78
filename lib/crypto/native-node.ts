/** Native Ed25519 and hashes for Node (node:crypto, OpenSSL). */
import { createHash, createPrivateKey, createPublicKey, sign, verify, type KeyObject } from 'node:crypto'
import { strictEd25519Reject } from '../protocol/ed25519-strict.js'
import type { Hashes } from '../protocol/sha.js'
import type { Ed25519 } from './types.js'

const PKCS8_PREFIX = Buffer.from('302e020100300506032b657004220420', 'hex')
const SPKI_PREFIX = Buffer.from('302a300506032b6570032100', 'hex')

let lastSeed = ''
let lastKey: KeyObject | null = null
function privateKey (seed: Uint8Array): KeyObject {
  if (seed.length !== 32) throw new RangeError('Ed25519 seed must be 32 bytes')
  const id = Buffer.from(seed).toString('hex')
  if (lastKey && id === lastSeed) return lastKey // a broadcaster signs every head with the same key
  lastKey = createPrivateKey({ key: Buffer.concat([PKCS8_PREFIX, seed]), format: 'der', type: 'pkcs8' })
  lastSeed = id
  return lastKey
}

const keyCache = new Map<string, KeyObject>()
function publicKeyObject (pk: Uint8Array): KeyObject {
  const id = Buffer.from(pk).toString('hex')
  let k = keyCache.get(id)
  if (!k) {
    k = createPublicKey({ key: Buffer.concat([SPKI_PREFIX, pk]), format: 'der', type: 'spki' })
    if (keyCache.size > 64) keyCache.clear()
    keyCache.set(id, k)
  }
  return k
}

export const nativeEd25519: Ed25519 | null = {
  name: 'node:crypto',
  async publicKey (seed) {
    const der = createPublicKey(privateKey(seed)).export({ format: 'der', type: 'spki' })
    return new Uint8Array(der.subarray(der.length - 32))
  },
  async sign (seed, message) {
    return new Uint8Array(sign(null, message, privateKey(seed)))
  },
  async verify (publicKey, message, signature) {
    try {
      if (strictEd25519Reject(publicKey, signature) !== null) return false // spec §4.2: same rule on every backend
      return verify(null, message, publicKeyObject(publicKey), signature)
    } catch {
      return false
    }
  }
}

export const nativeHashes: Hashes = {
  sha256: (m) => new Uint8Array(createHash('sha256').update(m).digest()),
  sha1: (m) => new Uint8Array(createHash('sha1').update(m).digest())
}

export function randomBytes (n: number): Uint8Array {
  const out = new Uint8Array(n)
  globalThis.crypto.getRandomValues(out)
  return out
}
