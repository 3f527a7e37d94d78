/**
 * Wire handshake: the BEP 10 extended handshake, sent again once this side has the metadata.
 */
import type { Requirement, WireLike } from './types.js'

export const REQUIRES: readonly Requirement[] = [
  { where: 'Wire.prototype', path: '_sendExtendedHandshake', is: 'function' },
  { where: 'Wire.prototype', path: 'use', is: 'function' },
  { where: 'Wire.prototype', path: 'extended', is: 'function' },
  { where: 'Wire.prototype', path: '_sendExtendedHandshake', is: 'source', match: /_extendedHandshakeSent/ },
  { where: 'ut_metadata', path: '', is: 'source', match: /_metadataComplete/ },
  { where: 'wire', path: 'extendedHandshake', is: 'object' }
]

/**
 * Re-sends the extended handshake (BEP 10 allows it) once this side has the metadata, so that a
 * peer that connected while both sides were still fetching it learns `metadata_size` and can
 * fetch it from us. Stock WebTorrent never re-sends, and two magnet peers that met early stall.
 */
export function resendExtendedHandshake (wire: WireLike, fields: Record<string, unknown>, tries = 100): void {
  if (wire.destroyed || !wire._extendedHandshakeSent || !wire.peerExtensions?.extended) return
  // ut_metadata answers requests only once its own setMetadata() (async) has completed.
  if (wire.ut_metadata && !wire.ut_metadata._metadataComplete) {
    if (tries > 0) setTimeout(() => resendExtendedHandshake(wire, fields, tries - 1), 20)
    return
  }
  Object.assign(wire.extendedHandshake, fields)
  wire._sendExtendedHandshake()
}
