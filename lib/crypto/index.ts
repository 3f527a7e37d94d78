/**
 * Chooses the Ed25519 implementation: the native one (node:crypto in Node, WebCrypto in browsers)
 * and the pure-JavaScript elliptic only where no native one exists.
 */
import * as native from '#native-ed25519'
import { ellipticEd25519 } from './elliptic.js'
import type { Ed25519 } from './types.js'

export type { Ed25519 } from './types.js'
export { ellipticEd25519 } from './elliptic.js'
export const hashes = native.nativeHashes
export const randomBytes = native.randomBytes

let chosen: Promise<Ed25519> | null = null

export function ed25519 (): Promise<Ed25519> {
  if (!chosen) {
    chosen = (async () => {
      const probe = (native as { probe?: () => Promise<Ed25519 | null> }).probe
      const n = probe ? await probe() : native.nativeEd25519
      return n ?? ellipticEd25519
    })()
  }
  return chosen
}

/** The native implementation if this platform has one, else null. */
export async function nativeEd25519 (): Promise<Ed25519 | null> {
  const impl = await ed25519()
  return impl === ellipticEd25519 ? null : impl
}
