/**
 * `webtorrent-live broadcast INPUT`: airs a file, stdin (`-`) or an http(s) stream as a live torrent.
 * After the input ends it publishes the end and keeps seeding until SIGINT / SIGTERM (exit 0). After
 * the input fails it publishes the end too (or, with --state, stops to be continued), then exits 1.
 */
import { streamKeyLink } from '../live/bep46.js'
import { existsSync, readFileSync, statSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { broadcast, type Broadcaster } from '../live/broadcaster.js'
import type { SignedHead } from '../protocol/head.js'
import { decodeKeyFile, type KeyPair } from '../live/keys.js'
import { openBroadcastState } from '../live/broadcast-state.js'
import type { BroadcastStatePersist } from '../live/broadcast-state-types.js'
import { isValidPieceLength } from '../protocol/info.js'
import { MAX_WINDOW } from '../protocol/constants.js'
import { DURATION, windowPieces } from '../live/window.js'
import { toHex } from '../protocol/bytes.js'
import { bool, bytesFlag, int, list, parse, peerAddr, str, trackerUrl, UsageError, UserError, type Parsed, type Spec } from './args.js'
import { prepareWeb } from '../web/attach.js'
import { checkWritableLater, writeNewFile } from './out-file.js'
import { checkPortFree, listenInput } from './ingest.js'
import { defaultName, InputError, openInput, parseInput, pump } from './broadcast-input.js'
import { atExit, connectPeers, destroyClient, EdgeClock, exit, fmtBytes, fmtRate, makeClient, onSignal, Output, portError, RateMeter, tempFolder, type CliClient } from './common.js'
import { unsafeNameReason } from '../protocol/name.js'
import { createServer } from 'node:net'

/** Rejects with the one-line "port N is in use" when `port` is taken (or cannot be listened on). */
function portFree (port: number, flag: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const s = createServer()
    s.once('error', (err) => reject(portError(err, port, flag, `listening on port ${port}`)))
    s.listen({ port, exclusive: true }, () => s.close(() => resolve()))
  })
}

/** With --state, how long an end of input waits for a SIGINT sent to the whole pipeline at once. */
const SIGNAL_GRACE_MS = 300

export const BROADCAST_USAGE = `usage: webtorrent-live broadcast INPUT [options]
       webtorrent-live broadcast --listen rtmp://HOST:PORT/APP/KEY [options]

INPUT is a file, - for stdin, or an http(s):// URL to read a stream from. If the input fails (a URL
that resets, a read error), what was read is aired and the broadcast ends as at Ctrl-C (the --grace
wait, no seeding on), then exits 1; with --state it stops without ending instead (exit 1), to be
continued with the same DIR.

  --listen URL            instead of INPUT: wait for an encoder (OBS: Settings > Stream > Custom,
                          Server rtmp://HOST:PORT/APP, Stream key KEY) and air what it sends,
                          remuxed by ffmpeg without re-encoding; also srt://HOST:PORT. When the
                          encoder reconnects, the same broadcast continues
  --format mpegts|mp4     what --listen airs: MPEG-TS (default) or fragmented MP4 (mp4 ends the
                          broadcast when the encoder disconnects)
  --once                  with --listen: end the broadcast when the encoder disconnects

  --name NAME             name of the stream (default: the file's name, or live.ts)
  --key FILE              Ed25519 key file (from keygen); default: a new key, kept in --state DIR
  --piece-length BYTES    power of two, 1k … 16M (default 16k: a piece every ~0.1 s at 1 Mbit/s)
  --rate BYTES_PER_SEC    read the input no faster than this (suffixes k, M), as a live source would
  --window SIZE           an endless stream: peers keep only the last SIZE of it, in bytes (512k,
                          1M, 4G) or time (90s, 10m, 2h: needs --rate; lower-case m is minutes)
  --no-archive            with --window: this broadcaster drops old pieces too (it keeps their
                          hashes, so the end still names the final torrent)
  --port PORT             TCP port peers connect to (default: any free port)
  --peer HOST:PORT        connect to this peer (repeatable)
  --announce URL          tracker (repeatable)
  --no-dht                only the peers and trackers named: no DHT, LSD or UPnP / NAT-PMP
  --upload-limit RATE     upload no faster than RATE bytes a second (suffixes k, M); give about
                          90% of this host's upload capacity: the live swarm keeps upload queues
                          short, but on TCP the kernel hides them unless uploads are paced
  --state DIR             keep key, pieces and head in DIR; run again with the same DIR to continue
                          the same stream after a crash (a file INPUT resumes where it stopped);
                          one broadcaster per DIR (a second one exits 1)
  --torrent-out FILE      write the final .torrent there when the broadcast ends (if FILE exists,
                          to 'FILE (1)' and so on); its folder must exist at start-up. If writing
                          fails at the end, it says so and goes on (exit 1 when it leaves)
  --force                 overwrite an existing --torrent-out FILE instead
  --grace SECONDS         at Ctrl-C / SIGTERM, after publishing the end, stay until no piece exists
                          only here, at most this long (default 30; 0: leave at once);
                          a second Ctrl-C leaves at once (exit 130); exit 0 otherwise, with a
                          warning if pieces were left only here
  --relay reach|copies    who hears of each new piece first (default reach: a first tier of 1-4
                          peers, grown while viewers still lack pieces after 1.5 s); copies: grown
                          only while viewers fetch copies from here (about a third less upload,
                          pieces a hop or two later)
  --web PORT              serve a web page at http://127.0.0.1:PORT/ that plays the stream in browsers
                          (fragmented MP4) over WebRTC; adds a WebSocket tracker unless --announce has one
  --json                  one JSON event a line on stdout (ready, head, ended, error)
  --quiet, -q             no progress on stderr`

