#!/usr/bin/env node
/**
 * webtorrent-live command line: keygen, broadcast, watch, info, tracker, demo (what `npm start` runs).
 * Output contract: human progress on stderr, `--json` events on stdout, errors as one line on
 * stderr; exit 0 on success, 1 on failure, 2 on bad usage. No stack traces for user mistakes.
 */
import { UsageError, UserError, wantsHelp } from './args.js'
import { exit, handleSignals, isExiting } from './common.js'
import { BROADCAST_USAGE, runBroadcast } from './broadcast.js'
import { DEMO_USAGE, runDemo } from './demo.js'
import { INFO_USAGE, runInfo } from './info.js'
import { KEYGEN_USAGE, runKeygen } from './keygen.js'
import { TRACKER_USAGE, runTracker } from './tracker.js'
import { WATCH_USAGE, runWatch } from './watch.js'

const USAGE = `usage: webtorrent-live <command> [options]

commands:
  broadcast INPUT               air a file, - (stdin) or an http(s) stream as a live torrent
  watch MAGNET|TORRENT_FILE     follow a live stream: --out FILE, --stdout, --http PORT, --mpv, --vlc
  info MAGNET|TORRENT_FILE      the stream's key, piece length, pieces and bytes so far, live or ended
  keygen [--out FILE]           a new Ed25519 stream key (mode 0600)
  tracker [--port PORT]         a local BitTorrent tracker (HTTP and WebSocket)
  demo [--seconds N]            a complete local broadcast to a player (what npm start runs)
  help [COMMAND]                this text, or a command's options

examples:
  ffmpeg -re -i talk.mp4 -c copy -f mpegts - | webtorrent-live broadcast - --name talk.ts
  webtorrent-live watch 'magnet:?xt=urn:btih:…' --mpv`

const COMMANDS: Record<string, { run: (argv: string[]) => Promise<void>, usage: string }> = {
  broadcast: { run: runBroadcast, usage: BROADCAST_USAGE },
  watch: { run: runWatch, usage: WATCH_USAGE },
  info: { run: runInfo, usage: INFO_USAGE },
  keygen: { run: runKeygen, usage: KEYGEN_USAGE },
  tracker: { run: runTracker, usage: TRACKER_USAGE },
  demo: { run: runDemo, usage: DEMO_USAGE }
}

let current = ''

function report (err: unknown): void {
  if (isExiting()) return // already reported, and on the way out
  const prefix = current ? `webtorrent-live ${current}` : 'webtorrent-live'
  if (err instanceof UsageError) {
    process.stderr.write(`${prefix}: ${err.message}\nrun 'webtorrent-live ${current ? `${current} ` : ''}--help' for the options\n`)
    void exit(2)
    return
  }
  const e = err as { message?: string, code?: string, stack?: string }
  const msg = String(e?.message ?? err).replace(/^[A-Z_]+: /, '')
  process.stderr.write(`${prefix}: ${msg}\n`)
  if (!(err instanceof UserError) && process.env.WEBTORRENT_LIVE_DEBUG && e?.stack) process.stderr.write(e.stack + '\n')
  if (process.argv.includes('--json') && !process.argv.includes('--stdout')) process.stdout.write(JSON.stringify({ event: 'error', message: msg }) + '\n')
  void exit(1)
}

process.on('uncaughtException', report)
process.on('unhandledRejection', report)
// Ctrl-C / SIGTERM at any moment run the cleanups (temporary folders, clients) before exiting.
handleSignals()

async function main (argv: string[]): Promise<void> {
  const [cmd, ...rest] = argv
  if (cmd === undefined) {
    process.stderr.write(USAGE + '\n')
    return await exit(2)
  }
  if (cmd === '--help' || cmd === '-h') {
    process.stdout.write(USAGE + '\n')
    return await exit(0)
  }
  if (cmd === 'help') {
    const c = rest[0] ? COMMANDS[rest[0]] : undefined
    process.stdout.write((c ? c.usage : USAGE) + '\n')
    return await exit(0)
  }
  if (cmd === '--version' || cmd === '-v') {
    process.stdout.write('webtorrent-live 0.1.0\n')
    return await exit(0)
  }
  const c = COMMANDS[cmd]
  if (!c) throw new UsageError(`unknown command '${cmd}' (commands: ${Object.keys(COMMANDS).join(', ')})`)
  current = cmd
  if (wantsHelp(rest)) { // before the command counts its arguments: `broadcast --help` is not "missing INPUT"
    process.stdout.write(c.usage + '\n')
    return await exit(0)
  }
  await c.run(rest)
}

main(process.argv.slice(2)).catch(report)
