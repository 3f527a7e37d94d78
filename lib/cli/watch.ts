/**
 * `webtorrent-live watch MAGNET_OR_TORRENT_FILE`: follows a live stream into a file, stdout, an
 * HTTP server for players, or a player. Exits 0 once the broadcast has ended and every byte is
 * written (unless --keep-seeding, or a player is still open).
 */
import { spawn, type ChildProcess } from 'node:child_process'
import { createWriteStream, existsSync, rmdirSync, statSync } from 'node:fs'
import { join, resolve as resolvePath } from 'node:path'
import type { Writable } from 'node:stream'
import { parseStreamKeyLink, resolveStreamKeyLink } from '../live/bep46.js'
import type { LiveTorrentLike } from '../live/broadcaster.js'
import { enableLive, type LiveView } from '../live/enable.js'
import { toHex } from '../protocol/bytes.js'
import type { SignedHead } from '../protocol/head.js'
import { bool, bytesFlag, int, list, parse, peerAddr, str, trackerUrl, UsageError, UserError, type Spec } from './args.js'
import { atExit, atLastExit, connectPeers, destroyClient, drained, EdgeClock, exit, fmtBytes, fmtRate, isExiting, makeClient, onSignal, Output, tempFolder, torrentId } from './common.js'
import { serveLive, type LiveHttp } from './http.js'
import { allowBrowserPeers } from '../web/attach.js'
import { isNotLive, whenLive } from './live-check.js'
import { openOutput } from './out-file.js'


/** With no peer connected for this long, watch says so ('no-peers'); then every NO_PEERS_EVERY_MS while it lasts. */
export const NO_PEERS_MS = 10_000
export const NO_PEERS_EVERY_MS = 30_000

export const WATCH_USAGE = `usage: webtorrent-live watch MAGNET_OR_TORRENT_FILE [options]

  --from start|live       from the first byte (default) or from the live edge
  --out FILE              write the stream to FILE; if FILE exists, to 'FILE (1)' and so on
  --force                 overwrite an existing --out FILE (or ./NAME) instead
  --stdout                write the stream to stdout (nothing else goes there)
  --http PORT             serve it at http://127.0.0.1:PORT/ for players (0: any free port):
                          a GET gets the bytes and then each new one until the end; ranges work
  --mpv, --vlc            start mpv or VLC on that URL
  --player CMD            start CMD with the URL as its last argument
  --peer HOST:PORT        connect to this peer (repeatable)
  --port PORT             TCP port peers connect to (default: any free port)
  --announce URL          tracker (repeatable)
  --no-dht                only the peers and trackers named: no DHT, LSD or UPnP / NAT-PMP
  --upload-limit RATE     upload no faster than RATE bytes a second (suffixes k, M); give about
                          90% of this host's upload capacity: the live swarm keeps upload queues
                          short, but on TCP the kernel hides them unless uploads are paced
  --keep-seeding          keep sharing after the end, until Ctrl-C
  --archive               on an endless stream (broadcast --window): keep every piece, not only
                          the window, and serve the final torrent after the end
  --skip-behind           on an endless stream: if the output falls behind the window, skip to
                          what is still held instead of failing; each skip is said on stderr
                          (pieces and bytes; a skipped event with --json), the total in done
  --store DIR             keep the stream's pieces in DIR (default: a temporary folder, removed on
                          exit); a watch restarted with the same DIR reuses the pieces it verified
  --json                  one JSON event a line on stdout (ready, renamed, no-peers, head, skipped,
                          ended, done, stopped, error)
  --quiet, -q             no progress on stderr

Without --out, --stdout, --http or a player, the stream is written to ./NAME (NAME: the stream's
name). Nothing is written before the torrent is known to be live. With no peer connected after
${String(NO_PEERS_MS / 1000)} s, watch says so (and again every ${String(NO_PEERS_EVERY_MS / 1000)} s while it lasts).`

export const WATCH_SPEC: Spec = {
  flags: {
    from: 'string',
    'upload-limit': 'string',
    archive: 'bool',
    'skip-behind': 'bool',
    out: 'string',
    force: 'bool',
    stdout: 'bool',
    http: 'string',
    mpv: 'bool',
    vlc: 'bool',
    player: 'string',
    peer: 'list',
    port: 'string',
    announce: 'list',
    'no-dht': 'bool',
    'keep-seeding': 'bool',
    store: 'string',
    json: 'bool',
    quiet: 'bool',
    help: 'bool'
  },
  aliases: { q: 'quiet', h: 'help' },
  positionals: [1, 1],
  names: ['MAGNET_OR_TORRENT_FILE']
}

