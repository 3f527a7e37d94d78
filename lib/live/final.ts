/**
 * The end of a broadcast: the final, ordinary BitTorrent v1 torrent (name, piece length, length,
 * pieces = the SHA-1 of each piece), and the plumbing that lets a live peer serve it at once from
 * the storage it already has: no second download, no rehash of pieces it verified on the live
 * infohash. The final infohash is in the signed end, so a peer that builds the final info dict from
 * its verified hash log and gets another infohash knows the broadcaster signed a broken end.
 */
import bencode from 'bencode'
import { hashes } from '../crypto/index.js'
import { toHex } from '../protocol/bytes.js'
import { createFinalInfo, encodeInfo } from '../protocol/info.js'

/* eslint-disable @typescript-eslint/no-explicit-any */

export interface FinalTorrent {
  infoHash: string
  magnetURI: string
  /** The ordinary BitTorrent v1 .torrent file (bencoded). */
  torrentFile: Uint8Array
}

/** The final torrent of a broadcast, from its name, piece length, length and piece hashes (20 bytes each). */
export function finalTorrent (name: string, pieceLength: number, length: number, pieceHashes: Uint8Array, announce: string[] = []): FinalTorrent {
  const info = createFinalInfo(name, pieceLength, length, pieceHashes)
  const infoBytes = encodeInfo(info)
  const infoHash = toHex(hashes.sha1(infoBytes))
  const file: Record<string, unknown> = { info }
  if (announce.length) { file.announce = announce[0]; file['announce-list'] = announce.map((a) => [a]) }
  const torrentFile = bencode.encode(file)
  return { infoHash, magnetURI: magnetFor(infoHash, name, announce), torrentFile }
}

export function magnetFor (infoHash: string, name: string, announce: string[] = []): string {
  const tr = announce.map((a) => `&tr=${encodeURIComponent(a)}`).join('')
  return `magnet:?xt=urn:btih:${infoHash}&dn=${encodeURIComponent(name)}${tr}`
}

/**
 * A chunk store for the final torrent that reads and writes the live torrent's store: the same
 * bytes at the same indices. Closing or destroying it leaves the live torrent's storage alone.
 */
export function sharedStore (liveTorrent: any): any {
  const target = (): any => liveTorrent.store
  return {
    chunkLength: liveTorrent.pieceLength,
    get (index: number, opts: any, cb?: any) {
      const s = target()
      if (!s) { const done = typeof opts === 'function' ? opts : cb; return queueMicrotask(() => done?.(new Error('Storage is closed'))) }
      s.get(index, opts, cb)
    },
    put (index: number, buf: Uint8Array, cb?: any) {
      const s = target()
      if (!s) return queueMicrotask(() => cb?.(new Error('Storage is closed')))
      s.put(index, buf, cb)
    },
    close (cb?: any) { queueMicrotask(() => cb?.(null)) },
    destroy (cb?: any) { queueMicrotask(() => cb?.(null)) }
  }
}
