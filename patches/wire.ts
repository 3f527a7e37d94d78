/**
 * Adapts a bittorrent-protocol Wire for a torrent that grows:
 *   P4 a BITFIELD makes peerPieces growable (otherwise HAVEs past its size are silently dropped)
 *   HAVE indices are bounded by what the stream can hold (a hostile HAVE can't allocate a huge bitfield)
 *   REQUESTs for pieces beyond the stream, or for blocks over 128 KiB, are abuse; a response is
 *   matched to its own request (stock code loses both of two identical pending requests)
 *   P8 TCP_NODELAY on TCP sockets (WebTorrent leaves Nagle on: ~40 ms per hop)
 *   P9 a peer's bitfield buffer is kept longer than ours: WebTorrent's per-HAVE "is this peer a
 *      seeder?" check loops over every piece when the two lengths are equal (O(stream) per HAVE);
 *      with unequal lengths it returns at once. A growing stream has no seeders anyway.
 */
import BitField from 'bitfield'
import { connOf } from './torrent.js'

/* eslint-disable @typescript-eslint/no-explicit-any */
type W = any

/**
 * @param limit returns the highest piece index this peer may announce now; a HAVE beyond it, or a
 *   BITFIELD longer than it allows, calls onAbuse instead of touching state.
 */
export function adaptWire (wire: W, limit: () => number, onAbuse: (why: string) => void, pieces?: () => number, hardLimit = 2 ** 26, has?: (index: number) => boolean): void {
  wire.peerPieces = new BitField(0, { grow: limit() + 1 })
  roomFor(wire.peerPieces, limit())
  // A BITFIELD may arrive before we have heard how long the stream is (stock WebTorrent sends it
  // before its extended handshake, and a late joiner knows no head yet): one longer than we can
  // place now is kept aside — bounded by the protocol's hard limit — and applied by
  // retryPendingBitfield() once the peer's claim or a verified head makes room for it.
  wire._onBitField = function (this: W, buffer: Uint8Array) {
    if (buffer.length > Math.ceil(hardLimit / 8) + 1) return onAbuse(`bitfield of ${buffer.length} bytes`)
    const max = limit()
    if (buffer.length > Math.ceil((max + 1) / 8) + 1) {
      // Kept aside only while the peer's claim may still come (its extended handshake): after it,
      // or from a peer without extensions, a bitfield beyond the limit is abuse.
      const heard = Object.keys(this.peerExtendedHandshake ?? {}).length > 0 || !this.peerExtensions?.extended
      if (heard) return onAbuse(`bitfield of ${buffer.length} bytes beyond ${max + 1} pieces`)
      pendingBitfields.set(this, buffer.slice())
      const t = setTimeout(() => { if (pendingBitfields.has(this) && !this.destroyed) onAbuse(`bitfield of ${buffer.length} bytes never backed by a claim`) }, PENDING_BITFIELD_MS)
      t.unref?.()
      return
    }
    pendingBitfields.delete(this)
    this.peerPieces = new BitField(buffer.slice(), { grow: max + 1 })
    roomFor(this.peerPieces, max)
    this.emit('bitfield', this.peerPieces)
  }
  const onHave = wire._onHave
  wire._onHave = function (this: W, index: number) {
    const max = limit()
    if (!(index >= 0 && index <= max)) return onAbuse(`HAVE ${index} beyond ${max}`)
    const bytes = Math.ceil((max + 1) / 8) // BitField keeps `grow` in bytes
    if (typeof this.peerPieces.grow === 'number' && this.peerPieces.grow < bytes) this.peerPieces.grow = bytes
    roomFor(this.peerPieces, max)
    return onHave.call(this, index)
  }
  // REQUEST: a piece beyond the stream (never announced by us) or a block over 128 KiB is abuse.
  // Stock WebTorrent looks such requests up in the store (and only drops the wire for long blocks).
  //
  // The rest is bittorrent-protocol 5.0.9's _onRequest with one fix: a response finds its own
  // request by identity. Stock code pulls the first pending request with the same (index, offset,
  // length), so when a peer has two identical requests pending (WebTorrent asks for a block again
  // after a hotswap) and they complete out of order, both responses are dropped: no PIECE, no
  // REJECT; the requester's timer runs out and it drops the wire (seen with an honest broadcaster).
  wire._onRequest = function (this: W, index: number, offset: number, length: number) {
    const n = pieces ? pieces() : limit() + 1
    if (!(index >= 0 && index < n)) return onAbuse(`REQUEST for piece ${index} of a stream of ${n}`)
    if (!(length > 0 && length <= MAX_BLOCK_LENGTH)) return onAbuse(`REQUEST of ${length} bytes`)
    // We announce only pieces we hold and never drop one: a request for another is abuse (WebTorrent
    // would leave it in peerRequests forever, unanswered). So is a queue far beyond any pipeline.
    if (has && !has(index)) return onAbuse(`REQUEST for piece ${index}, which we never announced`)
    if (this.peerRequests.length >= MAX_PEER_REQUESTS) {
      // Over twice the reqq we advertise: dropped (rejected where the peer speaks BEP 6), not
      // queued — memory stays bounded; not a ban: a busy source may simply be slow to drain.
      if (this.hasFast) this._message(REJECT, [index, offset, length], null)
      return
    }
    if (this.amChoking && !(this.hasFast && this.allowedFastSet.includes(index))) {
      if (this.hasFast) this.reject(index, offset, length)
      return
    }
    const request = { piece: index, offset, length, callback: respond }
    function respond (this: unknown, err: unknown, buffer?: Uint8Array): void {
      const i = wire.peerRequests.indexOf(request)
      if (i === -1) return // rejected (choke) or cancelled meanwhile
      wire.peerRequests.splice(i, 1)
      if (err || !buffer) {
        if (wire.hasFast) wire._message(REJECT, [index, offset, length], null) // REJECT this one (reject() would pull a twin)
        return
      }
      wire.piece(index, offset, buffer)
    }
    this.peerRequests.push(request)
    this.emit('request', index, offset, length, respond)
  }
}

