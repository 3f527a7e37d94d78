/**
 * Start-up self-test: every WebTorrent private member that patches/ relies on must exist in the
 * installed, pinned version. A WebTorrent upgrade that moves one fails here, loudly, instead of
 * stalling a swarm silently later.
 */
import WebTorrent from 'webtorrent'
import Torrent from 'webtorrent/lib/torrent.js'
import Wire from 'bittorrent-protocol'
import Piece from 'torrent-piece'
import BitField from 'bitfield'

export const PINNED_WEBTORRENT = '3.0.21'

const TORRENT_METHODS = ['_hasAllPieces', '_checkDone', '_markVerified', '_markUnverified', '_verifyPieces', '_gcSelections', '_updateWireInterest', '_onMetadata', '_select', '_request', '_updateSelections', '_update', 'addPeer', 'select', 'critical'] as const
const WIRE_METHODS = ['_onBitField', '_onHave', '_onRequest', '_onPiece', '_message', 'reject', 'piece', '_sendExtendedHandshake', 'use', 'extended', 'have', 'destroy'] as const

let checked: Error | null | undefined

export function checkInternals (): void {
  if (checked === undefined) checked = runCheck()
  if (checked) throw checked
}

function runCheck (): Error | null {
  const problems: string[] = []
  const version = String((WebTorrent as { VERSION?: string }).VERSION)
  if (version !== PINNED_WEBTORRENT) problems.push(`webtorrent ${version} is installed; webtorrent-live is built for exactly ${PINNED_WEBTORRENT}`)
  const tp = (Torrent as { prototype: Record<string, unknown> }).prototype
  for (const m of TORRENT_METHODS) if (typeof tp[m] !== 'function') problems.push(`Torrent.prototype.${m} is missing`)
  const wp = (Wire as { prototype: Record<string, unknown> }).prototype
  for (const m of WIRE_METHODS) if (typeof wp[m] !== 'function') problems.push(`Wire.prototype.${m} is missing`)
  const p = new Piece(16384) as unknown as Record<string, unknown>
  if (typeof p.missing !== 'number' || typeof p.reserve !== 'function') problems.push('torrent-piece Piece lacks missing/reserve')
  const bf = new BitField(8)
  if (!(bf.buffer instanceof Uint8Array)) problems.push('bitfield BitField lacks a buffer')
  if (problems.length === 0) return null
  const err = new Error(`WEBTORRENT_INTERNALS: webtorrent-live cannot adapt this WebTorrent: ${problems.join('; ')}. Install webtorrent@${PINNED_WEBTORRENT}.`)
  ;(err as Error & { code: string }).code = 'WEBTORRENT_INTERNALS'
  return err
}

/** Checks, on a live torrent as WebTorrent built it, the fields the growth routine edits. */
export function checkTorrentState (t: Record<string, unknown>): void {
  const missing: string[] = []
  if (!Array.isArray(t.pieces)) missing.push('pieces')
  if (!Array.isArray(t._hashes)) missing.push('_hashes')
  if (!Array.isArray(t._reservations)) missing.push('_reservations')
  if (!(t.bitfield && (t.bitfield as { buffer?: unknown }).buffer instanceof Uint8Array)) missing.push('bitfield.buffer')
  if (!Array.isArray(t.files) || t.files.length !== 1) missing.push('files[0]')
  else if (typeof (t.files[0] as Record<string, unknown>)._endPiece !== 'number') missing.push('files[0]._endPiece')
  if (typeof t.lastPieceLength !== 'number') missing.push('lastPieceLength')
  const sel = t._selections as { _items?: unknown } | undefined
  if (!sel || !Array.isArray(sel._items)) missing.push('_selections._items')
  if (missing.length) {
    const err = new Error(`WEBTORRENT_INTERNALS: a ready torrent lacks ${missing.join(', ')}; install webtorrent@${PINNED_WEBTORRENT}`)
    ;(err as Error & { code: string }).code = 'WEBTORRENT_INTERNALS'
    throw err
  }
}
