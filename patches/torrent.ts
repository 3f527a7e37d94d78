/**
 * Adapts a WebTorrent Torrent so that it can grow while it runs. Every private member touched is
 * listed in check.ts and was read from webtorrent 3.0.21 (see the internals notes):
 *
 *   P2 alwaysChokeSeeders = false      caught-up viewers are "seeders" of the current pieces
 *   P3 _hasAllPieces → false           HAVE_ALL would claim every future piece
 *   P6 _checkDone without announces    done ⇄ not-done toggles on every piece
 *   grow()                              pieces, _hashes, _reservations, bitfield, length, file, rarity map
 */
import Piece from 'torrent-piece'
import { checkTorrentState } from './check.js'

/* eslint-disable @typescript-eslint/no-explicit-any */
type T = any

/** Installs the per-torrent patches. Call synchronously from client.add, before any wire exists. */
export function adaptTorrent (torrent: T): void {
  torrent.alwaysChokeSeeders = false
  torrent._hasAllPieces = () => false
  const checkDone = torrent._checkDone
  torrent._checkDone = function (this: T) {
    const d = this.discovery
    if (!d) return checkDone.call(this)
    const complete = d.complete
    const tracker = d.tracker
    const start = tracker?.start
    d.complete = () => {}
    if (tracker) tracker.start = () => {}
    try {
      return checkDone.call(this)
    } finally {
      d.complete = complete
      if (tracker) tracker.start = start
    }
  }
}

/** Rejects new peers for which `allow(addr)` is false (bans). */
export function filterPeers (torrent: T, allow: (addr: string) => boolean): void {
  const addPeer = torrent.addPeer
  torrent.addPeer = function (this: T, peer: unknown, source?: unknown) {
    if (typeof peer === 'string' && !allow(peer)) return false
    return addPeer.call(this, peer, source)
  }
}

export function checkReady (torrent: T): void {
  checkTorrentState(torrent)
}

/**
 * Grows the torrent to `count` pieces and `length` bytes. New pieces get no expected hash yet
 * (they cannot verify, and are not selected) until setPieceHash(). Only the last piece may be short.
 */
export function grow (torrent: T, count: number, length: number): void {
  const first = torrent.pieces.length
  if (count < first) return
  const pl = torrent.pieceLength
  for (let i = first; i < count; i++) {
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
  const bytes = Math.ceil(count / 8)
  if (torrent.bitfield.buffer.length < bytes) {
    const b = new Uint8Array(bytes)
    b.set(torrent.bitfield.buffer)
    torrent.bitfield.buffer = b
  }
  const f = torrent.files[0]
  f.length = length - f.offset
  f.size = f.length
  f._endPiece = Math.max(0, Math.ceil(length / pl) - 1)
  if (count > first) f.done = false
  const rm = torrent._rarityMap
  if (rm && rm._numPieces !== count) {
    for (let i = rm._numPieces; i < count; i++) {
      let n = 0
      for (const w of torrent.wires) if (w.peerPieces.get(i)) n++
      rm._pieces[i] = n
    }
    rm._numPieces = count
  }
  if (count > first) for (const w of torrent.wires) w.isSeeder = false
}

/** Sets the expected SHA-1 (hex) of piece i. */
export function setPieceHash (torrent: T, index: number, hex: string): void {
  if (index < torrent._hashes.length) torrent._hashes[index] = hex
}

export function hasPieceHash (torrent: T, index: number): boolean {
  return typeof torrent._hashes[index] === 'string' && torrent._hashes[index].length === 40
}

/**
 * Marks a stored piece as verified and tells every peer: the broadcaster's own pieces, and pieces
 * one torrent verified for another that shares its storage (live ⇄ final). No-op if already had.
 */
export function markHave (torrent: T, index: number): boolean {
  if (!torrent.bitfield || index >= torrent.pieces.length || torrent.bitfield.get(index)) return false
  torrent.pieces[index] = null
  torrent._markVerified(index)
  for (const w of torrent.wires) w.have(index)
  return true
}

/**
 * For a torrent added over storage whose pieces were already verified elsewhere (the final torrent
 * over the live torrent's store): at start-up, mark exactly the pieces `has(i)` as verified instead
 * of rehashing everything. Call right after client.add, before the metadata is processed.
 */
export function trustVerified (torrent: T, has: (index: number) => boolean): void {
  torrent._verifyPieces = function (this: T, cb: (err: Error | null) => void) {
    for (let i = 0; i < this.pieces.length; i++) {
      if (has(i)) { this.pieces[i] = null; this._markVerified(i) }
    }
    queueMicrotask(() => cb(null))
  }
}

export function checkDone (torrent: T): void {
  torrent._checkDone()
}

/** The connection object (a net.Socket, uTP socket or WebRTC peer) behind a wire, if known. */
export function connOf (torrent: T, wire: unknown): any {
  for (const peer of torrent._peers.values()) if (peer.wire === wire) return peer.conn
  return null
}

/**
 * Lets `allow(wire, index)` veto a block request before WebTorrent reserves it (the live
 * controller uses it to fetch a piece that failed verification with several senders from one).
 */
export function filterRequests (torrent: T, allow: (wire: unknown, index: number) => boolean): void {
  const request = torrent._request
  torrent._request = function (this: T, wire: unknown, index: number, hotswap?: boolean) {
    if (!allow(wire, index)) return false
    return request.call(this, wire, index, hotswap)
  }
}