/**
 * Emits 'requested-piece' (index, offset, block) for a PIECE that answers one of our requests.
 * Stock 'piece' also fires for blocks nobody asked for (a late answer to a cancelled request, or
 * a hostile peer's), which must not be kept or count as that peer's contribution.
 */
export function emitRequestedPieces (wire: W): void {
  const onPiece = wire._onPiece
  wire._onPiece = function (this: W, index: number, offset: number, buffer: Uint8Array) {
    const asked = this.requests.some((r: W) => r.piece === index && r.offset === offset && r.length === buffer.length)
    onPiece.call(this, index, offset, buffer)
    if (asked) this.emit('requested-piece', index, offset, buffer)
  }
}

/**
 * A wire whose requests time out (no block for the wire's timeout while requests are pending):
 * stock bittorrent-protocol fails the oldest request and emits 'timeout', on which WebTorrent
 * destroys the wire. Where `keep()` says so, every pending request is cancelled instead (BEP 3
 * CANCEL; WebTorrent asks other peers for those blocks) and the wire stays: a peer on a slow or
 * lossy link that is busy serving others is still a neighbour worth having in a live swarm.
 */
export function onRequestTimeout (wire: W, keep: () => boolean): void {
  const stock = wire._onTimeout
  wire._onTimeout = function (this: W) {
    if (this.destroyed || !keep()) return stock.call(this)
    for (const r of [...this.requests]) this.cancel(r.piece, r.offset, r.length)
  }
}

/**
 * Counts the bytes a wire hands to its connection (everything it pushes: messages and piece data,
 * after encryption). Returns the counter.
 */
export function countPushed (wire: W): () => number {
  let n = 0
  const push = wire.push
  wire.push = function (this: W, chunk: unknown, ...rest: unknown[]) {
    if (chunk && typeof (chunk as Uint8Array).length === 'number') n += (chunk as Uint8Array).length
    return push.call(this, chunk, ...rest)
  }
  return () => n
}

