/**
 * Torrent growth: a WebTorrent Torrent that grows while it runs. Read from webtorrent 3.0.21
 * (node_modules/webtorrent/lib/torrent.js):
 *
 *   grow()       pieces, _hashes, _reservations, bitfield, length, file, rarity map
 *   hashesFrom() _hashes read from the stream's verified hash log, not held as hex strings
 */
import Piece from 'torrent-piece'
import type { Requirement, TorrentLike } from './types.js'
import { releasedBelow } from './torrent-release.js'

export const REQUIRES: readonly Requirement[] = [
  { where: 'torrent', path: 'pieces', is: 'array' },
  { where: 'torrent', path: '_hashes', is: 'array' },
  { where: 'torrent', path: '_reservations', is: 'array' },
  { where: 'torrent', path: 'bitfield.buffer', is: 'bytes' },
  { where: 'torrent', path: 'files.0._endPiece', is: 'number' },
  { where: 'torrent', path: 'lastPieceLength', is: 'number' },
  { where: 'torrent', path: '_rarityMap._numPieces', is: 'number' },
  { where: 'torrent', path: '_rarityMap._pieces', is: 'array' },
  { where: 'Torrent.prototype', path: '_request', is: 'source', match: /_hashes\[[\w$]+\]/ },
  { where: 'Piece', path: 'missing', is: 'number' },
  { where: 'Piece', path: 'reserve', is: 'function' },
  { where: 'BitField', path: 'buffer', is: 'bytes' }
]

/**
 * Grows the torrent to `count` pieces and `length` bytes. New pieces get no expected hash yet
 * (they cannot verify, and are not selected) until the hash log has them. Only the last piece may be short.
 */
export function grow (torrent: TorrentLike, count: number, length: number): void {
  const first = torrent.pieces.length
  if (count < first) return
  const pl = torrent.pieceLength
  // Pieces below a release (torrent-release.ts) get no state: a viewer joining a long stream at its window.
  const from = Math.min(count, Math.max(first, releasedBelow(torrent)))
  if (from > first) { torrent.pieces.length = from; torrent._reservations.length = from }
  for (let i = from; i < count; i++) {
    const len = i === count - 1 ? length - (count - 1) * pl : pl
    torrent._hashes[i] = ''
    torrent.pieces[i] = new Piece(len)
    torrent._reservations[i] = []
  }
  if (count === first && length !== torrent.length && count > 0) {
    // Same count, new length: the end published a short last piece in place of nothing new.
    const last = count - 1
    if (torrent.pieces[last]) torrent.pieces[last] = new Piece(length - last * pl)
  }
  torrent.length = length
  torrent.lastPieceLength = count === 0 ? pl : length - (count - 1) * pl
  // The bitfield's buffer is an exact-length view (it is what a BITFIELD message sends) over a
  // backing store that doubles, so growth does not copy the whole bitfield every 8 pieces.
  const bytes = Math.ceil(count / 8)
  const old: Uint8Array = torrent.bitfield.buffer
  if (old.length < bytes) {
    if (old.byteOffset === 0 && old.buffer.byteLength >= bytes) {
      torrent.bitfield.buffer = new Uint8Array(old.buffer, 0, bytes)
    } else {
      const backing = new Uint8Array(Math.max(bytes, 2 * old.length, 64))
      backing.set(old)
      torrent.bitfield.buffer = backing.subarray(0, bytes)
    }
  }
  const f = torrent.files[0]!
  f.length = length - f.offset
  f.size = f.length
  f._endPiece = Math.max(0, Math.ceil(length / pl) - 1)
  if (count > first) f.done = false
  const rm = torrent._rarityMap
  if (rm && rm._numPieces !== count) {
    for (let i = Math.max(rm._numPieces, releasedBelow(torrent)); i < count; i++) {
      let n = 0
      for (const w of torrent.wires) if (w.peerPieces.get(i)) n++
      rm._pieces[i] = n
    }
    rm._numPieces = count
  }
  if (count > first) for (const w of torrent.wires) w.isSeeder = false
}

/**
 * Replaces the torrent's array of expected piece hashes (hex strings, ~64 bytes a piece in V8) by a
 * view that reads them from the stream's verified hash log on demand ('' where none is known yet):
 * the hashes live once, 20 bytes a piece, in the log. WebTorrent only reads `_hashes[index]`.
 */
export function hashesFrom (torrent: TorrentLike, get: (index: number) => string): void {
  torrent._hashes = new Proxy([], {
    get (target, prop, receiver) {
      if (typeof prop === 'string') {
        const i = Number(prop)
        if (Number.isInteger(i) && i >= 0) return get(i)
        if (prop === 'length') return torrent.pieces.length
      }
      return Reflect.get(target, prop, receiver)
    },
    set () { return true } // the log is the source of truth
  })
}
