/** `webtorrent-live tracker [--port PORT]`: a local BitTorrent tracker (HTTP and WebSocket). */
import { bool, int, parse, str, type Spec } from './args.js'
import { atExit, exit, onSignal, Output, portError } from './common.js'
import { startTracker as startLocalTracker, type LocalTracker } from '../web/tracker.js'

export const TRACKER_USAGE = `usage: webtorrent-live tracker [--port PORT] [--host HOST] [--json] [--quiet]

A BitTorrent tracker for a LAN or a demo: HTTP (announce at http://HOST:PORT/announce) and
WebSocket (ws://HOST:PORT, for browsers) on one port. Default port 8000; 0 for any free port.`

export const TRACKER_SPEC: Spec = {
  flags: { port: 'string', host: 'string', json: 'bool', quiet: 'bool', help: 'bool' },
  aliases: { q: 'quiet', h: 'help' },
  positionals: [0, 0]
}

export type Tracker = LocalTracker

/** Starts a tracker on host:port (HTTP + WebSocket), for this machine's peers and browsers. */
export async function startTracker (port: number, host = '0.0.0.0'): Promise<Tracker> {
  try {
    return await startLocalTracker({ port, host, stats: true })
  } catch (err) {
    throw portError(err, port, '--port', 'the tracker')
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
