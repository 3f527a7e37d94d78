/**
 * Wire requests: the blocks a peer asks of us, and the blocks it sends us.
 *   REQUESTs for pieces beyond the stream, for pieces we never announced, or for blocks over
 *   128 KiB are abuse; a queue beyond MAX_PEER_REQUESTS is dropped; a response is matched to its
 *   own request (stock code loses both of two identical pending requests)
 *   'requested-piece' fires only for a PIECE that answers one of our requests
 *   a message longer than any legal one is abuse as soon as its length prefix arrives (stock code
 *   buffers up to 4 GiB for it, copying the whole buffer again on every chunk: quadratic CPU)
 */
import type { Requirement, RequestLike, WireLike } from './types.js'

export const REQUIRES: readonly Requirement[] = [
  { where: 'Wire.prototype', path: '_onRequest', is: 'function' },
  { where: 'Wire.prototype', path: '_onPiece', is: 'function' },
  { where: 'Wire.prototype', path: '_message', is: 'function' },
  { where: 'Wire.prototype', path: 'reject', is: 'function' },
  { where: 'Wire.prototype', path: 'piece', is: 'function' },
  { where: 'Wire.prototype', path: 'reject', is: 'source', match: /_message\((?:0x10|16),/ }, // REJECT's id, sent here directly
  { where: 'Wire.prototype', path: '_onMessageLength', is: 'function' },
  { where: 'Wire.prototype', path: '_parse', is: 'source', match: /\._parser\s*=/ }, // it sets _parser (and _parserSize); a match that survives the browser bundle's minifier
  { where: 'wire', path: '_parserSize', is: 'number' },
  { where: 'wire', path: 'peerRequests', is: 'array' },
  { where: 'wire', path: 'requests', is: 'array' },
  { where: 'wire', path: 'allowedFastSet', is: 'array' },
  { where: 'wire', path: 'hasFast', is: 'boolean' },
  { where: 'wire', path: 'amChoking', is: 'boolean' }
]

/** BEP 6 REJECT REQUEST: its message id. */
export const REJECT = 0x10
/** The largest block a peer may request (BEP 3 practice; WebTorrent drops the wire above it). */
export const MAX_BLOCK_LENGTH = 128 * 1024
/**
 * Requests a peer may have pending with us: twice the `reqq` we advertise (REQQ). WebTorrent honours
 * a peer's reqq; without one it pipelines by download speed (thousands on loopback).
 */
export const REQQ = 1024
export const MAX_PEER_REQUESTS = 2 * REQQ
/** The longest message but a BITFIELD: a 128 KiB PIECE, or an extended message (metadata, PUSH, HASHES: ≤ 17 KiB), with room to spare. */
export const MAX_MESSAGE_BYTES = 256 * 1024

/**
 * Bounds the length of every message from the peer: MAX_MESSAGE_BYTES, and once per wire one up to
 * a BITFIELD of `hardLimit` pieces (its length is judged by wire-bitfield.ts). A longer one is
 * abuse when its length prefix arrives, before any of it is buffered.
 */
export function boundMessages (wire: WireLike, hardLimit: number, onAbuse: (why: string) => void): void {
  const stock = wire._onMessageLength
  const bitfieldBytes = 1 + Math.ceil(hardLimit / 8)
  let bigSeen = false
  const fits = (length: number): boolean => {
    if (length <= MAX_MESSAGE_BYTES) return true
    if (bigSeen || length > bitfieldBytes) return false
    bigSeen = true
    return true
  }
  const refuse = (w: WireLike, length: number): void => {
    w._parse(Infinity, () => {}) // parse nothing more from this wire
    onAbuse(`a message of ${length} bytes`)
  }
  const bounded = function (this: WireLike, buffer: Uint8Array) {
    const length = ((buffer[0]! << 24) | (buffer[1]! << 16) | (buffer[2]! << 8) | buffer[3]!) >>> 0
    if (!fits(length)) return refuse(this, length)
    return stock.call(this, buffer)
  }
  wire._onMessageLength = bounded
  // Adopted after the handshake, the wire may already be reading a length (with the stock parser)
  // or waiting for the body of a message whose length it read.
  if (wire._parser === stock) wire._parser = bounded
  else if (wire._parser !== bounded && !fits(wire._parserSize)) refuse(wire, wire._parserSize)
}

export interface RequestOptions {
  /** How many pieces the stream has now (a REQUEST at or beyond it is abuse). */
  pieces: () => number
  /** Whether we hold (and so announced) a piece; a REQUEST for another is abuse. */
  has?: (index: number) => boolean
  onAbuse: (why: string) => void
}

// REQUEST: a piece beyond the stream (never announced by us) or a block over 128 KiB is abuse.
// Stock WebTorrent looks such requests up in the store (and only drops the wire for long blocks).
//
// The rest is bittorrent-protocol 5.0.9's _onRequest with one fix: a response finds its own
// request by identity. Stock code pulls the first pending request with the same (index, offset,
// length), so when a peer has two identical requests pending (WebTorrent asks for a block again
// after a hotswap) and they complete out of order, both responses are dropped: no PIECE, no
// REJECT; the requester's timer runs out and it drops the wire (seen with an honest broadcaster).
export function adaptRequests (wire: WireLike, { pieces, has, onAbuse }: RequestOptions): void {
  wire._onRequest = function (this: WireLike, index: number, offset: number, length: number) {
    const n = pieces()
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
    const request: RequestLike = { piece: index, offset, length, callback: respond }
    function respond (err: unknown, buffer?: Uint8Array): void {
      const i = wire.peerRequests.indexOf(request)
      if (i === -1) return // rejected (choke) or cancelled meanwhile
      wire.peerRequests.splice(i, 1)
      if (err || !buffer) {
        if (wire.hasFast) wire._message(REJECT, [index, offset, length], null) // this one (reject() would pull a twin)
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
export function emitRequestedPieces (wire: WireLike): void {
  const onPiece = wire._onPiece
  wire._onPiece = function (this: WireLike, index: number, offset: number, buffer: Uint8Array) {
    const asked = this.requests.some((r) => r.piece === index && r.offset === offset && r.length === buffer.length)
    onPiece.call(this, index, offset, buffer)
    if (asked) this.emit('requested-piece', index, offset, buffer)
  }
}