export const BROADCAST_SPEC: Spec = {
  flags: {
    name: 'string',
    key: 'string',
    'piece-length': 'string',
    rate: 'string',
    'upload-limit': 'string',
    window: 'string',
    'no-archive': 'bool',
    port: 'string',
    peer: 'list',
    announce: 'list',
    'no-dht': 'bool',
    state: 'string',
    'torrent-out': 'string',
    listen: 'string',
    format: 'string',
    once: 'bool',
    force: 'bool',
    grace: 'string',
    web: 'string',
    relay: 'string',
    json: 'bool',
    quiet: 'bool',
    help: 'bool'
  },
  aliases: { q: 'quiet', h: 'help' },
  positionals: [0, 1],
  names: ['INPUT']
}

function rememberedPort (state: string): number | null {
  try {
    const port = (JSON.parse(readFileSync(join(state, 'cli.json'), 'utf8')) as { port?: unknown }).port
    return typeof port === 'number' && Number.isInteger(port) && port > 0 && port < 65536 ? port : null
  } catch { return null }
}

/** The state folder, opened and locked (broadcast-state.ts); a UserError when another broadcaster holds it. */
async function holdState (state: string): Promise<BroadcastStatePersist> {
  const persist = openBroadcastState(state)
  try { await persist.open() } catch (err) {
    if ((err as { code?: string }).code === 'STATE_BUSY') throw new UserError(`--state ${(err as Error).message.replace(/^[A-Z_]+: /, '')}`)
    throw err
  }
  return persist
}

/** --window SIZE: bytes as --rate takes them, or a duration (needs --rate) → pieces. */
export function windowFlag (p: Parsed, pieceLength: number, rate: number | undefined): number | undefined {
  const v = str(p, 'window')?.trim()
  if (v === undefined) return undefined
  let pieces: number
  if (DURATION.test(v)) {
    if (rate === undefined) throw new UsageError(`--window ${v} is a duration: give --rate (bytes a second) too, or the window in bytes (512k, 1M, 4G)`)
    pieces = windowPieces(v, pieceLength, rate)
  } else {
    pieces = Math.ceil(bytesFlag(p, 'window')! / pieceLength)
  }
  if (pieces > MAX_WINDOW) throw new UsageError(`--window ${v} is ${pieces} pieces; at most ${MAX_WINDOW}`)
  return pieces
}

