/**
 * Torrent progress and selection: what a growing torrent has, wants, and when it is done. Read
 * from webtorrent 3.0.21 (node_modules/webtorrent/lib/torrent.js):
 *
 *   P2 alwaysChokeSeeders = false      caught-up viewers are "seeders" of the current pieces
 *   P3 _hasAllPieces → false           HAVE_ALL would claim every future piece
 *   P6 _checkDone without announces    incremental (a cursor over the first missing piece), not a scan
 *                                       of all pieces; a live torrent is done only once it has ended
 *                                       and every piece is verified (apps rely on 'done' meaning that)
 *   _updateWireInterest                 the same cursor, from the first wanted piece
 *   selectGrowing()                     selections moved past their verified prefix before select()
 *   markHave() / trustVerified()        pieces verified elsewhere (own pieces; live ⇄ final)
 *   failedPiece()                       the piece of a "Piece N failed verification" warning (smart ban)
 *   P11 _update coalesced               the request scheduler runs once per event-loop turn, not per HAVE
 *   P12 _updateWire skips idle wires     a wire that holds no piece we still want is not scheduled
 *   P13 last-resort wires unranked       WebTorrent leaves a piece to a faster holder; a last-resort
 *                                       wire (lastResort(), the broadcaster) does not count as one
 */
import type { Requirement, TorrentLike, WireLike } from './types.js'

export const REQUIRES: readonly Requirement[] = [
  { where: 'Torrent.prototype', path: '_hasAllPieces', is: 'function' },
  { where: 'Torrent.prototype', path: '_checkDone', is: 'function' },
  { where: 'Torrent.prototype', path: '_gcSelections', is: 'function' },
  { where: 'Torrent.prototype', path: '_markVerified', is: 'function' },
  { where: 'Torrent.prototype', path: '_markUnverified', is: 'function' },
  { where: 'Torrent.prototype', path: '_verifyPieces', is: 'function' },
  { where: 'Torrent.prototype', path: '_updateWireInterest', is: 'function' },
  { where: 'Torrent.prototype', path: 'select', is: 'function' },
  { where: 'Torrent.prototype', path: '_update', is: 'function' },
  { where: 'Torrent.prototype', path: '_updateWireWrapper', is: 'function' },
  { where: 'Torrent.prototype', path: '_updateWire', is: 'function' },
  // P13: its speed ranker compares other wires' downloadSpeed() with this wire's
  { where: 'Torrent.prototype', path: '_updateWire', is: 'source', match: /downloadSpeed\(\)/ },
  { where: 'Torrent.prototype', path: '_onWireWithMetadata', is: 'source', match: /alwaysChokeSeeders/ },
  // smart ban (lib/live/smart-ban.ts) reads this warning: its text is a contract too
  { where: 'Torrent.prototype', path: '_request', is: 'source', match: /Piece \$\{[\w$]+\} failed verification/ },
  { where: 'torrent', path: '_selections._items', is: 'array' },
  { where: 'torrent', path: 'bitfield.buffer', is: 'bytes' }
]