/** ./NAME for a stream: the last segment of its name, or its infohash when that is no file name. */
export function defaultOutName (torrent: { name?: unknown, infoHash?: unknown }): string {
  const last = String(torrent.name ?? '').split(/[/\\]/).pop()!.replace(/[\u0000-\u001f\u007f]/g, '').trim()
  return last === '' || last === '.' || last === '..' ? String(torrent.infoHash) : last
}

/** The final torrent named by the signed end: `live.final` once served, else from the ended head. */
export function finalOf (torrent: { live?: unknown, name?: unknown, announce?: string[] | undefined }, head: SignedHead): { infoHash: string, magnetURI: string } {
  const f = (torrent.live as { final?: { infoHash: string, magnetURI: string } | null }).final
  if (f) return { infoHash: f.infoHash, magnetURI: f.magnetURI }
  const infoHash = head.finalInfoHash ? toHex(head.finalInfoHash) : ''
  const tr = (torrent.announce ?? []).map((a) => `&tr=${encodeURIComponent(a)}`).join('')
  return { infoHash, magnetURI: `magnet:?xt=urn:btih:${infoHash}&dn=${encodeURIComponent(String(torrent.name ?? ''))}${tr}` }
}

/** Copies the verified stream into `dest`; resolves with the byte count once `dest` has it all. */
async function pump (live: LiveView, dest: Writable, onBytes: (n: number) => void, endDest = true): Promise<number> {
  let n = 0
  let failed: Error | null = null
  const onError = (err: Error): void => { failed = err }
  dest.on('error', onError)
  for await (const chunk of live.createReadStream()) {
    if (failed) throw failed
    const buf = chunk as Uint8Array
    n += buf.length
    onBytes(buf.length)
    if (!dest.write(buf)) await drained(dest)
  }
  if (failed) throw failed
  await new Promise<void>((resolve, reject) => {
    if (!endDest) { dest.write('', () => resolve()); return }
    dest.once('error', reject)
    dest.end(() => resolve())
  })
  return n
}

function startPlayer (cmd: string, args: string[], url: string, out: Output): ChildProcess {
  const child = spawn(cmd, [...args, url], { stdio: 'ignore', shell: false })
  child.once('error', (err: NodeJS.ErrnoException) => {
    out.error(err?.code === 'ENOENT' ? `${cmd} is not installed (or not on PATH); open ${url} in a player yourself` : `cannot start ${cmd}: ${String(err?.message ?? err)}`)
  })
  return child
}

