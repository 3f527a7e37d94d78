/** Small byte helpers. Pure: no Node built-ins. */

export function concat (parts: readonly Uint8Array[]): Uint8Array {
  let n = 0
  for (const p of parts) n += p.length
  const out = new Uint8Array(n)
  let o = 0
  for (const p of parts) { out.set(p, o); o += p.length }
  return out
}

export function equal (a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false
  let d = 0
  for (let i = 0; i < a.length; i++) d |= (a[i] as number) ^ (b[i] as number)
  return d === 0
}

const HEX_CODES = Array.from('0123456789abcdef', (c) => c.charCodeAt(0))
/**
 * Lowercase hex. Built from char codes in one go: a string grown with `+=` is a rope of many
 * small nodes in V8, and a torrent keeps one hex hash per piece (a million pieces: ~0.5 GB of ropes).
 */
export function toHex (b: Uint8Array): string {
  const codes = new Array<number>(b.length * 2)
  for (let i = 0; i < b.length; i++) { const v = b[i] as number; codes[2 * i] = HEX_CODES[v >> 4]!; codes[2 * i + 1] = HEX_CODES[v & 15]! }
  let s = ''
  for (let i = 0; i < codes.length; i += 4096) s += String.fromCharCode(...codes.slice(i, i + 4096))
  return s
}

export function fromHex (s: string): Uint8Array {
  if (s.length % 2 !== 0 || !/^[0-9a-fA-F]*$/.test(s)) throw new TypeError('invalid hex string')
  const out = new Uint8Array(s.length / 2)
  for (let i = 0; i < out.length; i++) out[i] = parseInt(s.slice(2 * i, 2 * i + 2), 16)
  return out
}

export function ascii (s: string): Uint8Array {
  const out = new Uint8Array(s.length)
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i)
    if (c > 127) throw new TypeError('not ASCII')
    out[i] = c
  }
  return out
}

/** Writes an unsigned integer < 2^53 as 8 bytes big-endian. */
export function writeU64 (view: DataView, offset: number, value: number): void {
  view.setUint32(offset, Math.floor(value / 0x100000000))
  view.setUint32(offset + 4, value >>> 0)
}

/** Reads 8 bytes big-endian; returns -1 when the value does not fit in a safe integer. */
export function readU64 (view: DataView, offset: number): number {
  const hi = view.getUint32(offset)
  const lo = view.getUint32(offset + 4)
  if (hi > 0x1fffff) return -1
  return hi * 0x100000000 + lo
}

export function view (b: Uint8Array): DataView {
  return new DataView(b.buffer, b.byteOffset, b.byteLength)
}
