/**
 * Start-up self-test: every WebTorrent private member that patches/ relies on must exist in the
 * installed, pinned version. A WebTorrent upgrade that moves one fails here, loudly, instead of
 * stalling a swarm silently later.
 */
import WebTorrent from 'webtorrent'
import Torrent from 'webtorrent/lib/torrent.js'
import File from 'webtorrent/lib/file.js'
import Wire from 'bittorrent-protocol'
import Piece from 'torrent-piece'
import BitField from 'bitfield'

export const PINNED_WEBTORRENT = '3.0.21'
/** The WebTorrent versions whose internals patches/ adapts (package.json's peerDependencies say the same). */
export const SUPPORTED_WEBTORRENT = '>=3.0.21 <3.1.0'

/** Whether a WebTorrent version string is in SUPPORTED_WEBTORRENT (3.0.x, x ≥ 21). */
export function isSupportedVersion (version: unknown): boolean {
  const m = typeof version === 'string' ? /^(\d+)\.(\d+)\.(\d+)(?:[-+].*)?$/.exec(version) : null
  return m !== null && m[1] === '3' && m[2] === '0' && Number(m[3]) >= 21
}

const TORRENT_METHODS = ['_hasAllPieces', '_checkDone', '_markVerified', '_markUnverified', '_verifyPieces', '_gcSelections', '_updateWireInterest', '_onMetadata', '_select', '_request', '_updateSelections', '_update', '_updateWireWrapper', 'addPeer', 'select', 'critical'] as const
const CLIENT_METHODS = ['add', 'get', 'remove', 'destroy'] as const
const WIRE_METHODS = ['_onBitField', '_onHave', '_onRequest', '_onPiece', '_onTimeout', '_message', 'cancel', 'reject', 'piece', '_sendExtendedHandshake', 'use', 'extended', 'have', 'destroy', 'push'] as const

let checked: Error | null | undefined

export function checkInternals (): void {
  if (checked === undefined) checked = runCheck()
  if (checked) throw checked
}

const clientsChecked = new WeakSet<object>()

/**
 * Checks the client an app hands to enableLive / broadcast: its own WebTorrent (an app may hold
 * another copy than the one this package resolves), by its constructor's version and the members
 * patches/ needs on it. Throws WEBTORRENT_INTERNALS naming the supported range.
 */
export function checkClient (client: unknown): void {
  checkInternals()
  if (client !== null && typeof client === 'object' && clientsChecked.has(client)) return
  const problems: string[] = []
  const c = client as Record<string, unknown> | null
  if (c === null || typeof c !== 'object' || typeof c.add !== 'function' || !Array.isArray(c.torrents)) {
    problems.push('the argument is not a WebTorrent client')
  } else {
    const version = (c.constructor as { VERSION?: unknown } | undefined)?.VERSION
    if (!isSupportedVersion(version)) problems.push(`the client is webtorrent ${typeof version === 'string' ? version : '(no VERSION)'}`)
    for (const m of CLIENT_METHODS) if (typeof c[m] !== 'function') problems.push(`client.${m} is missing`)
  }
  if (problems.length > 0) throw internalsError(problems)
  clientsChecked.add(c as object)
}

/** The client's own Torrent class (a torrent it made), checked once per class. */
export function checkTorrentClass (torrent: unknown): void {
  const proto = torrent !== null && typeof torrent === 'object' ? Object.getPrototypeOf(torrent) as Record<string, unknown> : null
  if (proto && clientsChecked.has(proto)) return
  const problems: string[] = []
  for (const m of TORRENT_METHODS) if (typeof proto?.[m] !== 'function') problems.push(`Torrent.prototype.${m} is missing`)
  if (problems.length > 0) throw internalsError(problems)
  clientsChecked.add(proto as object)
}

function internalsError (problems: string[]): Error {
  const err = new Error(`WEBTORRENT_INTERNALS: webtorrent-live cannot adapt this WebTorrent: ${problems.join('; ')}. It supports webtorrent ${SUPPORTED_WEBTORRENT} (tested with ${PINNED_WEBTORRENT}); install a version in that range, and only one copy (npm ls webtorrent).`)
  ;(err as Error & { code: string }).code = 'WEBTORRENT_INTERNALS'
  return err
}

function runCheck (): Error | null {
  const problems: string[] = []
  const version = (WebTorrent as { VERSION?: string }).VERSION
  if (!isSupportedVersion(version)) problems.push(`webtorrent ${String(version)} is installed`)
  const tp = (Torrent as { prototype: Record<string, unknown> }).prototype
  for (const m of TORRENT_METHODS) if (typeof tp[m] !== 'function') problems.push(`Torrent.prototype.${m} is missing`)
  const fp = (File as { prototype: Record<string | symbol, unknown> }).prototype
  for (const m of ['createReadStream', Symbol.asyncIterator] as const) if (typeof fp[m] !== 'function') problems.push(`File.prototype.${String(m)} is missing (patches/file.ts)`)
  const wp = (Wire as { prototype: Record<string, unknown> }).prototype
  for (const m of WIRE_METHODS) if (typeof wp[m] !== 'function') problems.push(`Wire.prototype.${m} is missing`)
  const p = new Piece(16384) as unknown as Record<string, unknown>
  if (typeof p.missing !== 'number' || typeof p.reserve !== 'function') problems.push('torrent-piece Piece lacks missing/reserve')
  const bf = new BitField(8)
  if (!(bf.buffer instanceof Uint8Array)) problems.push('bitfield BitField lacks a buffer')
  return problems.length === 0 ? null : internalsError(problems)
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
