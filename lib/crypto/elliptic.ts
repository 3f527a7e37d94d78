/** Pure-JavaScript Ed25519 (elliptic): the fallback where no native implementation exists. */
import elliptic from 'elliptic'
import { strictEd25519Reject } from '../protocol/ed25519-strict.js'
import type { Ed25519 } from './types.js'

// elliptic's typings describe Node Buffers; it accepts plain byte arrays, which also work in browsers.
type AnyCurve = any // eslint-disable-line @typescript-eslint/no-explicit-any
let ec: AnyCurve = null
function curve (): AnyCurve {
  if (!ec) ec = new (elliptic as AnyCurve).eddsa('ed25519')
  return ec
}

export const ellipticEd25519: Ed25519 = {
  name: 'elliptic',
  async publicKey (seed) {
    return Uint8Array.from(curve().keyFromSecret(Array.from(seed)).getPublic() as number[])
  },
  async sign (seed, message) {
    const sig = curve().keyFromSecret(Array.from(seed)).sign(Array.from(message))
    return Uint8Array.from(sig.toBytes() as number[])
  },
  async verify (publicKey, message, signature) {
    try {
      // elliptic itself accepts S >= L, and reads y mod p (so a non-canonical R or key): spec §4.2.
      if (strictEd25519Reject(publicKey, signature) !== null) return false
      const key = curve().keyFromPublic(Array.from(publicKey))
      return key.verify(Array.from(message), Array.from(signature))
    } catch {
      return false
    }
  }
}
