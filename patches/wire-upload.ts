/**
 * Wire upload and request timeouts: what the live layer's upload budget (lib/live/upload-budget.ts)
 * and its slow-peer rule (lib/live/peer-policy.ts) need from a wire.
 *   countPushed()       bytes the wire hands to its connection (messages and piece data)
 *   owedBytes()         bytes of the peer's admitted requests not answered yet
 *   connBytes()         bytes the connection handed to the OS, and bytes waiting in it (a net.Socket counts them)
 *   wireBuffered()      bytes the wire produced that its connection has not taken yet (any connection)
 *   admitRequests()     a REQUEST the budget refuses is REJECTed at once (BEP 6)
 *   onRequestTimeout()  a timeout may cancel our requests instead of dropping the wire
 *   cancelRequests()    our requests for a piece that came otherwise (pushed: lib/live/push.ts) are cancelled
 *   peerRequested()     whether the peer has asked us for a block of a piece (push.ts does not push it to it)
 *   arriving()          a large message (a block) from the peer partly here: its bytes so far and its length
 */
import { connOf } from './torrent-peers.js'
import { REJECT } from './wire-requests.js'
import type { Requirement, TorrentLike, WireLike } from './types.js'

export const REQUIRES: readonly Requirement[] = [
  { where: 'Wire.prototype', path: '_onTimeout', is: 'function' },
  { where: 'Wire.prototype', path: '_onRequest', is: 'function' },
  { where: 'Wire.prototype', path: '_onTimeout', is: 'source', match: /emit\(["']timeout["']\)/ },
  { where: 'Wire.prototype', path: '_resetTimeout', is: 'function' },
  { where: 'Wire.prototype', path: 'cancel', is: 'function' },
  { where: 'Wire.prototype', path: 'push', is: 'function' },
  { where: 'Wire.prototype', path: '_message', is: 'function' },
  { where: 'wire', path: 'requests', is: 'array' },
  { where: 'wire', path: 'amChoking', is: 'boolean' },
  { where: 'wire', path: '_readableState.buffered', is: 'number' },
  { where: 'wire', path: '_parserSize', is: 'number' },
  { where: 'wire', path: '_bufferSize', is: 'number' }
]

/** Counts the bytes a wire hands to its connection (after encryption). Returns the counter. */
export function countPushed (wire: WireLike): () => number {
  let n = 0
  const push = wire.push
  wire.push = function (this: WireLike, chunk: unknown, ...rest: unknown[]) {
    if (chunk && typeof (chunk as Uint8Array).length === 'number') n += (chunk as Uint8Array).length
    return push.call(this, chunk, ...rest)
  }
  return () => n
}

/**
 * Bytes the peer asked of us that we admitted and have not answered yet (its requests queued in
 * `peerRequests` while the store reads them): promised upload, not yet counted by `countPushed`.
 */
export function owedBytes (wire: WireLike): () => number {
  return () => {
    let n = 0
    for (const r of wire.peerRequests) n += r.length
    return n
  }
}

/**
 * What the wire's connection counts, where it does (a net.Socket; null for other connections,
 * WebRTC): `sent()`, the bytes it handed to the OS so far (bytesWritten minus what still waits in
 * its buffer), and `waiting()`, the bytes waiting in the connection itself, not taken by the OS yet
 * (a peer that stops reading fills it once the OS's buffers are full; bytes held before the
 * connection, in WebTorrent's upload throttle, are not in it).
 */
export function connBytes (torrent: TorrentLike, wire: WireLike): { sent: () => number, waiting: () => number } | null {
  const conn = connOf(torrent, wire) as { bytesWritten?: unknown, writableLength?: unknown } | null
  if (!conn || typeof conn.bytesWritten !== 'number' || typeof conn.writableLength !== 'number') return null
  return {
    sent: () => (conn.bytesWritten as number) - (conn.writableLength as number),
    waiting: () => conn.writableLength as number
  }
}

/**
 * Bytes the wire has produced (messages, blocks) that its connection has not read from it yet: what
 * piles up when the connection stops draining, whatever it is (a WebRTC data channel applies
 * backpressure; the wire does not, it keeps buffering).
 */
export function wireBuffered (wire: WireLike): () => number {
  const state = (wire as unknown as { _readableState: { buffered: number } })._readableState
  return () => state.buffered
}

/**
 * Requests that `admit()` refuses (an uplink already holding more than it can send soon) are
 * rejected at once (BEP 6 REJECT) while we unchoke the peer; without the fast extension, dropped.
 */
export function admitRequests (wire: WireLike, admit: (length: number) => boolean): void {
  const onRequest = wire._onRequest
  wire._onRequest = function (this: WireLike, index: number, offset: number, length: number) {
    if (!this.amChoking && !admit(length)) {
      if (this.hasFast) this._message(REJECT, [index, offset, length], null)
      return
    }
    return onRequest.call(this, index, offset, length)
  }
}

/**
 * A wire whose requests time out (no block for the wire's timeout while requests are pending):
 * stock bittorrent-protocol fails the oldest request and emits 'timeout', on which WebTorrent
 * destroys the wire. Where `keep()` says so, every pending request is cancelled instead (BEP 3
 * CANCEL; WebTorrent asks other peers for those blocks) and the wire stays: a peer on a slow or
 * lossy link that is busy serving others is still a neighbour worth having in a live swarm. Where
 * it says 'wait' (a block is arriving), the requests stay and the timeout starts again.
 */
export function onRequestTimeout (wire: WireLike, keep: () => boolean | 'wait'): void {
  const stock = wire._onTimeout
  wire._onTimeout = function (this: WireLike) {
    if (this.destroyed) return stock.call(this)
    const k = keep()
    if (k === false) return stock.call(this)
    // 'wait': a block is arriving; the requests stay and the timeout starts again.
    if (k === 'wait') { (this as unknown as { _resetTimeout: (again: boolean) => void })._resetTimeout(true); return }
    for (const r of [...this.requests]) this.cancel(r.piece, r.offset, r.length)
  }
}

/** Cancels (BEP 3 CANCEL) our pending requests for piece `index` on every wire: it came otherwise (a PUSH). */
export function cancelRequests (torrent: TorrentLike, index: number): void {
  for (const wire of torrent.wires) {
    if (wire.destroyed) continue
    for (const r of [...wire.requests]) if (r.piece === index) wire.cancel(r.piece, r.offset, r.length)
  }
}

/** Whether the peer on `wire` has a pending request of ours to serve for piece `index`. */
export function peerRequested (wire: WireLike, index: number): boolean {
  return wire.peerRequests.some((r) => r.piece === index)
}

/** A message at least this long whose first bytes are here is taken for a block on its way (a PIECE or PUSH). */
const LARGE_MESSAGE = 1024

/**
 * A large message from the peer (a block: its length said it is at least LARGE_MESSAGE bytes)
 * that is arriving: part of it is buffered and the parser waits for the rest. `have` bytes of it are
 * here, of `need`; null when none is. A peer on a narrow uplink sending us a 16 KiB block for
 * longer than our request timeout is slow, not holding our requests back.
 */
export function arriving (wire: WireLike): { have: number, need: number } | null {
  const w = wire as unknown as { _parserSize: number, _bufferSize: number }
  return w._parserSize >= LARGE_MESSAGE && w._bufferSize > 0 ? { have: w._bufferSize, need: w._parserSize } : null
}
