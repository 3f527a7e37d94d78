/**
 * `broadcast --listen rtmp://HOST:PORT/APP/KEY` (or `srt://HOST:PORT`): ffmpeg listens for an encoder
 * (OBS, or any RTMP / SRT client) and remuxes what it sends, without re-encoding (`-c copy`), to
 * MPEG-TS (default) or fragmented MP4 on its stdout; that is the broadcast's input.
 *
 * One ffmpeg per encoder connection (`-listen 1` accepts one). When the encoder disconnects, ffmpeg
 * flushes and exits, and a new listener is started for the next connection: the same broadcast goes
 * on (same infohash), and the bytes appended are a new MPEG-TS run after the last one, which players
 * and ffmpeg read across the join (whole 188-byte packets, fresh PAT/PMT). Each run's timestamps are
 * shifted (`-output_ts_offset`) to start a second after where the previous run's timeline ended, so
 * the timeline keeps going forward instead of starting again at 0 (decoders see a gap, not a jump back).
 *
 * Fragmented MP4 does not continue: a second connection's output begins with its own init segment
 * (ftyp + moov), and a moov in the middle of a stream is not playable, so with `--format mp4` the
 * broadcast ends when the encoder disconnects, as with `--once`.
 *
 * Ends: Ctrl-C (the signal aborts `signal`: ffmpeg is stopped, the input ends, the broadcast ends as
 * for any input), or with `--once` / mp4 when the first encoder disconnects.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process'
import { createSocket } from 'node:dgram'
import { readFileSync } from 'node:fs'
import { createServer } from 'node:net'
import { Readable } from 'node:stream'
import { bool, str, UsageError, UserError, type Parsed } from './args.js'
import { atExit, type Output } from './common.js'

export type IngestFormat = 'mpegts' | 'mp4'

export interface ListenUrl {
  protocol: 'rtmp' | 'srt'
  host: string
  port: number
  /** What ffmpeg is given (SRT with mode=listener). */
  ffmpegUrl: string
  /** What the user connects the encoder to (no query). */
  shown: string
}

/** Checks `--listen URL`: rtmp://HOST[:PORT]/APP/KEY (port 1935 by default) or srt://HOST:PORT. */
export function parseListen (s: string): ListenUrl {
  let u: URL
  try { u = new URL(s) } catch { throw new UsageError(`--listen must be rtmp://HOST:PORT/APP/KEY or srt://HOST:PORT, not '${s}'`) }
  const host = u.hostname.replace(/^\[(.*)\]$/, '$1')
  if (!host) throw new UsageError(`--listen needs a host to listen on (e.g. 127.0.0.1 or 0.0.0.0), not '${s}'`)
  if (u.protocol === 'rtmp:') {
    const path = u.pathname.split('/').filter(Boolean)
    if (path.length < 2) throw new UsageError(`--listen rtmp:// needs an app and a stream key: rtmp://HOST:PORT/APP/KEY, not '${s}'`)
    const port = u.port ? Number(u.port) : 1935
    return { protocol: 'rtmp', host, port, ffmpegUrl: `rtmp://${u.host}${u.port ? '' : ':1935'}${u.pathname}`, shown: `rtmp://${u.host}${u.port ? '' : ':1935'}${u.pathname}` }
  }
  if (u.protocol === 'srt:') {
    if (!u.port) throw new UsageError(`--listen srt:// needs a port: srt://HOST:PORT, not '${s}'`)
    const q = new URLSearchParams(u.search)
    q.set('mode', 'listener')
    return { protocol: 'srt', host, port: Number(u.port), ffmpegUrl: `srt://${u.host}?${q.toString()}`, shown: `srt://${u.host}` }
  }
  throw new UsageError(`--listen must be an rtmp:// or srt:// URL, not '${s}'`)
}

/** ffmpeg on PATH, with the protocol: else a one-line UserError (exit 1). */
export function checkFfmpeg (protocol: ListenUrl['protocol']): void {
  let r
  try { r = spawnSync('ffmpeg', ['-hide_banner', '-protocols'], { encoding: 'utf8', timeout: 15_000 }) } catch { r = null }
  if (!r || r.error || r.status !== 0) throw new UserError('--listen needs ffmpeg on PATH (install it, e.g. apt install ffmpeg)')
  const inputs = (r.stdout.split(/Output:/)[0] ?? '').split('\n').map((l) => l.trim())
  if (!inputs.includes(protocol)) throw new UserError(`this ffmpeg cannot read ${protocol}:// (it was built without it); try rtmp://`)
}

const inUse = (l: ListenUrl): UserError => new UserError(`port ${l.port} is in use (choose another in --listen ${l.protocol}://HOST:PORT)`)

