/**
 * Adapts a bittorrent-protocol Wire for a torrent that grows:
 *   P4 a BITFIELD makes peerPieces growable (otherwise HAVEs past its size are silently dropped)
 *   HAVE indices are bounded by what the stream can hold (a hostile HAVE can't allocate a huge bitfield)
 *   P8 TCP_NODELAY on TCP sockets (WebTorrent leaves Nagle on: ~40 ms per hop)
 */
import BitField from 'bitfield'
import { connOf } from './torrent.js'

/* eslint-disable @typescript-eslint/no-explicit-any */
type W = any

/**
 * @param limit returns the highest piece index this peer may announce now; a HAVE beyond it, or a
 *   BITFIELD longer than it allows, calls onAbuse instead of touching state.
 */
export function adaptWire (wire: W, limit: () => number, onAbuse: (why: string) => void): void {
  wire.peerPieces = new BitField(0, { grow: limit() + 1 })
  wire._onBitField = function (this: W, buffer: Uint8Array) {
    const max = limit()
    if (buffer.length > Math.ceil((max + 1) / 8) + 1) return onAbuse(`bitfield of ${buffer.length} bytes`)
    this.peerPieces = new BitField(buffer.slice(), { grow: max + 1 })
    this.emit('bitfield', this.peerPieces)
  }
  const onHave = wire._onHave
  wire._onHave = function (this: W, index: number) {
    const max = limit()
    if (!(index >= 0 && index <= max)) return onAbuse(`HAVE ${index} beyond ${max}`)
    const bytes = Math.ceil((max + 1) / 8) // BitField keeps `grow` in bytes
    if (typeof this.peerPieces.grow === 'number' && this.peerPieces.grow < bytes) this.peerPieces.grow = bytes
    return onHave.call(this, index)
  }
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
