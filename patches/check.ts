/**
 * Start-up self-test: every WebTorrent private member that patches/ relies on must exist in the
 * installed, pinned version. A WebTorrent upgrade that moves one fails here, loudly, instead of
 * stalling a swarm silently later. What is checked is exactly the union of the REQUIRES lists of
 * the files in patches/ (each lists what it uses), so the check cannot drift from the code.
 */
import WebTorrent from 'webtorrent'
import Torrent from 'webtorrent/lib/torrent.js'
import File from 'webtorrent/lib/file.js'
import Wire from 'bittorrent-protocol'
import Piece from 'torrent-piece'
import BitField from 'bitfield'
import utMetadata from 'ut_metadata'
import type { Requirement } from './types.js'
import { REQUIRES as GROWTH } from './torrent-growth.js'
import { REQUIRES as PROGRESS } from './torrent-progress.js'
import { REQUIRES as RELEASE } from './torrent-release.js'
import { REQUIRES as PEERS } from './torrent-peers.js'
import { REQUIRES as BITFIELD } from './wire-bitfield.js'
import { REQUIRES as REQUESTS } from './wire-requests.js'
import { REQUIRES as HANDSHAKE } from './wire-handshake.js'
import { REQUIRES as STORE } from './store.js'
import { REQUIRES as FILE } from './file.js'
import { REQUIRES as DISCOVERY } from './discovery.js'
import { REQUIRES as UPLOAD } from './wire-upload.js'
import { REQUIRES as MSE, peWire } from './handshake.js'
import { REQUIRES as THROTTLE } from './client-throttle.js'

export const PINNED_WEBTORRENT = '3.0.21'
/** The WebTorrent versions whose internals patches/ adapts (package.json's peerDependencies say the same). */
export const SUPPORTED_WEBTORRENT = '>=3.0.21 <3.1.0'

/** Everything patches/ relies on, by the file that relies on it. */
export const REQUIREMENTS: ReadonlyArray<readonly [file: string, list: readonly Requirement[]]> = [
  ['torrent-growth.ts', GROWTH],
  ['torrent-progress.ts', PROGRESS],
  ['torrent-release.ts', RELEASE],
  ['torrent-peers.ts', PEERS],
  ['wire-bitfield.ts', BITFIELD],
  ['wire-requests.ts', REQUESTS],
  ['wire-handshake.ts', HANDSHAKE],
  ['store.ts', STORE],
  ['file.ts', FILE],
  ['discovery.ts', DISCOVERY],
  ['wire-upload.ts', UPLOAD],
  ['handshake.ts', MSE],
  ['client-throttle.ts', THROTTLE]
]

/** Whether a WebTorrent version string is in SUPPORTED_WEBTORRENT (3.0.x, x ≥ 21). */
export function isSupportedVersion (version: unknown): boolean {
  const m = typeof version === 'string' ? /^(\d+)\.(\d+)\.(\d+)(?:[-+].*)?$/.exec(version) : null
  return m !== null && m[1] === '3' && m[2] === '0' && Number(m[3]) >= 21
}

/** Public members of a client that enableLive / broadcast call. */
const CLIENT_METHODS = ['add', 'get', 'remove', 'destroy'] as const

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
    if (problems.length === 0) problems.push(...check('client', c))
  }
  if (problems.length > 0) throw internalsError(problems)
  clientsChecked.add(c as object)
}

/** The client's own Torrent class (a torrent it made), checked once per class. */
export function checkTorrentClass (torrent: unknown): void {
  const proto = torrent !== null && typeof torrent === 'object' ? Object.getPrototypeOf(torrent) as Record<string, unknown> : null
  if (proto && clientsChecked.has(proto)) return
  const problems = check('Torrent.prototype', proto)
  if (problems.length > 0) throw internalsError(problems)
  clientsChecked.add(proto as object)
}

/** Checks, on a live torrent as WebTorrent built it (at 'ready'), the fields the patches edit. */
export function checkReady (torrent: unknown): void {
  const problems = check('torrent', torrent)
  if (problems.length) {
    const err = new Error(`WEBTORRENT_INTERNALS: a ready torrent lacks ${problems.join(', ')}; install webtorrent@${PINNED_WEBTORRENT}`)
    ;(err as Error & { code: string }).code = 'WEBTORRENT_INTERNALS'
    throw err
  }
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
  problems.push(...check('Torrent.prototype', (Torrent as { prototype: unknown }).prototype))
  problems.push(...check('File.prototype', (File as { prototype: unknown }).prototype))
  problems.push(...check('Wire.prototype', (Wire as { prototype: unknown }).prototype))
  problems.push(...check('ut_metadata', utMetadata))
  problems.push(...check('Piece', new Piece(16384)))
  problems.push(...check('BitField', new BitField(8)))
  const wire = new Wire() as { destroy (): void }
  try { problems.push(...check('wire', wire)) } finally { wire.destroy() }
  const pe = peWire() // null in a build without MSE (browsers)
  if (pe) try { problems.push(...check('peWire', pe)) } finally { pe.destroy() }
  return problems.length === 0 ? null : internalsError(problems)
}

/** The problems of `target` against every requirement on `where` ('' if none). */
function check (where: Requirement['where'], target: unknown): string[] {
  const problems: string[] = []
  for (const [file, list] of REQUIREMENTS) {
    for (const r of list) {
      if (r.where !== where) continue
      const name = `${where}${r.path ? '.' + r.path : ''}`
      const v = lookup(target, r.path)
      if (!fits(v, r)) problems.push(r.is === 'source' ? `${name} no longer matches ${String(r.match)} (patches/${file})` : `${name} is not a ${r.is} (patches/${file})`)
    }
  }
  return problems
}

function lookup (target: unknown, path: string): unknown {
  let v = target
  for (const key of path ? path.split('.') : []) {
    if (v === null || (typeof v !== 'object' && typeof v !== 'function')) return undefined
    v = (v as Record<string | symbol, unknown>)[key === '@@asyncIterator' ? Symbol.asyncIterator : key]
  }
  return v
}

function fits (v: unknown, r: Requirement): boolean {
  switch (r.is) {
    case 'function': return typeof v === 'function'
    case 'array': return Array.isArray(v)
    case 'number': return typeof v === 'number'
    case 'boolean': return typeof v === 'boolean'
    case 'object': return v !== null && typeof v === 'object'
    case 'map': return v instanceof Map
    case 'bytes': return v instanceof Uint8Array
    case 'source': return typeof v === 'function' && r.match !== undefined && r.match.test(Function.prototype.toString.call(v))
  }
}
