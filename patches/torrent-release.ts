/**
 * Torrent release: a torrent that forgets its old pieces holds per-piece state for its window only.
 * Read from webtorrent 3.0.21 (node_modules/webtorrent/lib/torrent.js, rarity-map.js,
 * selections.js), what a Torrent keeps per piece, and what releasePieces() does with it:
 *
 *   pieces[i]          Piece (to fetch) | null (verified): an array slot,  8 B   deleted below
 *   _reservations[i]   wires asked for blocks of i | null:   an array slot,  8 B   deleted below
 *   _critical[i]       true if critical() ever touched i (never cleared)    8 B   deleted below
 *   _rarityMap._pieces how many peers have i (kept for 'rarest', unused by 'sequential'), 8 B, and
 *                      recalculated over every piece on each new wire:      windowed (see below)
 *   _selections        ranges, merged (selectGrowing keeps them short)             trimmed to the window
 *   store.mem[i]       immediate-chunk-store 2.2.0 (WebTorrent's wrapper around every store): the
 *                      chunk while its put is in flight, then null for good: an array slot, 8 B
 *                                                                                 deleted below; a put
 *                                                                                 done deletes its slot
 *   bitfield, each wire's peerPieces                                   1 bit  kept (they are what
 *                      BITFIELD and HAVE speak; 10 M pieces: 1.25 MB each)
 *   _hashes            not held: read from the hash log (torrent-growth.ts hashesFrom)
 *
 * An array keeps one slot per index below its length, released or not, so a JS array of the whole
 * history stays O(history) (10 M pieces: 80 MB per array). Deleting the slots below the window and,
 * once they are most of the array, copying the window into a new array whose first element sits
 * at a high index, gives an array V8 keeps in dictionary mode: memory for the elements present only
 * (~50 B each), indices unchanged, so WebTorrent's own code reads it as before (a released slot reads
 * `undefined`: falsy, like a verified piece). Lookups cost a hash probe (~30-70 ns) instead of a load.
 *
 * A released piece is not requested (`_request` refuses an index with no Piece: the allowed-fast
 * set and stream selections could name one), not selected (`_select` clamps non-stream selections
 * to the window), and counts in `downloaded` only as the bytes it had when it was released.
 * WebTorrent's `downloaded` getter reads pieces[i].missing for every piece not in the bitfield:
 * it is replaced on the instance by one that walks the window. What peers are told (lt_donthave),
 * the bitfield bits and the store's bytes are the caller's: this file only drops memory.
 */
import type { Requirement, TorrentLike, WireLike } from './types.js'

export const REQUIRES: readonly Requirement[] = [
  { where: 'torrent', path: 'pieces', is: 'array' },
  { where: 'torrent', path: '_reservations', is: 'array' },
  { where: 'torrent', path: '_critical', is: 'array' },
  { where: 'torrent', path: '_selections._items', is: 'array' },
  { where: 'torrent', path: '_rarityMap._pieces', is: 'array' },
  { where: 'torrent', path: '_rarityMap._numPieces', is: 'number' },
  { where: 'torrent', path: '_rarityMap._onWireHave', is: 'function' },
  { where: 'torrent', path: '_rarityMap._onWireBitfield', is: 'function' },
  // the wire's close handler it keeps as wire._onClose (replaced here for the window)
  { where: 'torrent', path: '_rarityMap._initWire', is: 'source', match: /\._onClose\b/ },
  { where: 'torrent', path: '_rarityMap._cleanupWireEvents', is: 'function' },
  { where: 'torrent', path: '_rarityMap.recalculate', is: 'function' },
  { where: 'torrent', path: '_rarityMap.getRarestPiece', is: 'function' },
  // immediate-chunk-store (a public package, but its `mem` array is internal): torrent.store
  { where: 'torrent', path: 'store.mem', is: 'array' },
  { where: 'torrent', path: 'store.store.put', is: 'function' },
  { where: 'Torrent.prototype', path: '_request', is: 'function' },
  { where: 'Torrent.prototype', path: '_select', is: 'function' },
  // the getter, read on the prototype (no bitfield there: 0); replaced on the instance
  { where: 'Torrent.prototype', path: 'downloaded', is: 'number' }
]