/** Fails early, with the CLI's port message, when the port is taken (TCP for RTMP, UDP for SRT). */
export async function checkPortFree (l: ListenUrl): Promise<void> {
  await new Promise<void>((resolve, reject) => {
    const fail = (err: NodeJS.ErrnoException): void => {
      reject(err.code === 'EADDRINUSE' ? inUse(l) : new UserError(`cannot listen on ${l.host}:${l.port}: ${err.message}`))
    }
    if (l.protocol === 'rtmp') {
      const s = createServer()
      s.once('error', fail)
      s.listen({ host: l.host, port: l.port, exclusive: true }, () => s.close(() => resolve()))
    } else {
      const s = createSocket(l.host.includes(':') ? 'udp6' : 'udp4')
      s.once('error', fail)
      s.bind({ address: l.host, port: l.port, exclusive: true }, () => s.close(() => resolve()))
    }
  })
}

/** Whether a socket on `port` is listening (TCP) or bound (UDP), from /proc/net; null if unknown. */
function bound (protocol: ListenUrl['protocol'], port: number): boolean | null {
  const hex = port.toString(16).toUpperCase().padStart(4, '0')
  const files = protocol === 'rtmp' ? ['/proc/net/tcp', '/proc/net/tcp6'] : ['/proc/net/udp', '/proc/net/udp6']
  let readable = false
  for (const f of files) {
    let text: string
    try { text = readFileSync(f, 'utf8'); readable = true } catch { continue }
    for (const line of text.split('\n').slice(1)) {
      const cols = line.trim().split(/\s+/)
      if (!cols[1]?.endsWith(`:${hex}`)) continue
      if (protocol === 'srt' || cols[3] === '0A') return true // 0A: LISTEN
    }
  }
  return readable ? false : null
}

/**
 * Resolves once ffmpeg's socket is up (so an encoder can connect): true; false when ffmpeg exited
 * first; true as well after 0.5 s where /proc/net is not there to tell, or after 10 s.
 */
async function listening (child: ChildProcess, l: ListenUrl): Promise<boolean> {
  const t0 = Date.now()
  for (;;) {
    if (child.exitCode !== null || child.signalCode !== null) return false
    const b = bound(l.protocol, l.port)
    if (b === true || (b === null && Date.now() - t0 > 500) || Date.now() - t0 > 10_000) return true
    await new Promise((resolve) => setTimeout(resolve, 50))
  }
}

/** A connection that failed (wrong stream key, not an encoder): the pause before listening again. */
const RETRY_AFTER_FAILED_MS = 500
/** At most this many stream lines are kept for the 'connected' report (an input can list many). */
const MAX_STREAMS_REPORTED = 16

export interface ListenInput { kind: 'listen', listen: ListenUrl, format: IngestFormat, once: boolean }

/** The `--listen`, `--format`, `--once` flags of broadcast (null without --listen); ffmpeg checked. */
export function listenInput (p: Parsed): ListenInput | null {
  const url = str(p, 'listen')
  const format = str(p, 'format')
  if (url === undefined) {
    if (format !== undefined || bool(p, 'once')) throw new UsageError('--format and --once go with --listen')
    return null
  }
  if (format !== undefined && format !== 'mpegts' && format !== 'mp4') throw new UsageError(`--format must be mpegts or mp4, not '${format}'`)
  const listen = parseListen(url)
  checkFfmpeg(listen.protocol)
  return { kind: 'listen', listen, format: format === 'mp4' ? 'mp4' : 'mpegts', once: bool(p, 'once') }
}

export interface IngestOptions {
  listen: ListenUrl
  format: IngestFormat
  /** End when the first encoder disconnects (always so for mp4). */
  once: boolean
  out: Output
  signal: AbortSignal
}

function ffmpegArgs (o: IngestOptions, offsetSeconds: number): string[] {
  const args = ['-hide_banner', '-nostdin', '-loglevel', 'info', '-stats']
  if (o.listen.protocol === 'rtmp') args.push('-listen', '1')
  args.push('-i', o.listen.ffmpegUrl, '-c', 'copy')
  if (offsetSeconds > 0) args.push('-output_ts_offset', offsetSeconds.toFixed(3))
  if (o.format === 'mp4') args.push('-f', 'mp4', '-movflags', 'frag_keyframe+empty_moov+default_base_moof')
  else args.push('-f', 'mpegts')
  args.push('pipe:1')
  return args
}

/**
 * The broadcast's input: what each encoder connection sends, remuxed, one after the other.
 * Reports 'listening', 'encoder' (connected / disconnected) as status lines and `--json` events;
 * a disconnection's `bytes` is how many bytes the encoders have sent so far (where that run ends,
 * counted from where this process began airing).
 */