/** Installs the per-torrent patches. Call synchronously from client.add, before any wire exists. */
export function adaptTorrent (torrent: TorrentLike): void {
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
function coalesceUpdates (torrent: TorrentLike): void {
  let pending = false
  const run = (): void => {
    pending = false
    if (!torrent.destroyed) torrent._updateWireWrapper()
  }
  torrent._update = function () {
    if (pending) return
    pending = true
    nextTurn(run)
  }
}

/** Asks WebTorrent to run its request scheduler again (coalesced, see P11): after a back-off ends, no peer event may come to do it. */
export function requestUpdate (torrent: TorrentLike): void {
  if (!torrent.destroyed) torrent._update()
}

/** The next turn of the event loop (setImmediate where there is one: Node; browsers: a zero timeout). */
const nextTurn: (fn: () => void) => void = typeof setImmediate === 'function' ? (fn) => { setImmediate(fn) } : (fn) => { setTimeout(fn, 0) }

/**
 * The same cursor-based done and interest checks for an ordinary torrent that is filled piece by
 * piece from elsewhere (the final torrent mirroring a live one: a catch-up after the end would
 * otherwise cost O(pieces) per piece). It announces 'completed' to trackers once, as WebTorrent does.
 */
export function fastDone (torrent: TorrentLike): void {
  installCursors(torrent, true)
}

/** P13: per torrent, the wires asked last (the live layer's request routing decides which). */
const lastResorts = new WeakMap<TorrentLike, Set<WireLike>>()

/**
 * P13 WebTorrent's scheduler (_updateWire's speed ranker) does not ask a wire for a piece that a
 * faster wire holds: a viewer left every piece to the broadcaster, the fastest holder on a good
 * link, while request routing asks the broadcaster last. While another wire is scheduled, the
 * wires in `wires` read as idle (downloadSpeed 0) to the ranker. The set is the caller's, kept current.
 */
export function lastResort (torrent: TorrentLike, wires: Set<WireLike>): void {
  lastResorts.set(torrent, wires)
}

const noSpeed = (): number => 0

/** Runs `fn` with the last-resort wires other than `wire` reading as idle to the speed ranker. */
function unranked<T> (torrent: TorrentLike, wire: WireLike, fn: () => T): T {
  const set = lastResorts.get(torrent)
  if (!set || set.size === 0 || (set.size === 1 && set.has(wire))) return fn()
  const hidden: Array<[WireLike, () => number]> = []
  for (const w of set) if (w !== wire) { hidden.push([w, w.downloadSpeed]); w.downloadSpeed = noSpeed }
  try { return fn() } finally { for (const [w, speed] of hidden) w.downloadSpeed = speed }
}

/** P12: wanted pieces checked against a wire before WebTorrent's scheduler runs for it regardless. */
const SCAN_WANTED = 512

function installCursors (torrent: TorrentLike, announceComplete: boolean): void {
  // WebTorrent's _checkDone scans every piece of a file that is not done, on every verified piece:
  // O(stream length) per piece for a viewer at the edge. Here: a cursor at the first missing piece
  // (pieces are verified mostly in order), moved back if a piece is ever unverified. No tracker
  // announces on done ⇄ not-done toggles. A live torrent (not announceComplete) is never done
  // while it airs, however caught up: `done` and 'done' mean the whole program is here.
  let firstMissing = 0
  torrent._checkDone = function (this: TorrentLike) {
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
      if (announceComplete && !this.destroyed) this.discovery?.complete?.()
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
  let floorWas = 0
  /** The first piece still wanted: the cursor, moved up to the floor, or back down to it when the floor is lowered (setWantedFrom). */
  const firstWanted = (t: TorrentLike): number => {
    const pieces = t.pieces
    const n = pieces.length
    const floor = Math.max(0, Math.min(n, wantedFrom.get(t) ?? 0))
    if (floor < floorWas && interestFrom > floor) interestFrom = floor // a reader wants earlier pieces now
    floorWas = floor
    if (interestFrom < floor) interestFrom = floor
    while (interestFrom < n && !pieces[interestFrom]) interestFrom++ // verified (null) or released (torrent-release.ts)
    return interestFrom
  }
  torrent._updateWireInterest = function (this: TorrentLike, wire: WireLike) {
    const pieces = this.pieces
    const n = pieces.length
    let interested = false
    for (let i = firstWanted(this); i < n; i++) {
      if (pieces[i] && wire.peerPieces.get(i)) { interested = true; break }
    }
    // A live stream keeps coming: a viewer at the edge would otherwise flip INTERESTED /
    // UNINTERESTED with every piece (two messages a piece a peer). Interest is kept until the end.
    if (!interested && !announceComplete && wire.amInterested && !endedTorrents.has(this)) return
    if (interested) wire.interested(); else wire.uninterested()
  }
  // P12 WebTorrent's _updateWire, run for every wire on every update, walks the selections and
  // ranks each piece the wire offers against every other wire's speed (a clock read per wire):
  // O(wires²) per update, though at the edge most neighbours hold nothing we still lack. A wire
  // that holds none of the pieces we want (the same cursor; at most SCAN_WANTED of them looked at,
  // beyond that WebTorrent decides) is skipped: it would request nothing from it anyway.
  const updateWire = torrent._updateWire
  torrent._updateWire = function (this: TorrentLike, wire: WireLike) {
    if (wire.destroyed || wire.type === 'webSeed') return updateWire.call(this, wire)
    const pieces = this.pieces
    const n = pieces.length
    for (let i = firstWanted(this), seen = 0; i < n; i++) {
      if (!pieces[i]) continue
      if (wire.peerPieces.get(i) || ++seen > SCAN_WANTED) return unranked(this, wire, () => updateWire.call(this, wire))
    }
    return false
  }
  const markUnverified = torrent._markUnverified
  torrent._markUnverified = function (this: TorrentLike, index: number) {
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
export function selectGrowing (torrent: TorrentLike, from: number, to: number): void {
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
export function setEnded (torrent: TorrentLike): void {
  endedTorrents.add(torrent)
  if (torrent.ready && !torrent.destroyed) torrent._checkDone() // every piece may be here already
}

/** The first piece this peer wants (a from: 'live' viewer never wants the pieces before it). */
export function setWantedFrom (torrent: TorrentLike, index: number): void {
  wantedFrom.set(torrent, index)
}

/**
 * Marks a stored piece as verified and tells every peer: the broadcaster's own pieces, and pieces
 * one torrent verified for another that shares its storage (live ⇄ final). No-op if already had.
 * `tell` replaces "HAVE to every wire" (the broadcaster's relay policy decides who hears first).
 */
export function markHave (torrent: TorrentLike, index: number, tell?: (index: number) => void): boolean {
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
export function trustVerified (torrent: TorrentLike, has: (index: number) => boolean): void {
  torrent._verifyPieces = function (this: TorrentLike, cb: (err: Error | null) => void) {
    for (let i = 0; i < this.pieces.length; i++) {
      if (has(i)) { this.pieces[i] = null; this._markVerified(i) }
    }
    queueMicrotask(() => cb(null))
  }
}

/**
 * The sliding window (lib/live/window.ts): pieces [from, below) are no longer held here. Clears
 * their torrent bitfield bits (WebTorrent then never offers them in a BITFIELD or serves them) and
 * returns the pieces whose bit was set; nothing else (releasePieces, torrent-release.ts, frees the
 * per-piece arrays).
 */
export function forgetPieces (torrent: TorrentLike, from: number, below: number): number[] {
  const bf = torrent.bitfield
  const cleared: number[] = []
  if (!bf) return cleared
  const n = Math.min(below, torrent.pieces.length)
  for (let i = Math.max(0, from); i < n; i++) if (bf.get(i)) { bf.set(i, false); cleared.push(i) }
  return cleared
}

export function checkDone (torrent: TorrentLike): void {
  torrent._checkDone()
}

/** WebTorrent's 'warning' for a piece whose bytes failed SHA-1 (torrent.js, _request). */
const PIECE_FAILED = /^Piece (\d+) failed verification/

/** The piece a torrent 'warning' says failed verification, or null for any other warning. */
export function failedPiece (err: unknown): number | null {
  const m = PIECE_FAILED.exec((err as Error | null)?.message ?? '')
  return m ? Number(m[1]) : null
}
