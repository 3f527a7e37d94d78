/**
 * What every command shares: the output contract (human progress on stderr, a redrawn status line
 * on a TTY, `--json` events on stdout), WebTorrent clients, torrent identifiers, clean exits.
 */
import { dhtVerify, parseStreamKeyLink, type DhtLike } from '../live/bep46.js'
import type { ClientLike, TorrentLike } from '../../patches/index.js'
import WebTorrent from 'webtorrent'
import bencode from 'bencode'
import { decode as decodeMagnet } from 'magnet-uri'
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { Writable } from 'node:stream'
import { UserError } from './args.js'

/** A WebTorrent client as the CLI drives it (its public API). */
export interface CliClient extends ClientLike {
  dht: DhtLike | false
  peerId: string
  address (): { port: number }
}

// ---- output ------------------------------------------------------------------------------------

export interface OutputOptions { json: boolean, quiet: boolean, command: string }

/**
 * stdout: `--json` events, one object a line (nothing else, unless the command streams bytes there).
 * stderr: human lines and the status line (redrawn in place on a TTY, every STATUS_EVERY_MS otherwise).
 */
export class Output {
  readonly json: boolean
  readonly quiet: boolean
  readonly command: string
  readonly tty: boolean
  private statusShown = false
  private lastPlainStatus = 0
  private throttled = new Map<string, { timer: ReturnType<typeof setTimeout> | null, pending: Record<string, unknown> | null, last: number }>()
  static STATUS_EVERY_MS = 10_000

  constructor (opts: OutputOptions) {
    this.json = opts.json
    this.quiet = opts.quiet
    this.command = opts.command
    this.tty = process.stderr.isTTY === true
    if (this.json) {
      // A reader that took what it wanted (`--json | head -n1` for the magnet) and closed the pipe:
      // no more events, and the broadcast or the recording goes on (unheard, an EPIPE is a crash).
      process.stdout.on('error', (err: NodeJS.ErrnoException) => {
        if (err?.code === 'EPIPE') this.eventsClosed = true
        else if (process.stdout.listenerCount('error') === 1) throw err // as if unheard (watch --stdout has its own)
      })
    }
  }

  /** stdout was closed by its reader (EPIPE): events are dropped. */
  private eventsClosed = false

  /** A JSON event on stdout (with --json). */
  event (type: string, fields: Record<string, unknown> = {}): void {
    if (!this.json || this.eventsClosed) return
    process.stdout.write(JSON.stringify({ event: type, ...fields }) + '\n')
  }

  /** At most one event of this type per `ms`; the latest one is always delivered. */
  eventThrottled (type: string, fields: Record<string, unknown>, ms = 100): void {
    if (!this.json) return
    let t = this.throttled.get(type)
    if (!t) { t = { timer: null, pending: null, last: 0 }; this.throttled.set(type, t) }
    const now = Date.now()
    if (!t.timer && now - t.last >= ms) { t.last = now; this.event(type, fields); return }
    t.pending = fields
    if (!t.timer) {
      const state = t
      state.timer = setTimeout(() => {
        state.timer = null
        state.last = Date.now()
        if (state.pending) { const f = state.pending; state.pending = null; this.event(type, f) }
      }, Math.max(0, ms - (now - t.last)))
    }
  }

  /** Delivers throttled events still waiting. */
  flushEvents (): void {
    for (const [type, t] of this.throttled) {
      if (t.timer) { clearTimeout(t.timer); t.timer = null }
      if (t.pending) { const f = t.pending; t.pending = null; this.event(type, f) }
    }
  }

  /** A human line on stderr (not with --quiet). */
  info (line: string): void {
    if (this.quiet) return
    this.clearStatus()
    process.stderr.write(line + '\n')
  }

  /** The status line: redrawn on a TTY, printed now and then otherwise. */
  status (line: string, force = false): void {
    if (this.quiet) return
    if (this.tty) {
      const width = Math.max(20, (process.stderr.columns || 100) - 1)
      process.stderr.write('\r\x1b[K' + line.slice(0, width))
      this.statusShown = true
      return
    }
    const now = Date.now()
    if (!force && now - this.lastPlainStatus < Output.STATUS_EVERY_MS) return
    this.lastPlainStatus = now
    process.stderr.write(line + '\n')
  }

  clearStatus (): void {
    if (this.statusShown) { process.stderr.write('\r\x1b[K'); this.statusShown = false }
  }

  /** An error: one line on stderr (always), and an `error` event with --json. */
  error (message: string): void {
    this.clearStatus()
    process.stderr.write(`webtorrent-live ${this.command}: ${message}\n`)
    this.event('error', { message })
  }
}

// ---- formatting --------------------------------------------------------------------------------