export function ingest (o: IngestOptions): Readable {
  let child: ChildProcess | null = null
  const stop = (): void => {
    const c = child
    if (!c || c.exitCode !== null || c.signalCode !== null) return
    c.kill('SIGINT') // ffmpeg finishes the file it writes
    const t = setTimeout(() => { if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL') }, 3000)
    t.unref()
  }
  o.signal.addEventListener('abort', stop, { once: true })
  atExit(() => { if (child && child.exitCode === null && child.signalCode === null) child.kill('SIGKILL') })
  const once = o.once || o.format === 'mp4'

  async function * runs (): AsyncGenerator<Buffer> {
    let first: number | null = null
    let offset = 0
    let connections = 0
    let total = 0
    try {
      while (!o.signal.aborted) {
        const c = child = spawn('ffmpeg', ffmpegArgs(o, offset), { stdio: ['ignore', 'pipe', 'pipe'] })
        const exited = new Promise<number | null>((resolve) => c.once('close', (code) => resolve(code)))
        const spawnError = new Promise<Error | null>((resolve) => { c.once('error', resolve); void exited.then(() => resolve(null)) })
        let connected = false
        let clash = false
        let signalled = false
        let refused = ''
        let decided = (): void => {}
        const decision = new Promise<void>((resolve) => { decided = resolve })
        void exited.then(() => decided())
        let lastLine = ''
        let mediaSeconds = -1
        const streams: string[] = []
        let buffered = ''
        c.stderr!.setEncoding('utf8')
        c.stderr!.on('data', (s: string) => {
          buffered += s
          const lines = buffered.split(/\r?\n|\r/)
          buffered = lines.pop() ?? ''
          if (buffered.length > 4096) buffered = ''
          for (const line of lines) {
            if (line.trim()) lastLine = line.trim()
            if (/Address already in use/i.test(line)) clash = true
            if (/received signal/i.test(line)) signalled = true // Ctrl-C reached ffmpeg too (same process group)
            // ffmpeg's RTMP listener only warns about these and takes the stream anyway: refuse it here.
            if (!connected && !refused && /App field don't match up|Unexpected stream .*, expecting/.test(line)) {
              refused = /App field/.test(line) ? 'the wrong app' : 'the wrong stream key'
              c.kill('SIGKILL')
              decided()
            }
            const t = /\btime=(\d+):(\d\d):(\d\d(?:\.\d+)?)/.exec(line)
            if (t) mediaSeconds = Number(t[1]) * 3600 + Number(t[2]) * 60 + Number(t[3])
            const m = /^\s*Stream #0:\d+.*?: (Video|Audio): ([\w-]+)/.exec(line)
            if (m && !connected && streams.length < MAX_STREAMS_REPORTED) streams.push(`${m[1]!.toLowerCase()} ${m[2]!}`)
            if (/^Output #0/.test(line) && !connected && !refused) {
              connected = true
              decided()
              connections++
              o.out.event('encoder', { state: 'connected', connection: connections, streams })
              o.out.info(`encoder connected (${streams.join(', ') || 'no streams listed'}); airing`)
            }
          }
        })
        const up = await listening(c, o.listen)
        if (up && !o.signal.aborted) {
          o.out.event('listening', { url: o.listen.shown, protocol: o.listen.protocol, port: o.listen.port })
          o.out.info(`waiting for an encoder on ${o.listen.shown}${connections > 0 ? ' (the same broadcast continues)' : ''}`)
        }
        for await (const chunk of c.stdout!) {
          // Nothing is aired before ffmpeg has said it took the connection (and it was not refused).
          if (!connected) await decision
          if (!connected) continue
          if (first === null) first = Date.now()
          total += (chunk as Buffer).length
          yield chunk as Buffer
        }
        const failed = await spawnError
        if (failed) throw new UserError(`cannot run ffmpeg: ${failed.message}`)
        const code = await exited
        child = null
        if (o.signal.aborted) return
        if (clash) throw inUse(o.listen)
        if (signalled && !connected) return
        if (!connected && !up) throw new UserError(`ffmpeg cannot listen on ${o.listen.shown}${code !== 0 ? ` (exit ${String(code)}): ${lastLine}` : ''}`)
        if (!connected) {
          // Someone connected and was refused, or was not an encoder: not the broadcast's problem.
          const why = refused ? `refused: ${refused}` : lastLine || `ffmpeg exit ${String(code)}`
          o.out.event('encoder', { state: 'failed', message: why })
          o.out.info(`a connection to ${o.listen.shown} failed (${why}); listening again`)
          await new Promise((resolve) => setTimeout(resolve, RETRY_AFTER_FAILED_MS))
          continue
        }
        // The next run starts a second after where this one's timeline ended (ffmpeg's time=, which
        // leaves out the offset), or, without that, a second after the wall-clock time since the first.
        offset = mediaSeconds >= 0 ? offset + mediaSeconds + 1 : Math.max(offset, (Date.now() - (first ?? Date.now())) / 1000) + 1
        o.out.event('encoder', { state: 'disconnected', connection: connections, bytes: total })
        if (once) {
          o.out.info(`encoder disconnected; ending the broadcast${o.format === 'mp4' && !o.once ? ' (fragmented MP4 cannot continue across connections; use MPEG-TS for that)' : ''}`)
          return
        }
        o.out.info('encoder disconnected')
      }
    } finally {
      stop()
    }
  }
  return Readable.from(runs(), { objectMode: false })
}