/**
 * Bytes the wire's connection has handed to the OS so far, where it counts them (a net.Socket:
 * bytesWritten counts what waits in its buffer too); null for other connections (WebRTC).
 */
export function connSent (torrent: unknown, wire: W): (() => number) | null {
  const conn = connOf(torrent, wire)
  if (!conn || typeof conn.bytesWritten !== 'number' || typeof conn.writableLength !== 'number') return null
  return () => conn.bytesWritten - conn.writableLength
}

/**
 * Requests that `admit()` refuses (an uplink already holding more than it can send soon) are
 * rejected at once (BEP 6 REJECT) while we unchoke the peer; without the fast extension, dropped.
 */
export function admitRequests (wire: W, admit: () => boolean): void {
  const onRequest = wire._onRequest
  wire._onRequest = function (this: W, index: number, offset: number, length: number) {
    if (!this.amChoking && !admit()) {
      if (this.hasFast) this._message(REJECT, [index, offset, length], null)
      return
    }
    return onRequest.call(this, index, offset, length)
  }
}

/** BEP 6 REJECT REQUEST. */
export const REJECT = 0x10

/** The largest block a peer may request (BEP 3 practice; WebTorrent drops the wire above it). */
export const MAX_BLOCK_LENGTH = 128 * 1024

const pendingBitfields = new WeakMap<object, Uint8Array>()
/** How long a BITFIELD may wait for the claim (extended handshake) that makes room for it. */
export const PENDING_BITFIELD_MS = 10_000
/**
 * Requests a peer may have pending with us: twice the `reqq` we advertise (REQQ). WebTorrent honours
 * a peer's reqq; without one it pipelines by download speed (thousands on loopback).
 */
export const REQQ = 1024
export const MAX_PEER_REQUESTS = 2 * REQQ

/** Applies a BITFIELD kept aside (see adaptWire) if the wire's limit now allows it. */
export function retryPendingBitfield (wire: W): void {
  const b = pendingBitfields.get(wire)
  if (b && !wire.destroyed) wire._onBitField(b)
}

/** Whether the wire holds a BITFIELD we could not place yet. */
export function hasPendingBitfield (wire: W): boolean {
  return pendingBitfields.has(wire)
}

/** P9: a buffer for bits 0…max plus at least one spare byte (so never our bitfield's exact length). */
function roomFor (bf: W, max: number): void {
  const need = Math.ceil((max + 1) / 8) + 1
  if (bf.buffer.length >= need) return
  const b = new Uint8Array(need + 512) // slack: reallocate once per ~4096 pieces of growth
  b.set(bf.buffer)
  bf.buffer = b
}

/** Turns Nagle off on the wire's TCP socket, when there is one. */
export function noDelay (torrent: unknown, wire: W): void {
  const conn = connOf(torrent, wire)
  if (conn && typeof conn.setNoDelay === 'function') conn.setNoDelay(true)
}

/**
 * Re-sends the extended handshake (BEP 10 allows it) once this side has the metadata, so that a
 * peer that connected while both sides were still fetching it learns `metadata_size` and can
 * fetch it from us. Stock WebTorrent never re-sends, and two magnet peers that met early stall.
 */
export function resendExtendedHandshake (wire: W, fields: Record<string, unknown>, tries = 100): void {
  if (wire.destroyed || !wire._extendedHandshakeSent || !wire.peerExtensions?.extended) return
  // ut_metadata answers requests only once its own setMetadata() (async) has completed.
  if (wire.ut_metadata && !wire.ut_metadata._metadataComplete) {
    if (tries > 0) setTimeout(() => resendExtendedHandshake(wire, fields, tries - 1), 20)
    return
  }
  Object.assign(wire.extendedHandshake, fields)
  wire._sendExtendedHandshake()
}