export function fmtBytes (n: number): string {
  if (n < 1024) return `${n} B`
  const units = ['KiB', 'MiB', 'GiB', 'TiB']
  let v = n / 1024
  let u = 0
  while (v >= 1024 && u < units.length - 1) { v /= 1024; u++ }
  return `${v.toFixed(v < 10 ? 2 : v < 100 ? 1 : 0)} ${units[u]!}`
}

export function fmtRate (bytesPerSecond: number): string {
  return `${fmtBytes(Math.round(bytesPerSecond))}/s`
}

/**
 * A current rate: bytes over the last `windowMs` (default 5 s), from a running total sampled now
 * and then (a status line's tick). A total ÷ elapsed average keeps decaying after a source stops;
 * this falls to 0 within the window.
 */
export class RateMeter {
  private samples: Array<{ at: number, total: number }> = []
  constructor (private readonly windowMs = 5000) {}

  /** Records the running total at `now` and returns the rate over the window, in bytes a second. */
  sample (total: number, now = Date.now()): number {
    this.samples.push({ at: now, total })
    while (this.samples.length > 2 && this.samples[1]!.at <= now - this.windowMs) this.samples.shift()
    const first = this.samples[0]!
    const span = now - first.at
    return span > 0 ? (total - first.total) * 1000 / span : 0
  }
}

// ---- clients -----------------------------------------------------------------------------------

export interface NetOptions {
  /** TCP port peers connect to (0: any free port). */
  port: number
  peers: string[]
  announce: string[]
  /** false with --no-dht: only the peers and trackers named (no DHT, no LSD, no UPnP / NAT-PMP). */
  dht: boolean
  /** --upload-limit: WebTorrent's uploadLimit, bytes a second (none if undefined). */
  uploadLimit?: number | undefined
}

/**
 * The one message for a port that is taken, whichever flag chose it (--port, --http, --web,
 * tracker --port): `port N is in use (choose another with FLAG, or 0 for any)`. Servers that wrap
 * the error (bittorrent-tracker) keep only its text, hence the message test.
 */
export function portError (err: unknown, port: number | undefined, flag: string, what: string): UserError {
  const e = err as { code?: string, message?: string } | null
  if (e?.code === 'EADDRINUSE' || /EADDRINUSE/.test(String(e?.message ?? ''))) return new UserError(`port ${port ?? 0} is in use (choose another with ${flag}, or 0 for any)`)
  return new UserError(`cannot start ${what}: ${String(e?.message ?? err)}`)
}

/** A WebTorrent client listening on its port; rejects with a UserError when the port is in use. */
export async function makeClient (net: NetOptions): Promise<CliClient> {
  const client: CliClient = new WebTorrent({
    // DHT nodes that verify Ed25519 store BEP 44 items: stream-key (BEP 46) pointers work through us.
    dht: net.dht ? { verify: dhtVerify } : false,
    lsd: net.dht,
    natUpnp: net.dht,
    natPmp: net.dht,
    utp: false,
    webSeeds: true,
    torrentPort: net.port,
    ...(net.uploadLimit !== undefined ? { uploadLimit: Math.max(1, Math.round(net.uploadLimit)) } : {})
  })
  await new Promise<void>((resolve, reject) => {
    const onError = (err: unknown): void => {
      reject(portError(err, net.port, '--port', 'the BitTorrent client'))
    }
    client.once('error', onError)
    const ok = (): void => { client.removeListener('error', onError); resolve() }
    if (client.listening) ok(); else client.once('listening', ok)
  })
  return client
}

export function destroyClient (client: ClientLike | null | undefined, ms = 3000): Promise<void> {
  return new Promise((resolve) => {
    if (!client || client.destroyed) { resolve(); return }
    const t = setTimeout(resolve, ms)
    t.unref()
    try { client.destroy(() => { clearTimeout(t); resolve() }) } catch { clearTimeout(t); resolve() }
  })
}

/** Connects a torrent to the --peer addresses once its infohash is known. */
export function connectPeers (torrent: TorrentLike, peers: string[]): void {
  if (peers.length === 0) return
  const go = (): void => { for (const p of peers) torrent.addPeer(p) }
  if (torrent.infoHash) go(); else torrent.once('infoHash', go)
}

// ---- torrent identifiers -----------------------------------------------------------------------

/** A magnet link, an infohash, or the bytes of a .torrent file; UserError otherwise. */
export function torrentId (s: string): string | Uint8Array {
  if (/^magnet:/i.test(s) && parseStreamKeyLink(s)) return s // resolved through the DHT by the caller
  if (/^magnet:/i.test(s)) {
    let infoHash: string | undefined
    try { infoHash = decodeMagnet(s).infoHash } catch {}
    if (!infoHash || !/^[0-9a-f]{40}$/.test(infoHash)) throw new UserError(`not a valid magnet link (it needs xt=urn:btih:<infohash>): ${s}`)
    return s
  }
  if (/^[0-9a-f]{40}$/i.test(s)) return s
  if (!existsSync(s)) throw new UserError(`no such file: ${s} (expected a magnet link or a .torrent file)`)
  if (!statSync(s).isFile()) throw new UserError(`not a file: ${s}`)
  const b = readFileSync(s)
  let ok = false
  try { const d = bencode.decode(b); ok = d && typeof d === 'object' && d.info && typeof d.info === 'object' } catch {}
  if (!ok) throw new UserError(`${s} is not a .torrent file`)
  return b
}

