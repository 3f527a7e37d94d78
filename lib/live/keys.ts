/** Ed25519 key pairs for broadcasters. */
import { ed25519, randomBytes } from '../crypto/index.js'
import { toHex, fromHex } from '../protocol/bytes.js'

export interface KeyPair {
  /** 32-byte Ed25519 public key (goes into the info dict). */
  publicKey: Uint8Array
  /** 32-byte Ed25519 seed (the secret). */
  secretKey: Uint8Array
}

/** Makes a new key pair. Async because the native implementation in browsers (WebCrypto) is. */
export async function createKeyPair (): Promise<KeyPair> {
  const secretKey = randomBytes(32)
  return { publicKey: await (await ed25519()).publicKey(secretKey), secretKey }
}

/** Key pair from a 32-byte seed. */
export async function keyPairFromSeed (seed: Uint8Array): Promise<KeyPair> {
  if (seed.length !== 32) throw new RangeError('seed must be 32 bytes')
  return { publicKey: await (await ed25519()).publicKey(seed), secretKey: seed.slice() }
}

/** The JSON key file format: { "type": "ed25519", "publicKey": hex, "secretKey": hex }. */
export function encodeKeyFile (kp: KeyPair): string {
  return JSON.stringify({ type: 'ed25519', publicKey: toHex(kp.publicKey), secretKey: toHex(kp.secretKey) }, null, 2) + '\n'
}

export async function decodeKeyFile (text: string): Promise<KeyPair> {
  let j: { type?: unknown, secretKey?: unknown }
  try { j = JSON.parse(text) } catch { throw new Error('key file is not JSON') }
  if (j.type !== 'ed25519' || typeof j.secretKey !== 'string' || j.secretKey.length !== 64) throw new Error('key file is not an ed25519 key written by webtorrent-live keygen')
  return await keyPairFromSeed(fromHex(j.secretKey))
}