/** Below this many released slots an array is only punched (deleting a few slots frees little). */
const MIN_SPARSE = 1024
/**
 * An array is rebuilt sparse once the released slots outnumber the window this many times: V8
 * turns a dictionary back into a plain array when that would take under ~12 slots per element
 * present, so below this ratio a rebuilt array would not stay sparse.
 */
const SPARSE_RATIO = 16

interface Released {
  /** Every piece below this is released. */
  below: number
  /** Bytes of the released pieces that were verified when released (for `downloaded`). */
  bytes: number
}

const released = new WeakMap<object, Released>()
/** Length of each array when it was last rebuilt sparse (rebuilt again only once it doubles). */
const rebuiltAt = new WeakMap<object, number>()

/** The first piece not released (0 if releasePieces was never called on this torrent). */
export function releasedBelow (torrent: TorrentLike): number {
  return released.get(torrent)?.below ?? 0
}

/**
 * Releases WebTorrent's per-piece state of every piece below `below` (see the table above), so
 * that a torrent whose caller keeps moving `below` up holds memory for the pieces above it only.
 * `below` may exceed the current piece count: grow() then creates no state below it (a viewer
 * that joins a long stream at its window). Monotonic: a lower `below` than before does nothing.
 * Returns how many pieces were released by this call.
 */
export function releasePieces (torrent: TorrentLike, below: number): number {
  if (!torrent.bitfield || torrent.destroyed || !(below > 0)) return 0
  let r = released.get(torrent)
  if (!r) { r = { below: 0, bytes: 0 }; released.set(torrent, r); install(torrent, r) }
  const to = Math.floor(below)
  if (to <= r.below) return 0
  const from = r.below
  const n = torrent.pieces.length
  const last = Math.min(to, n)
  for (let i = from; i < last; i++) {
    if (torrent.bitfield.get(i)) r.bytes += i === n - 1 ? torrent.lastPieceLength : torrent.pieceLength
  }
  r.below = to
  trimSelections(torrent, to)
  torrent.pieces = drop(torrent.pieces, from, to)
  torrent._reservations = drop(torrent._reservations, from, to)
  torrent._critical = drop(torrent._critical, from, to)
  const rm = torrent._rarityMap
  if (rm?._pieces) rm._pieces = drop(rm._pieces, from, to)
  const ims = immediateStore(torrent)
  if (ims) ims.mem = drop(ims.mem, from, to)
  return Math.max(0, last - from)
}

/** Deletes arr[from … below) and, when the released part dominates, returns the rest as a sparse copy. */
function drop<T> (arr: T[], from: number, below: number): T[] {
  const len = arr.length
  const live = Math.max(0, len - below)
  const at = rebuiltAt.get(arr)
  if (below >= MIN_SPARSE && below >= SPARSE_RATIO * live && (at === undefined || len >= 2 * at)) {
    const out: T[] = []
    for (let i = below; i < len; i++) if (i in arr) out[i] = arr[i]!
    if (out.length < len) out.length = len
    rebuiltAt.set(out, len)
    return out
  }
  for (let i = from; i < below && i < len; i++) delete arr[i]
  return arr
}

/** Moves every non-stream selection's start up to `below`, removing those wholly below it. */
function trimSelections (torrent: TorrentLike, below: number): void {
  const items = torrent._selections?._items
  if (!Array.isArray(items)) return
  for (let k = items.length - 1; k >= 0; k--) {
    const s = items[k]!
    if (s.isStreamSelection) continue
    if (s.to < below) { items.splice(k, 1); continue }
    if (s.from < below) {
      s.offset = Math.max(0, s.from + s.offset - below)
      s.from = below
    }
  }
}