// ---- process life ------------------------------------------------------------------------------

const cleanups: Array<() => Promise<void> | void> = []
const lastly: Array<() => void> = []
let exiting = false
let exitHooked = false

/** Registers work to do before exiting (destroy clients, remove temporary folders). */
export function atExit (fn: () => Promise<void> | void): void {
  cleanups.push(fn)
}

/**
 * Registers synchronous work for the very end, on every way out (exit(), a second Ctrl-C, an
 * uncaught error): after the clients are gone, so nothing can write into a folder removed here.
 */
export function atLastExit (fn: () => void): void {
  if (!exitHooked) {
    exitHooked = true
    process.once('exit', () => { for (const f of lastly.splice(0).reverse()) { try { f() } catch {} } })
  }
  lastly.push(fn)
}

/** A new temporary folder, removed with its contents however the process ends (except SIGKILL). */
export function tempFolder (prefix: string): string {
  const dir = mkdtempSync(join(tmpdir(), prefix))
  atLastExit(() => rmSync(dir, { recursive: true, force: true }))
  return dir
}

/** Whether exit() has begun (later errors are consequences of shutting down, not news). */
export function isExiting (): boolean { return exiting }

/** Runs the cleanups (bounded in time), flushes stdout and exits. */
export async function exit (code: number): Promise<never> {
  if (!exiting) {
    exiting = true
    const all = Promise.all(cleanups.splice(0).reverse().map(async (fn) => { try { await fn() } catch {} }))
    await Promise.race([all, new Promise((resolve) => { const t = setTimeout(resolve, 5000); t.unref() })])
    await new Promise<void>((resolve) => process.stdout.write('', () => resolve()))
  }
  process.exit(code)
}

// SIGINT and SIGTERM never kill the process outright: the newest handler of the command gets the
// first one; without one (a command still starting up, joining, waiting for metadata) the first
// exits 130 after the cleanups. A second exits at once (130), still removing temporary folders.
const signalHandlers: Array<(sig: NodeJS.Signals) => void> = []
let signalsSeen = 0
let signalsHooked = false

function onProcessSignal (sig: NodeJS.Signals): void {
  signalsSeen++
  const handler = signalHandlers[signalHandlers.length - 1]
  if (signalsSeen > 1) { process.stderr.write('\n'); process.exit(130) }
  if (handler) handler(sig)
  else void exit(130)
}

/** Takes over SIGINT and SIGTERM for the whole run (main() calls it first thing). */
export function handleSignals (): void {
  if (signalsHooked) return
  signalsHooked = true
  process.on('SIGINT', onProcessSignal)
  process.on('SIGTERM', onProcessSignal)
}

/**
 * Calls `handler` on the first SIGINT or SIGTERM; a second one exits at once (130).
 * Returns a function that removes the handler (Ctrl-C then exits 130 after the cleanups).
 */
export function onSignal (handler: (sig: NodeJS.Signals) => void): () => void {
  handleSignals()
  signalHandlers.push(handler)
  return () => { const i = signalHandlers.lastIndexOf(handler); if (i >= 0) signalHandlers.splice(i, 1) }
}

/** Seconds behind the live edge: how long ago the oldest piece not yet delivered was announced. */
export class EdgeClock {
  private times: Array<{ count: number, time: number }> = []

  /** Records when a head (of `count` pieces) was seen (local clock: no trust in the broadcaster's). */
  head (count: number): void {
    const last = this.times[this.times.length - 1]
    if (last && last.count >= count) return
    this.times.push({ count, time: Date.now() })
    if (this.times.length > 4096) this.times.splice(0, 2048)
  }

  /** Seconds since piece `next` (the first not yet delivered) was announced; 0 when caught up. */
  behind (next: number, count: number): number {
    if (next >= count) return 0
    for (const t of this.times) if (t.count > next) return (Date.now() - t.time) / 1000
    return 0
  }
}

/** Resolves on 'drain', 'close' or 'error', removing its listeners. */
export function drained (dest: Writable): Promise<void> {
  return new Promise<void>((resolve) => {
    const done = (): void => { dest.off('drain', done); dest.off('close', done); dest.off('error', done); resolve() }
    dest.on('drain', done)
    dest.on('close', done)
    dest.on('error', done)
  })
}
