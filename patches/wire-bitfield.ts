/**
 * Wire bitfield: what a peer may announce (BITFIELD, HAVE) on a torrent that grows.
 *   P4 a BITFIELD makes peerPieces growable (otherwise HAVEs past its size are silently dropped)
 *   HAVE indices are bounded by what the stream can hold (a hostile HAVE can't allocate a huge bitfield)
 *   P9 a peer's bitfield buffer is kept longer than ours: WebTorrent's per-HAVE "is this peer a
 *      seeder?" check loops over every piece when the two lengths are equal (O(stream) per HAVE);
 *      with unequal lengths it returns at once. A growing stream has no seeders anyway.
 *   P12 a HAVE for a piece we already hold (where `quiet` says so) sets the peer's bit and nothing
 *      else: WebTorrent answers every 'have' with a pass over every wire's request pipeline, and in
 *      a live mesh each neighbour announces each piece, mostly after we have it (with 49
 *      neighbours, ~45 of 49 passes per piece changed nothing). Such a HAVE cannot make us
 *      interested or change what we request; WebTorrent's rarity counts skip it (they rank
 *      pieces we lack).
 */
import BitField from 'bitfield'
import type { Requirement, WireLike } from './types.js'

export const REQUIRES: readonly Requirement[] = [
  { where: 'Wire.prototype', path: '_onBitField', is: 'function' },
  { where: 'Wire.prototype', path: '_onHave', is: 'function' },
  { where: 'wire', path: 'peerPieces', is: 'object' },
  { where: 'wire', path: 'peerExtensions', is: 'object' },
  { where: 'wire', path: 'peerExtendedHandshake', is: 'object' },
  { where: 'BitField', path: 'grow', is: 'number' }
]

/** How long a BITFIELD may wait for the claim (extended handshake) that makes room for it. */
export const PENDING_BITFIELD_MS = 10_000

export interface BitfieldOptions {
  /** The highest piece index this peer may announce now. */
  limit: () => number
  /** A HAVE beyond the limit, or a BITFIELD longer than it allows: called instead of touching state. */
  onAbuse: (why: string) => void
  /** The protocol's hard limit on pieces (a BITFIELD longer than it is abuse at once). */
  hardLimit: number
  /** P12: a HAVE of this piece only sets the peer's bit (no 'have' event); for pieces we hold. */
  quiet?: (index: number) => boolean
}

/**
 * Bytes of BITFIELDs kept aside, all wires of all torrents together. One may be 8 MiB (the hard
 * limit, 2^26 pieces), and a peer that never sends its claim holds it for PENDING_BITFIELD_MS: 20
 * such peers held 160 MiB. An honest 1M-piece stream's BITFIELD is 125 KB.
 */
export const MAX_PENDING_BITFIELD_BYTES = 16 * 1024 * 1024

const pendingBitfields = new WeakMap<object, Uint8Array>()
/** Wires with a BITFIELD kept aside once: their close listener and deadline are set. */
const watched = new WeakSet<object>()
let pendingBytes = 0

/** Bytes of BITFIELDs kept aside now (for tests and meters). */
export function pendingBitfieldBytes (): number { return pendingBytes }

/** Keeps `buffer` aside for `wire`, within MAX_PENDING_BITFIELD_BYTES; false: no room. */
function keepAside (wire: WireLike, buffer: Uint8Array): boolean {
  if (pendingBitfields.get(wire) === buffer) return true // retried (retryPendingBitfield): still kept
  dropPending(wire)
  if (pendingBytes + buffer.length > MAX_PENDING_BITFIELD_BYTES) return false
  pendingBitfields.set(wire, buffer.slice())
  pendingBytes += buffer.length
  return true
}

function dropPending (wire: WireLike): void {
  const b = pendingBitfields.get(wire)
  if (!b) return
  pendingBitfields.delete(wire)
  pendingBytes -= b.length
}

export function adaptBitfield (wire: WireLike, { limit, onAbuse, hardLimit, quiet }: BitfieldOptions): void {
  wire.peerPieces = new BitField(0, { grow: limit() + 1 })
  roomFor(wire.peerPieces, limit())
  // A BITFIELD may arrive before we have heard how long the stream is (stock WebTorrent sends it
  // before its extended handshake, and a late joiner knows no head yet): one longer than we can
  // place now is kept aside — bounded by the protocol's hard limit — and applied by
  // retryPendingBitfield() once the peer's claim or a verified head makes room for it.
  wire._onBitField = function (this: WireLike, buffer: Uint8Array) {
    if (buffer.length > Math.ceil(hardLimit / 8) + 1) return onAbuse(`bitfield of ${buffer.length} bytes`)
    const max = limit()
    if (buffer.length > Math.ceil((max + 1) / 8) + 1) {
      // Kept aside only while the peer's claim may still come (its extended handshake): after it,
      // or from a peer without extensions, a bitfield beyond the limit is abuse.
      const heard = Object.keys(this.peerExtendedHandshake ?? {}).length > 0 || !this.peerExtensions?.extended
      if (heard) return onAbuse(`bitfield of ${buffer.length} bytes beyond ${max + 1} pieces`)
      if (!keepAside(this, buffer)) return onAbuse(`bitfield of ${buffer.length} bytes before its claim, with no room left to keep it aside`)
      if (watched.has(this)) return // its close listener and deadline are set already (a retry, or a second BITFIELD)
      watched.add(this)
      this.once('close', () => dropPending(this))
      const t = setTimeout(() => { if (pendingBitfields.has(this) && !this.destroyed) onAbuse(`bitfield of ${buffer.length} bytes never backed by a claim`) }, PENDING_BITFIELD_MS)
      t.unref?.()
      return
    }
    dropPending(this)
    this.peerPieces = new BitField(buffer.slice(), { grow: max + 1 })
    roomFor(this.peerPieces, max)
    this.emit('bitfield', this.peerPieces)
  }
  const onHave = wire._onHave
  wire._onHave = function (this: WireLike, index: number) {
    const max = limit()
    if (!(index >= 0 && index <= max)) return onAbuse(`HAVE ${index} beyond ${max}`)
    const bytes = Math.ceil((max + 1) / 8) // BitField keeps `grow` in bytes
    if (typeof this.peerPieces.grow === 'number' && this.peerPieces.grow < bytes) this.peerPieces.grow = bytes
    roomFor(this.peerPieces, max)
    if (quiet && !this.peerPieces.get(index) && quiet(index)) { this.peerPieces.set(index, true); return }
    return onHave.call(this, index)
  }
}

/** Applies a BITFIELD kept aside (see adaptBitfield) if the wire's limit now allows it. */
export function retryPendingBitfield (wire: WireLike): void {
  const b = pendingBitfields.get(wire)
  if (b && !wire.destroyed) wire._onBitField(b)
}

/** Whether the wire holds a BITFIELD we could not place yet. */
export function hasPendingBitfield (wire: WireLike): boolean {
  return pendingBitfields.has(wire)
}

/** P9: a buffer for bits 0…max plus at least one spare byte (so never our bitfield's exact length). */
function roomFor (bf: BitField, max: number): void {
  const need = Math.ceil((max + 1) / 8) + 1
  if (bf.buffer.length >= need) return
  const b = new Uint8Array(need + 512) // slack: reallocate once per ~4096 pieces of growth
  b.set(bf.buffer)
  bf.buffer = b
}