export async function runBroadcast (argv: string[]): Promise<void> {
  const p = parse(argv, BROADCAST_SPEC)
  if (bool(p, 'help')) { process.stdout.write(BROADCAST_USAGE + '\n'); return await exit(0) }
  const input = parseInput(p.positionals[0], listenInput(p))
  const pieceLength = bytesFlag(p, 'piece-length') ?? 16384
  if (!isValidPieceLength(pieceLength)) throw new UsageError(`--piece-length must be a power of two from 1024 to 16777216, not ${pieceLength}`)
  const rate = bytesFlag(p, 'rate')
  const uploadLimit = bytesFlag(p, 'upload-limit')
  const window = windowFlag(p, pieceLength, rate)
  const archive = !bool(p, 'no-archive')
  if (!archive && window === undefined) throw new UsageError('--no-archive needs --window')
  const portFlag = int(p, 'port', 0, 65535)
  const peers = list(p, 'peer').map(peerAddr)
  const announce = list(p, 'announce').map(trackerUrl)
  const webPort = int(p, 'web', 0, 65535)
  const state = str(p, 'state')
  const torrentOut = str(p, 'torrent-out')
  const grace = int(p, 'grace', 0, 86_400) ?? 30
  const tierBy = str(p, 'relay')
  if (tierBy !== undefined && tierBy !== 'reach' && tierBy !== 'copies') throw new UsageError(`--relay must be reach or copies, not '${tierBy}'`)
  if (torrentOut) checkWritableLater(torrentOut, '--torrent-out')
  const name = str(p, 'name') ?? defaultName(input)
  if (name.length === 0 || /[/\\\0]/.test(name) || name === '.' || name === '..') throw new UsageError(`--name must be a plain file name, not '${name}'`)
  const unsafe = unsafeNameReason(name) // the protocol refuses it later; say so now, before a --state folder is made
  if (unsafe !== null) {
    if (str(p, 'name') !== undefined) throw new UsageError(`--name '${name}' ${unsafe}`)
    throw new UserError(`the stream's name '${name}' (from INPUT) ${unsafe}: give another with --name`)
  }
  // --web's port, checked before the stream starts (as --port's and --listen's are).
  if (webPort) await portFree(webPort, '--web')
  let keyPair: KeyPair | undefined
  const keyFile = str(p, 'key')
  if (keyFile) {
    if (!existsSync(keyFile)) throw new UserError(`no such key file: ${keyFile}`)
    try { keyPair = await decodeKeyFile(readFileSync(keyFile, 'utf8')) } catch (err) { throw new UserError(`${keyFile}: ${(err as Error).message}`) }
  }
  if (state && existsSync(state) && !statSync(state).isDirectory()) throw new UserError(`--state ${state} is not a folder`)
  // Held before anything else happens (its port, its input): a second broadcaster on the same
  // folder would sign other heads for the same pieces and ruin the folder for good.
  const persist = state ? await holdState(state) : null
  const out = new Output({ json: bool(p, 'json'), quiet: bool(p, 'quiet'), command: 'broadcast' })
  // A URL is opened first: an unreachable source fails before anything is announced.
  const abort = new AbortController()
  const early = input.kind === 'url' ? await openInput(input, 0, abort.signal, out) : null
  early?.on('error', () => {}) // a failure before pump() reads it is pump()'s to report (InputError)
  if (input.kind === 'listen') await checkPortFree(input.listen)

  // A resumed broadcaster listens where it did before (unless told otherwise), so that peers that
  // knew it by address (--peer, WebTorrent's reconnects) find it again.
  const remembered = portFlag === undefined && state ? rememberedPort(state) : null
  const net = { port: portFlag ?? remembered ?? 0, peers, announce, dht: !bool(p, 'no-dht'), uploadLimit }
  let client: CliClient
  try {
    client = await makeClient(net)
  } catch (err) {
    if (remembered === null) throw err
    client = await makeClient({ ...net, port: 0 })
  }
  atExit(() => destroyClient(client))
  const web = webPort === undefined ? null : await prepareWeb(client, { port: webPort, announce })
  if (web) atExit(() => web.close())
  let tmp: string | null = null
  if (!state) tmp = tempFolder('webtorrent-live-broadcast-') // removed on every exit path, after the client
  client.on('error', (err: Error) => { out.error(err.message); void exit(1) })

  let bc: Broadcaster
  try {
    bc = await broadcast(client, { name, pieceLength, ...(window !== undefined ? { window, archive } : {}), announce: web?.announce ?? announce, ...(keyPair ? { keyPair } : {}), ...(persist ? { state: persist } : { path: tmp! }), ...(tierBy ? { relay: { tierBy } } : {}) })
  } catch (err) {
    const code = (err as { code?: string }).code
    if (code === 'KEY_MISMATCH' || code === 'BAD_STATE') throw new UserError((err as Error).message.replace(/^[A-Z_]+: /, ''))
    throw err
  }
  atExit(() => bc.close())
  if (state) { try { writeFileSync(join(state, 'cli.json'), JSON.stringify({ port: client.address().port }) + '\n') } catch {} }
  const torrent = bc.torrent
  const live = bc.live
  connectPeers(torrent, peers)
  const page = web ? await web.serve(bc).catch((err: unknown) => { throw portError(err, webPort, '--web', `the web page on port ${String(webPort)}`) }) : null
  torrent.on('error', (err: Error) => { out.error(err.message); void exit(1) })
  live.on('error', (err: Error) => { out.error(err.message); void exit(1) })
  live.on('warning', (err: Error) => out.info(`warning: ${err.message}`)) // DAMAGED_PIECE, EQUIVOCATION, a final torrent's error

  const resumed = bc.resumedLength > 0 || live.count > 0
  out.event('ready', {
    magnetURI: bc.magnetURI,
    infoHash: bc.infoHash,
    port: client.address().port,
    length: bc.length,
    pieces: live.count,
    name: bc.name,
    pieceLength: bc.pieceLength,
    publicKey: toHex(bc.keyPair.publicKey),
    streamKeyURI: streamKeyLink(bc.keyPair.publicKey, bc.name),
    ended: live.ended,
    ...(state ? { state } : {}),
    ...(page ? { web: page.url } : {})
  })
  out.info(`${resumed ? 'resuming' : 'airing'} ${bc.name}  (piece length ${fmtBytes(bc.pieceLength)}, key ${toHex(bc.keyPair.publicKey).slice(0, 16)}…)`)
  out.info(`magnet: ${bc.magnetURI}`)
  if (page) { out.info('web page (plays fragmented MP4 in a browser, over WebRTC):'); out.info(page.url) }
  if (client.dht) out.info(`stream key link (through the DHT, BEP 46): ${streamKeyLink(bc.keyPair.publicKey, bc.name)}`)
  out.info(`peers can connect to port ${String(client.address().port)}${announce.length ? `; trackers: ${announce.join(' ')}` : ''}`)
  if (bc.name !== name || bc.pieceLength !== pieceLength) {
    if (str(p, 'name') !== undefined || str(p, 'piece-length') !== undefined) out.info(`note: ${state ?? ''} holds an existing stream: its name (${bc.name}) and piece length (${bc.pieceLength}) are kept`)
  }
  if (resumed) {
    out.info(`resumed: ${live.count} pieces, ${bc.length} bytes already published${input.kind === 'file' ? ` (reading ${input.path} from byte ${bc.length})` : ' (resume your input from that byte)'}`)
  }

  const edge = new EdgeClock()
  const t0 = Date.now()
  let ingested = 0
  const inRate = new RateMeter()
  live.on('head', (h: SignedHead) => {
    edge.head(h.count)
    out.eventThrottled('head', { pieces: h.count, bytes: h.length })
  })
  const status = (force = false): void => {
    const secs = (Date.now() - t0) / 1000
    out.status(`${live.ended ? 'ended' : 'live'}  pieces ${live.count}  ${fmtBytes(bc.length)}  in ${fmtRate(inRate.sample(ingested))}  peers ${torrent.numPeers}  up ${fmtRate(torrent.uploadSpeed)}  ${secs.toFixed(0)} s`, force)
  }
  const timer = setInterval(status, 500)
  timer.unref()

  const stop = { now: false, signal: null as NodeJS.Signals | null }
  let seeding: (() => void) | null = null
  onSignal((sig) => {
    stop.now = true
    stop.signal = sig
    abort.abort()
    if (input.kind === 'stdin') process.stdin.destroy()
    seeding?.()
  })

  // An input that fails is the end of the input, reported, and the exit is 1 (INPUT ERRORS in the usage).
  let failed: InputError | null = null
  if (!live.ended) {
    try {
      const src = early ?? await openInput(input, input.kind === 'file' ? bc.length : 0, abort.signal, out)
      await pump(input, src, bc, rate, stop, (n) => { ingested += n })
      // Ctrl-C reaches a pipeline's producer (and ffmpeg) with us: its end of input can come
      // before our SIGINT. With a state an end is for good, so the signal gets a moment first.
      if (state && !stop.now && input.kind !== 'file') await new Promise((resolve) => setTimeout(resolve, SIGNAL_GRACE_MS))
    } catch (err) {
      if (!(err instanceof InputError) && !stop.now) throw err
      if (!stop.now) { failed = err as InputError; out.flushEvents(); out.error(failed.message) }
    }
    if ((stop.now || failed) && state) {
      // Interrupted, or the input failed, with a state folder: leave the stream open, to be continued.
      out.flushEvents()
      out.info(`stopped at ${bc.length} bytes published; run again with --state ${state} to continue the same stream`)
      return await exit(failed ? 1 : 0)
    }
  }
  const fin = await bc.end()
  let torrentFile: string | undefined
  let renamed: string | null = null
  let unwritten: string | null = null
  if (torrentOut) {
    // Never over an existing file without --force: a fresh name beside it instead. A failure here
    // (the folder removed since start-up, a full disk) is reported, but the end is published: the
    // final magnet, the seeding and the goodbye still follow, and the exit is 1.
    try {
      const w = writeNewFile(torrentOut, fin.torrentFile, bool(p, 'force'))
      torrentFile = w.path
      renamed = w.renamedFrom
    } catch (err) { unwritten = (err as Error).message }
  }
  out.flushEvents()
  if (unwritten !== null) out.error(`--torrent-out: ${unwritten}; the final torrent is still served (magnet below)`)
  if (renamed !== null) {
    out.event('renamed', { requested: renamed, torrentFile })
    out.info(`${renamed} exists: writing the final torrent to ${torrentFile!} instead (--force overwrites)`)
  }
  out.event('ended', { finalInfoHash: fin.infoHash, finalMagnetURI: fin.magnetURI, pieces: live.count, bytes: bc.length, ...(torrentFile ? { torrentFile } : {}) })
  status(true)
  out.info(`ended: ${live.count} pieces, ${bc.length} bytes; final torrent ${fin.infoHash}`)
  out.info(`final magnet: ${fin.magnetURI}`)
  if (torrentFile) out.info(`wrote ${torrentFile}`)
  // After a failed input, no seeding until Ctrl-C: a supervisor waiting on the exit code hears of it.
  if (!stop.now && !failed) {
    out.info('seeding; Ctrl-C to stop')
    await new Promise<void>((resolve) => { seeding = resolve })
  }
  clearInterval(timer)
  await goodbye(bc, grace, out)
  out.clearStatus()
  if (failed) out.info(`exit 1: ${failed.message}`)
  return await exit(failed || unwritten !== null ? 1 : 0)
}