export async function runWatch (argv: string[]): Promise<void> {
  const p = parse(argv, WATCH_SPEC)
  if (bool(p, 'help')) { process.stdout.write(WATCH_USAGE + '\n'); return await exit(0) }
  const from = str(p, 'from') ?? 'start'
  if (from !== 'start' && from !== 'live') throw new UsageError(`--from must be start or live, not '${from}'`)
  const toStdout = bool(p, 'stdout')
  const json = bool(p, 'json')
  if (toStdout && json) throw new UsageError('--stdout and --json both want stdout: choose one')
  const outFile = str(p, 'out')
  let httpPort = int(p, 'http', 0, 65535)
  const players = [bool(p, 'mpv') ? 'mpv' : null, bool(p, 'vlc') ? 'vlc' : null, str(p, 'player') ?? null].filter((x): x is string => x !== null)
  if (players.length > 1) throw new UsageError('choose one of --mpv, --vlc and --player')
  if (players.length && httpPort === undefined) httpPort = 0
  const port = int(p, 'port', 0, 65535) ?? 0
  const uploadLimit = bytesFlag(p, 'upload-limit')
  const peers = list(p, 'peer').map(peerAddr)
  const announce = list(p, 'announce').map(trackerUrl)
  const keepSeeding = bool(p, 'keep-seeding')
  const id = torrentId(p.positionals[0]!)
  const out = new Output({ json, quiet: bool(p, 'quiet'), command: 'watch' })

  const overwrite = bool(p, 'force')
  // --store DIR holds each stream in DIR/<infohash>/NAME: streams never share a file, and nothing
  // else in DIR is touched. A file at DIR is refused; folders made here and left empty are removed.
  const storeDir = str(p, 'store')
  const storeExisted = storeDir !== undefined && existsSync(storeDir)
  if (storeDir !== undefined && storeExisted && !statSync(storeDir).isDirectory()) throw new UserError(`--store ${storeDir} is a file, not a folder; not touching it`)

  const client = enableLive(await makeClient({ port, peers, announce, dht: !bool(p, 'no-dht'), uploadLimit }))
  // A WebSocket tracker on loopback (a browser tab broadcasting on this machine): WebRTC on loopback, no STUN.
  const named = [...announce, ...(typeof id === 'string' && id.startsWith('magnet:') ? new URLSearchParams(id.slice(id.indexOf('?') + 1)).getAll('tr') : [])]
  if (named.some((u) => /^wss?:\/\/(127\.0\.0\.1|localhost|\[::1\])(:\d+)?(\/|$)/.test(u))) allowBrowserPeers(client, '127.0.0.1')
  atExit(() => destroyClient(client))
  const dir = storeDir !== undefined ? resolvePath(storeDir) : tempFolder('webtorrent-live-watch-')
  const fail = (err: Error): void => {
    if (isNotLive(err) || isExiting()) return // whenLive says it, once
    out.error(err.message.replace(/^[A-Z_]+: /, ''))
    void exit(1)
  }
  client.on('error', fail)

  let torrent: LiveTorrentLike
  let addId: string | Uint8Array = id
  if (typeof id === 'string' && parseStreamKeyLink(id)) {
    // magnet:?xs=urn:btpk:<key>: the stream the key points to now, found through the DHT (BEP 46).
    if (!client.dht) throw new UsageError('a magnet:?xs=urn:btpk: link is resolved through the DHT: drop --no-dht')
    out.info('looking the stream key up in the DHT…')
    try {
      const r = await resolveStreamKeyLink(client, id)
      if (!r.live) throw new UserError(`the stream under this key has ended; it is now an ordinary torrent: ${r.magnetURI}`)
      addId = r.magnetURI
    } catch (err) {
      if (err instanceof UserError) throw err
      throw new UserError((err as Error).message.replace(/^[A-Z_]+: /, ''))
    }
  }
  try {
    torrent = client.add(addId, { live: true, from, path: dir, announce, archive: bool(p, 'archive'), behind: bool(p, 'skip-behind') ? 'skip' : 'error' }) as LiveTorrentLike
  } catch (err) {
    throw new UserError(`cannot add ${p.positionals[0]!}: ${(err as Error).message}`)
  }
  torrent.on('error', fail)
  if (storeDir !== undefined) {
    // Nothing stored (an ordinary torrent, a Ctrl-C before any piece): the empty folders go.
    const ih = (): string | undefined => torrent.infoHash as string | undefined
    atLastExit(() => {
      const sub = ih()
      if (sub) { try { rmdirSync(join(dir, sub)) } catch {} }
      if (!storeExisted) { try { rmdirSync(dir) } catch {} }
    })
  }
  const live = torrent.live as LiveView
  live.on('error', fail)
  connectPeers(torrent, peers)
  // A .torrent file carries its metadata: judged before anything is said, served or written.
  if (addId instanceof Uint8Array) await whenLive(torrent)

  let http: LiveHttp | null = null
  if (httpPort !== undefined) {
    http = await serveLive(live, httpPort)
    const h = http
    atExit(() => h.close())
  }

  // ready: as soon as the infohash (and so the magnet link) is known.
  await new Promise<void>((resolve) => { if (torrent.infoHash) resolve(); else torrent.once('infoHash', () => resolve()) })
  out.event('ready', { magnetURI: torrent.magnetURI, infoHash: torrent.infoHash, port: client.address().port, from, ...(http ? { url: http.url } : {}) })
  out.info(`joining ${torrent.infoHash as string} from the ${from === 'live' ? 'live edge' : 'start'}; listening on port ${String(client.address().port)}`)
  if (http) out.info(`serving at ${http.url}  (mpv ${http.url}  ·  vlc ${http.url})`)

  const edge = new EdgeClock()
  const jobs: Array<Promise<number>> = []
  let written = 0
  let delivered = 0
  live.on('head', (h: SignedHead) => {
    edge.head(h.count)
    out.eventThrottled('head', { pieces: h.count, bytes: h.length })
  })
  live.once('head', () => out.info(`first head: ${live.count} pieces; starting at piece ${String(live.startPiece)}`))
  // --skip-behind: each skip is a gap in the output, so it is said each time and in the total at the end.
  let skipped = 0
  live.on('skipped', (s: { from: number, to: number, bytes: number }) => {
    skipped += s.bytes
    out.event('skipped', { from: s.from, to: s.to, bytes: s.bytes })
    out.info(`fell behind the sliding window: skipped pieces ${s.from}…${s.to - 1} (${s.bytes} bytes); going on from piece ${s.to}`)
  })
  live.once('ended', (h: SignedHead) => {
    const f = finalOf(torrent, h)
    out.flushEvents()
    out.event('ended', { finalInfoHash: f.infoHash, finalMagnetURI: f.magnetURI, pieces: h.count, bytes: h.length })
    out.info(`the broadcast ended: ${h.count} pieces, ${h.length} bytes; final torrent ${f.infoHash}`)
  })
  const t0 = Date.now()
  const status = (force = false): void => {
    const n = torrent.numPeers as number
    if (live.count === 0) {
      // Nothing known yet: no pieces, no edge to be behind.
      const what = n === 0 ? 'no peers yet' : `peers ${n}, waiting for the ${torrent.metadata ? 'first head' : 'metadata'}`
      out.status(`${live.ended ? 'ended' : 'waiting'}  ${what}  ${((Date.now() - t0) / 1000).toFixed(0)} s`, force)
      return
    }
    const start = Math.max(live.startPiece ?? 0, live.window.heldFrom)
    let have = 0
    for (let i = start; i < live.count; i++) if (live.has(i)) have++
    let next = start
    while (live.has(next)) next++
    const behind = edge.behind(jobs.length ? start + Math.floor(delivered / Math.max(1, torrent.pieceLength ?? 1)) : next, live.count)
    out.status(`${live.ended ? 'ended' : 'live'}  pieces ${have}/${Math.max(0, live.count - start)}  ${fmtBytes(jobs.length ? written : Math.min(live.length, next * (torrent.pieceLength ?? 0)) - start * (torrent.pieceLength ?? 0))}  peers ${n}  down ${fmtRate(torrent.downloadSpeed as number)}  up ${fmtRate(torrent.uploadSpeed as number)}  ${behind.toFixed(1)} s behind live`, force)
  }
  const timer = setInterval(status, 500)
  timer.unref()
  atExit(() => clearInterval(timer))

  // Nobody connected for a while: say so (a magnet nobody seeds, an unreachable --peer), and again
  // every NO_PEERS_EVERY_MS while it lasts; a peer that connects starts the count again.
  let alone = { since: Date.now(), ever: false, next: NO_PEERS_MS }
  const lonely = setInterval(() => {
    if ((torrent.numPeers as number) > 0) { alone = { since: Date.now(), ever: true, next: NO_PEERS_MS }; return }
    const ms = Date.now() - alone.since
    if (ms < alone.next) return
    alone.next += NO_PEERS_EVERY_MS
    const seconds = Math.round(ms / 1000)
    out.event('no-peers', { seconds, connectedBefore: alone.ever })
    out.info(`${alone.ever ? 'no peers connected' : 'no peers yet'} after ${seconds} s; still looking${peers.length || announce.length ? '' : ' (name one with --peer HOST:PORT or --announce URL if the DHT does not find it)'}`)
  }, 1000)
  lonely.unref()
  atExit(() => clearInterval(lonely))

  // Nothing is opened before the torrent is known to be live: a .torrent file or magnet of an
  // ordinary torrent ends here (exit 1), with every file as it was.
  await whenLive(torrent)

  // Outputs.
  const count = (n: number): void => { delivered += n }
  let target: string | undefined
  if (outFile !== undefined || (!toStdout && !http)) {
    const asked = outFile ?? resolvePath(defaultOutName(torrent))
    if (storeDir !== undefined && resolvePath(asked) === resolvePath(dir, String(torrent.infoHash), String(torrent.name))) {
      throw new UserError(`${asked} is where --store keeps this stream's pieces; write the stream elsewhere`)
    }
    const o = openOutput(asked, overwrite)
    target = o.path
    if (o.renamedFrom !== null) {
      out.event('renamed', { requested: o.renamedFrom, out: o.path })
      out.info(`${o.renamedFrom} exists: writing to ${o.path} instead (--force overwrites)`)
    }
    if (outFile === undefined || o.renamedFrom !== null) out.info(`writing to ${target}`)
    const file = o.fd === null ? createWriteStream(o.path) : createWriteStream(o.path, { fd: o.fd })
    jobs.push(pump(live, file, (n) => { written += n; count(n) }))
  }
  if (toStdout) {
    // A reader that stops early (`| head -c N`) is not a failure: exit 0 quietly. While a file is
    // recorded too (--out), only the copy to stdout stops: the recording goes on to the end.
    const closed = (err: NodeJS.ErrnoException): boolean => {
      if (err?.code !== 'EPIPE') return false
      if (!target) void exit(0)
      return true
    }
    process.stdout.on('error', (err: NodeJS.ErrnoException) => { if (!closed(err)) fail(err) })
    jobs.push(pump(live, process.stdout, (n) => { if (!target) { written += n; count(n) } }, false).catch((err) => {
      if (closed(err)) return target ? 0 : new Promise<number>(() => {})
      throw err
    }))
  }

  let player: ChildProcess | null = null
  let playerExited: Promise<void> | null = null
  if (players.length && http) {
    const spec = players[0]!
    const [cmd, ...args] = spec === 'mpv' || spec === 'vlc' ? [spec] : spec.split(/\s+/).filter(Boolean)
    out.info(`starting ${spec} on ${http.url}`)
    player = startPlayer(cmd!, args, http.url, out)
    playerExited = new Promise((resolve) => { player!.once('exit', () => resolve()); player!.once('error', () => resolve()) })
    atExit(() => { if (player && player.exitCode === null) player.kill() })
  }

  let stopped = false
  const stopWaiters: Array<() => void> = []
  onSignal(() => { stopped = true; for (const w of stopWaiters.splice(0)) w() })
  const stoppedP = new Promise<void>((resolve) => { if (stopped) resolve(); else stopWaiters.push(resolve) })

  const finished = (async () => {
    const counts = await Promise.all(jobs)
    while (!live.ended && !live.destroyed) await live.changed()
    if (jobs.length === 0) {
      // Only serving: wait until every piece is here and open responses are done (a window-only
      // viewer of an endless stream: every piece it still holds, window.ts heldFrom).
      const start = Math.max(live.startPiece ?? 0, live.window.heldFrom)
      for (;;) {
        let all = true
        for (let i = start; i < live.count; i++) if (!live.has(i)) { all = false; break }
        if (all || live.destroyed) break
        await live.changed()
      }
    }
    return counts
  })()

  const outcome = await Promise.race([
    finished.then((c) => ({ kind: 'done' as const, counts: c })),
    stoppedP.then(() => ({ kind: 'signal' as const })),
    ...(playerExited ? [playerExited.then(() => ({ kind: 'player' as const }))] : [])
  ])
  if (outcome.kind === 'signal') {
    out.clearStatus()
    // A recording stopped before the end is incomplete: said so, and not a success to a script
    // (exit 130, as before the stream started). Watching (a player, --http, --stdout) stops with 0.
    if (target) {
      out.event('stopped', { bytes: written, out: target, complete: false })
      out.info(`stopped before the end: ${written} bytes in ${target}; the recording is incomplete`)
      return await exit(130)
    }
    return await exit(0)
  }
  if (outcome.kind === 'player' && !keepSeeding) { out.info('player closed'); return await exit(0) }
  if (outcome.kind === 'done') {
    clearInterval(lonely)
    status(true)
    out.event('done', { bytes: written || delivered, pieces: live.count, adopted: live.stats.adoptedPieces, skipped, ...(target ? { out: target } : {}) })
    out.info(`done: ${written || delivered} bytes${target ? ` in ${target}` : ''}${skipped ? `; ${skipped} bytes skipped behind the window` : ''}`)
  }
  if (keepSeeding) {
    out.info('seeding; Ctrl-C to stop')
    await stoppedP
    return await exit(0)
  }
  // After the end: a player started here is followed until it exits; an HTTP server keeps serving
  // the whole recording (as webtorrent-cli does) until Ctrl-C.
  if (playerExited) await Promise.race([stoppedP, playerExited])
  else if (http) {
    out.info(`still serving ${http.url}; Ctrl-C to stop`)
    await stoppedP
  }
  clearInterval(timer)
  out.clearStatus()
  return await exit(0)
}
