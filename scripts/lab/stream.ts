/** The lab's broadcast bytes: piece k of seed s is AES-256-CTR keystream, so any process can recompute it. */
import { createCipheriv, createHash } from 'node:crypto'

export function pieceBytes (seed: number, k: number, pieceLength: number): Buffer {
  const key = createHash('sha256').update(`webtorrent-live lab ${seed}`).digest()
  const iv = Buffer.alloc(16)
  iv.writeUInt32BE(k >>> 0, 4) // counter blocks of different pieces never overlap (pieces < 2^36 bytes)
  return createCipheriv('aes-256-ctr', key, iv).update(Buffer.alloc(pieceLength))
}

/** SHA-256 of pieces [from, from + count) of the stream. */
export function streamHash (seed: number, from: number, count: number, pieceLength: number): string {
  const h = createHash('sha256')
  for (let k = from; k < from + count; k++) h.update(pieceBytes(seed, k, pieceLength))
  return h.digest('hex')
}
