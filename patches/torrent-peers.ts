/**
 * Torrent peers: which peers a torrent dials, which wire a block is requested from, and the
 * connection behind a wire.
 *
 *   filterPeers()    addPeer refuses banned addresses, and so does WebTorrent's own redial of a
 *                    closed outgoing peer (_addPeer, 1 / 5 / 15 s after the close)
 *   filterRequests() a veto on _request (one wire for a piece under suspicion: smart ban)
 *   connOf()/noDelay() P8 TCP_NODELAY on TCP sockets (WebTorrent leaves Nagle on: ~40 ms per hop)
 */
import type { Requirement, TorrentLike, WireLike } from './types.js'

export const REQUIRES: readonly Requirement[] = [
  { where: 'Torrent.prototype', path: 'addPeer', is: 'function' },
  { where: 'Torrent.prototype', path: '_addPeer', is: 'function' },
  { where: 'Torrent.prototype', path: '_request', is: 'function' },
  { where: 'torrent', path: '_peers', is: 'map' }
]

/** Rejects new peers for which `allow(addr)` is false (bans, a peer connected on another wire), redials included. */
export function filterPeers (torrent: TorrentLike, allow: (addr: string) => boolean): void {
  const addPeer = torrent.addPeer
  torrent.addPeer = function (this: TorrentLike, peer: unknown, source?: unknown) {
    if (typeof peer === 'string' && !allow(peer)) return false
    return addPeer.call(this, peer, source)
  }
  const add = torrent._addPeer
  torrent._addPeer = function (this: TorrentLike, peer: unknown, type?: unknown, source?: unknown) {
    if (typeof peer === 'string' && !allow(peer)) return null
    return add.call(this, peer, type, source)
  }
}

/**
 * Lets `allow(wire, index)` veto a block request before WebTorrent reserves it (the live
 * controller uses it to fetch a piece that failed verification with several senders from one).
 */
export function filterRequests (torrent: TorrentLike, allow: (wire: WireLike, index: number) => boolean): void {
  const request = torrent._request
  torrent._request = function (this: TorrentLike, wire: WireLike, index: number, hotswap?: boolean) {
    if (!allow(wire, index)) return false
    return request.call(this, wire, index, hotswap)
  }
}

/** The connection object (a net.Socket, uTP socket or WebRTC peer) behind a wire, if known. */
export function connOf (torrent: TorrentLike, wire: unknown): unknown {
  for (const peer of torrent._peers.values()) if (peer.wire === wire) return peer.conn
  return null
}

/** Turns Nagle off on the wire's TCP socket, when there is one. */
export function noDelay (torrent: TorrentLike, wire: WireLike): void {
  const conn = connOf(torrent, wire) as { setNoDelay?: (on: boolean) => void } | null
  if (conn && typeof conn.setNoDelay === 'function') conn.setNoDelay(true)
}
