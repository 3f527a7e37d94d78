/**
 * Adapts a WebTorrent Torrent so that it can grow while it runs. Every private member touched is
 * listed in check.ts and was read from webtorrent 3.0.21 (node_modules/webtorrent/lib/torrent.js):
 *
 *   P2 alwaysChokeSeeders = false      caught-up viewers are "seeders" of the current pieces
 *   P3 _hasAllPieces → false           HAVE_ALL would claim every future piece
 *   P6 _checkDone without announces    incremental (a cursor over the first missing piece), not a scan
 *                                       of all pieces; a live torrent is done only once it has ended
 *                                       and every piece is verified (apps rely on 'done' meaning that)
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
  installCursors(torrent, false)
  coalesceUpdates(torrent)
}

/**
 * P11 WebTorrent runs `_update()` (every wire's request pipeline, in random order) synchronously
 * on every HAVE, BITFIELD, unchoke and piece: in a live swarm every neighbour announces every
 * piece, so a viewer with 30 neighbours ran 30 × 30 wire updates per piece, the bulk of a lab
 * viewer's CPU. Here the calls of one turn of the event loop are coalesced into one update on the
 * next (browsers already defer it to an idle callback).
 */
function coalesceUpdates (torrent: T): void {
  let pending = false
  const run = (): void => {
    pending = false
    if (!torrent.destroyed) torrent._updateWireWrapper()
  }
  torrent._update = function () {
    if (pending) return
    pending = true
    setImmediate(run)
  }
}

/**
 * The same cursor-based done and interest checks for an ordinary torrent that is filled piece by
 * piece from elsewhere (the final torrent mirroring a live one: a catch-up after the end would
 * otherwise cost O(pieces) per piece). It announces 'completed' to trackers once, as WebTorrent does.
 */
export function fastDone (torrent: T): void {
  installCursors(torrent, true)
}

function installCursors (torrent: T, announceComplete: boolean): void {
  // WebTorrent's _checkDone scans every piece of a file that is not done, on every verified piece:
  // O(stream length) per piece for a viewer at the edge. Here: a cursor at the first missing piece
  // (pieces are verified mostly in order), moved back if a piece is ever unverified. No tracker
  // announces on done ⇄ not-done toggles. A live torrent (not announceComplete) is never done
  // while it airs, however caught up: `done` and 'done' mean the whole program is here.
  let firstMissing = 0
  torrent._checkDone = function (this: T) {
    if (this.destroyed || !this.bitfield) return false
    const n = this.pieces.length
    const bf = this.bitfield
    while (firstMissing < n && bf.get(firstMissing)) firstMissing++
    const done = firstMissing >= n && (announceComplete || endedTorrents.has(this))
    const f = this.files[0]
    if (f) {
      if (done && !f.done) { f.done = true; f.emit('done') } else if (!done) f.done = false
    }
    if (!this.done && done) {
      this.done = true
      this.emit('done')
      if (announceComplete && !this.destroyed) this.discovery?.complete()
    } else if (this.done && !done) {
      this.done = false
    }
    this._gcSelections()
    return done
  }
  // WebTorrent's _updateWireInterest, run on every HAVE, scans from piece 0 for a piece we lack
  // and the peer has: O(stream length) per HAVE once we have most pieces. Here the scan starts at
  // the first piece we still want (pieces before a from: 'live' viewer's start are never wanted).
  let interestFrom = 0
  torrent._updateWireInterest = function (this: T, wire: any) {
    const pieces = this.pieces
    const n = pieces.length
    const floor = Math.max(0, Math.min(n, wantedFrom.get(this) ?? 0))
    if (interestFrom < floor) interestFrom = floor
    while (interestFrom < n && pieces[interestFrom] === null) interestFrom++
    let interested = false
    for (let i = interestFrom; i < n; i++) {
      if (pieces[i] && wire.peerPieces.get(i)) { interested = true; break }
    }
    // A live stream keeps coming: a viewer at the edge would otherwise flip INTERESTED /
    // UNINTERESTED with every piece (two messages a piece a peer). Interest is kept until the end.
    if (!interested && !announceComplete && wire.amInterested && !endedTorrents.has(this)) return
    if (interested) wire.interested(); else wire.uninterested()
  }
  const markUnverified = torrent._markUnverified
  torrent._markUnverified = function (this: T, index: number) {
    if (index < firstMissing) firstMissing = index
    if (index < interestFrom) interestFrom = index
    return markUnverified.call(this, index)
  }
}

/**
 * torrent.select(from, to) for a stream that grows: WebTorrent merges an overlapping or adjacent
 * selection into a new one that starts at the old one's `from` with its progress (`offset`) reset
 * to 0, and then walks every verified piece from there on the next garbage-collection pass: O(stream
 * length) per head for a viewer that is always a little behind. Moving each selection's `from` past
 * its verified prefix first keeps that walk to the new pieces.
 */
export function selectGrowing (torrent: T, from: number, to: number): void {
  const items = torrent._selections?._items
  if (Array.isArray(items)) {
    for (const s of items) {
      if (!s.isStreamSelection && s.offset > 0 && s.from + s.offset <= s.to) { s.from += s.offset; s.offset = 0 }
    }
  }
  torrent.select(from, to)
}

const wantedFrom = new WeakMap<object, number>()
const endedTorrents = new WeakSet<object>()

/** The live stream has ended: interest follows what is missing again (see installCursors). */
export function setEnded (torrent: T): void {
  endedTorrents.add(torrent)
  if (torrent.ready && !torrent.destroyed) torrent._checkDone() // every piece may be here already
}

/** The first piece this peer wants (a from: 'live' viewer never wants the pieces before it). */
export function setWantedFrom (torrent: T, index: number): void {
  wantedFrom.set(torrent, index)
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
 * (they cannot verify, and are not selected) until the hash log has them. Only the last piece may be short.
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

/**
 * Replaces the torrent's array of expected piece hashes (hex strings, ~64 bytes a piece in V8) by a
 * view that reads them from the stream's verified hash log on demand ('' where none is known yet):
 * the hashes live once, 20 bytes a piece, in the log. WebTorrent only reads `_hashes[index]`.
 */
export function hashesFrom (torrent: T, get: (index: number) => string): void {
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

/**
 * Marks a stored piece as verified and tells every peer: the broadcaster's own pieces, and pieces
 * one torrent verified for another that shares its storage (live ⇄ final). No-op if already had.
 * `tell` replaces "HAVE to every wire" (the broadcaster's relay policy decides who hears first).
 */
export function markHave (torrent: T, index: number, tell?: (index: number) => void): boolean {
  if (!torrent.bitfield || index >= torrent.pieces.length || torrent.bitfield.get(index)) return false
  torrent.pieces[index] = null
  torrent._markVerified(index)
  if (tell) tell(index); else for (const w of torrent.wires) w.have(index)
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

/** The chunk store under WebTorrent's wrappers (ImmediateChunkStore and CacheChunkStore keep it as `.store`). */
export function rawStore (torrent: T): any {
  let s = torrent.store
  for (let k = 0; k < 4 && s?.store; k++) s = s.store
  return s
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