/**
 * Leaving after the end: no piece may exist only here (a viewer would miss it for ever), so stay
 * until no piece exists only here (replication.ts), or `grace` seconds. A second Ctrl-C leaves at once
 * (onSignal, exit 130). Exit 0 either way; a warning says how many pieces left with us.
 */
async function goodbye (bc: Broadcaster, grace: number, out: Output): Promise<void> {
  const missing = bc.piecesOnlyHere
  if (missing === 0 || grace === 0) {
    out.event('goodbye', { waiting: false, complete: missing === 0, missing })
    if (missing > 0) out.info(`warning: leaving with ${missing} pieces no other peer holds (--grace 0)`)
    return
  }
  const deadline = Date.now() + grace * 1000
  out.event('goodbye', { waiting: true, missing, grace })
  out.info(`waiting up to ${grace} s for the swarm to hold the ${missing} pieces that exist only here (Ctrl-C again to leave now)`)
  const say = (force = false): void => {
    const left = Math.max(0, Math.ceil((deadline - Date.now()) / 1000))
    out.status(`ended; waiting for the swarm to hold ${bc.piecesOnlyHere} more pieces (${left} s left; Ctrl-C again to leave now)`, force)
  }
  say(true)
  const tick = setInterval(say, 500)
  tick.unref()
  const progress = (p: { missing: number }): void => out.eventThrottled('goodbye', { waiting: true, missing: p.missing, left: Math.max(0, Math.ceil((deadline - Date.now()) / 1000)) }, 500)
  bc.live.on('replication', progress)
  const r = await bc.whenReplicated({ timeout: grace * 1000 })
  bc.live.removeListener('replication', progress)
  clearInterval(tick)
  out.flushEvents()
  out.clearStatus()
  out.event('goodbye', { waiting: false, complete: r.complete, missing: r.missing })
  if (r.complete) out.info('no piece exists only here: leaving')
  else out.info(`warning: leaving with ${r.missing} pieces no other peer holds (the grace of ${grace} s is over)`)
}