/** The instance patches that keep WebTorrent off released pieces (installed on the first release). */
function install (torrent: TorrentLike, r: Released): void {
  const request = torrent._request
  torrent._request = function (this: TorrentLike, wire: WireLike, index: number, hotswap?: boolean) {
    if (!this.pieces[index]) return false // released (or verified: WebTorrent would refuse too)
    return request.call(this, wire, index, hotswap)
  }
  const select = torrent._select
  torrent._select = function (this: TorrentLike, start?: number, end?: number, priority?: number, notify?: () => void, isStream?: boolean) {
    if (!isStream && typeof start === 'number' && start < r.below) {
      if (typeof end === 'number' && end < r.below) return
      start = r.below
    }
    return select.call(this, start, end, priority, notify, isStream)
  }
  Object.defineProperty(torrent, 'downloaded', {
    configurable: true,
    enumerable: true,
    get (this: TorrentLike): number {
      if (!this.bitfield) return 0
      let sum = r.bytes
      const n = this.pieces.length
      for (let i = Math.min(r.below, n); i < n; i++) {
        if (this.bitfield.get(i)) sum += i === n - 1 ? this.lastPieceLength : this.pieceLength
        else { const p = this.pieces[i]; if (p) sum += p.length - p.missing }
      }
      return sum
    }
  })
  windowRarity(torrent, r)
  const ims = immediateStore(torrent)
  if (ims) {
    // Its put leaves mem[index] = null behind (a slot per piece for good): here the slot goes.
    ims.put = function (index: number, buf: Uint8Array, cb: (err: Error | null) => void = () => {}) {
      ims.mem[index] = buf
      ims.store.put(index, buf, (err: Error | null) => {
        if (ims.mem[index] === buf) delete ims.mem[index]
        cb(err)
      })
    }
  }
}

interface ImmediateStoreLike {
  mem: Array<Uint8Array | null>
  store: { put (index: number, buf: Uint8Array, cb: (err: Error | null) => void): void }
  put (index: number, buf: Uint8Array, cb?: (err: Error | null) => void): void
}

/** WebTorrent's ImmediateChunkStore around the torrent's store (it keeps a chunk in `mem` while it is put), if that is what it is. */
function immediateStore (torrent: TorrentLike): ImmediateStoreLike | null {
  const s = torrent.store as unknown as Partial<ImmediateStoreLike> | null
  return s && Array.isArray(s.mem) && typeof s.store?.put === 'function' ? s as ImmediateStoreLike : null
}

/**
 * WebTorrent's RarityMap counts, per piece, the peers that have it, and recalculates every count
 * on each new wire and BITFIELD (and subtracts a closing wire's over every piece): here the same
 * over the window only, and a HAVE below the window (an archive peer's) is not counted.
 */
function windowRarity (torrent: TorrentLike, r: Released): void {
  const rm = torrent._rarityMap
  if (!rm) return
  for (const w of torrent.wires) rm._cleanupWireEvents(w)
  rm._onWireHave = (index: number) => {
    if (index >= r.below && index < rm._numPieces) rm._pieces[index] = (rm._pieces[index] ?? 0) + 1
  }
  rm.recalculate = function () {
    const wires = torrent.wires
    for (let i = r.below; i < rm._numPieces; i++) {
      let c = 0
      for (const w of wires) if (w.peerPieces.get(i)) c++
      rm._pieces[i] = c
    }
  }
  rm.getRarestPiece = function (filter?: (i: number) => boolean) {
    let candidates: number[] = []
    let min = Infinity
    for (let i = r.below; i < rm._numPieces; i++) {
      if (filter && !filter(i)) continue
      const a = rm._pieces[i] ?? 0
      if (a === min) candidates.push(i)
      else if (a < min) { candidates = [i]; min = a }
    }
    return candidates.length ? candidates[Math.floor(Math.random() * candidates.length)]! : -1
  }
  rm._initWire = function (wire: WireLike & { _onClose?: (() => void) | null }) {
    wire._onClose = () => {
      if (rm.destroyed) return
      rm._cleanupWireEvents(wire)
      for (let i = r.below; i < rm._numPieces; i++) if (wire.peerPieces.get(i)) rm._pieces[i] = (rm._pieces[i] ?? 1) - 1
    }
    wire.on('have', rm._onWireHave)
    wire.on('bitfield', rm._onWireBitfield)
    wire.once('close', wire._onClose)
  }
  for (const w of torrent.wires) rm._initWire(w)
}
