/** Pure-JavaScript Ed25519 (elliptic): the fallback where no native implementation exists. */
import elliptic from 'elliptic'
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
      if (publicKey.length !== 32 || signature.length !== 64) return false
      // elliptic does not reject S >= L (malleable signatures); RFC 8032 requires it.
      if (!scalarIsCanonical(signature.subarray(32))) return false
      const key = curve().keyFromPublic(Array.from(publicKey))
      return key.verify(Array.from(message), Array.from(signature))
    } catch {
      return false
    }
  }
}

// L = 2^252 + 27742317777372353535851937790883648493, little-endian.
const L = [0xed, 0xd3, 0xf5, 0x5c, 0x1a, 0x63, 0x12, 0x58, 0xd6, 0x9c, 0xf7, 0xa2, 0xde, 0xf9, 0xde, 0x14,
  0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x10]
function scalarIsCanonical (s: Uint8Array): boolean {
  for (let i = 31; i >= 0; i--) {
    const a = s[i] as number; const b = L[i] as number
    if (a < b) return true
    if (a > b) return false
  }
  return false
}
