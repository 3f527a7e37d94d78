/** `webtorrent-live tracker [--port PORT]`: a local BitTorrent tracker (HTTP and WebSocket). */
import { Server } from 'bittorrent-tracker'
import { bool, int, parse, str, type Spec } from './args.js'
import { atExit, exit, onSignal, Output, portError } from './common.js'

/* eslint-disable @typescript-eslint/no-explicit-any */

export const TRACKER_USAGE = `usage: webtorrent-live tracker [--port PORT] [--host HOST] [--json] [--quiet]

A BitTorrent tracker for a LAN or a demo: HTTP (announce at http://HOST:PORT/announce) and
WebSocket (ws://HOST:PORT, for browsers) on one port. Default port 8000; 0 for any free port.`

export const TRACKER_SPEC: Spec = {
  flags: { port: 'string', host: 'string', json: 'bool', quiet: 'bool', help: 'bool' },
  aliases: { q: 'quiet', h: 'help' },
  positionals: [0, 0]
}

export interface Tracker {
  server: any
  port: number
  /** Announce URLs reachable on this machine: http first, then ws. */
  announce: string[]
  close (): Promise<void>
}

/** Starts a tracker on host:port (HTTP + WebSocket). */
export async function startTracker (port: number, host = '0.0.0.0'): Promise<Tracker> {
  const server = new Server({ udp: false, http: true, ws: true, stats: true })
  server.on('warning', () => {})
  await new Promise<void>((resolve, reject) => {
    const onError = (err: unknown): void => reject(portError(err, port, '--port', 'the tracker'))
    server.on('error', onError) // not once: the HTTP and WebSocket servers may each report the clash
    server.listen(port, host, () => { server.removeListener('error', onError); resolve() })
  })
  const actual = server.http.address().port as number
  const local = host === '0.0.0.0' || host === '::' ? '127.0.0.1' : host
  return {
    server,
    port: actual,
    announce: [`http://${local}:${actual}/announce`, `ws://${local}:${actual}`],
    close: () => new Promise<void>((resolve) => { try { server.close(() => resolve()) } catch { resolve() } })
  }
}

export async function runTracker (argv: string[]): Promise<void> {
  const p = parse(argv, TRACKER_SPEC)
  if (bool(p, 'help')) { process.stdout.write(TRACKER_USAGE + '\n'); return await exit(0) }
  const port = int(p, 'port', 0, 65535) ?? 8000
  const host = str(p, 'host') ?? '0.0.0.0'
  const out = new Output({ json: bool(p, 'json'), quiet: bool(p, 'quiet'), command: 'tracker' })
  const t = await startTracker(port, host)
  atExit(() => t.close())
  t.server.on('error', (err: Error) => { out.error(err.message); void exit(1) })
  out.event('ready', { port: t.port, announce: t.announce })
  out.info(`tracker on port ${t.port}: ${t.announce.join('  ')}`)
  out.info(`use it with --announce ${t.announce[0]!}; Ctrl-C to stop`)
  await new Promise<void>((resolve) => onSignal(() => resolve()))
  return await exit(0)
}
