/**
 * `broadcast --listen`: ffmpeg pushes a test card over RTMP (as OBS does) or SRT into the broadcaster,
 * a viewer joins by magnet with `--http`, and ffmpeg decodes what the viewer serves. The encoder
 * disconnects and reconnects: the same broadcast (same infohash) goes on and the joined stream still
 * decodes without an error. Skipped only when ffmpeg / ffprobe are not installed (CI installs them).
 */
import assert from 'node:assert/strict'
import { spawn, spawnSync, type ChildProcess } from 'node:child_process'
import { writeFileSync } from 'node:fs'
import { createServer } from 'node:net'
import { join } from 'node:path'
import { testCardArgs } from '../../lib/web/testcard.js'
import { withTimeout } from '../support/clients.js'
import { Cli, cleanup, run, STACK, tempDir } from '../support/cli.js'

const HAVE_FFMPEG = ['ffmpeg', 'ffprobe'].every((cmd) => {
  try { return spawnSync(cmd, ['-version'], { stdio: 'ignore' }).status === 0 } catch { return false }
})
const HAVE_SRT = HAVE_FFMPEG && /^\s*srt\s*$/m.test((spawnSync('ffmpeg', ['-hide_banner', '-protocols'], { encoding: 'utf8' }).stdout ?? '').split('Output:')[0] ?? '')

async function freePort (): Promise<number> {
  const s = createServer()
  await new Promise<void>((resolve) => s.listen(0, '127.0.0.1', resolve))
  const port = (s.address() as { port: number }).port
  await new Promise((resolve) => s.close(resolve))
  return port
}

const procs: ChildProcess[] = []

/** ffmpeg as the encoder: `seconds` of test card and tone, H.264 + AAC, in real time, to `url`. */
async function push (url: string, seconds: number, format: 'flv' | 'mpegts' = 'flv', refused = false): Promise<void> {
  const ff = spawn('ffmpeg', testCardArgs({ seconds, sampleRate: 44100, container: format, to: url }), { stdio: ['ignore', 'ignore', 'pipe'] })
  procs.push(ff)
  let err = ''
  ff.stderr.setEncoding('utf8').on('data', (s: string) => { err += s })
  const code = await withTimeout(new Promise<number | null>((resolve) => ff.once('exit', resolve)), 30_000, `ffmpeg push to ${url}`)
  if (!refused) assert.equal(code, 0, `ffmpeg push to ${url}: ${err}`)
}

/** Runs ffmpeg or ffprobe to its end: exit code and stderr. */
async function tool (cmd: string, args: string[]): Promise<{ code: number | null, out: string, err: string }> {
  const c = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'] })
  procs.push(c)
  let out = ''
  let err = ''
  c.stdout.setEncoding('utf8').on('data', (s: string) => { out += s })
  c.stderr.setEncoding('utf8').on('data', (s: string) => { err += s })
  const code = await withTimeout(new Promise<number | null>((resolve) => c.once('exit', resolve)), 30_000, `${cmd} ${args.join(' ')}`)
  return { code, out, err }
}

/** Decodes `target` fully: no error printed, h264 and aac streams. */
async function decodes (target: string, format: string): Promise<void> {
  const d = await tool('ffmpeg', ['-hide_banner', '-nostdin', '-v', 'error', '-i', target, '-f', 'null', '-'])
  assert.equal(d.code, 0, `ffmpeg decoding ${target}: ${d.err}`)
  assert.equal(d.err.trim(), '', `ffmpeg decoding ${target} printed errors`)
  const p = await tool('ffprobe', ['-v', 'error', '-show_entries', 'format=format_name:stream=codec_name', '-of', 'json', target])
  assert.equal(p.code, 0, `ffprobe ${target}: ${p.err}`)
  const j = JSON.parse(p.out) as { format: { format_name: string }, streams: Array<{ codec_name: string }> }
  assert.match(j.format.format_name, new RegExp(format))
  assert.deepEqual(j.streams.map((s) => s.codec_name).sort(), ['aac', 'h264'])
}

/** The first `n` bytes of the viewer's HTTP stream (it follows the growing stream). */
async function httpBytes (url: string, n: number): Promise<Buffer> {
  const ac = new AbortController()
  const res = await fetch(url, { signal: ac.signal })
  assert.equal(res.status, 200)
  const parts: Buffer[] = []
  let got = 0
  const reader = res.body!.getReader()
  try {
    while (got < n) {
      const { done, value } = await reader.read()
      if (done) break
      parts.push(Buffer.from(value))
      got += value.length
    }
  } finally { ac.abort() }
  return Buffer.concat(parts).subarray(0, n)
}

describe('cli: broadcast --listen (ingest from OBS and other encoders)', function () {
  this.timeout(60_000)
  const live: Cli[] = []
  afterEach(async function () {
    if (this.currentTest?.state === 'failed') for (const c of live) console.error(c.describe())
    // SIGTERM first, so that a broadcaster stops the ffmpeg listener it started (cleanup() kills).
    await Promise.all(live.splice(0).map(async (c) => {
      if (c.code !== null || c.signal !== null) return
      c.proc.kill('SIGTERM')
      await withTimeout(c.exited, 10_000, 'SIGTERM').catch(() => {})
    }))
    for (const p of procs.splice(0)) if (p.exitCode === null && p.signalCode === null) p.kill('SIGKILL')
    await cleanup()
  })

  it('RTMP: an encoder pushes, disconnects and reconnects; the same broadcast goes on and the viewer\'s HTTP output decodes', async function () {
    if (!HAVE_FFMPEG) { this.skip() } // ffmpeg / ffprobe not installed
    const port = await freePort()
    const url = `rtmp://127.0.0.1:${port}/live/key`
    // --grace 0: the viewer leaves first, so the broadcaster's goodbye would wait its whole grace
    // for the last piece (test/cli/goodbye tests that wait).
    const bc = new Cli(['broadcast', '--listen', url, '--no-dht', '--grace', '0', '--json'])
    live.push(bc)
    const ready = await bc.event('ready')
    const listening = await bc.event('listening')
    assert.equal(listening.url, url)
    const viewer = new Cli(['watch', ready.magnetURI, '--peer', `127.0.0.1:${String(ready.port)}`, '--no-dht', '--http', '0', '--json'])
    const vReady = await viewer.event('ready')
    assert.equal(vReady.infoHash, ready.infoHash)

    const count = (type: string, state?: string): number => bc.events.filter((e) => e.event === type && (state === undefined || e.state === state)).length
    // ffmpeg's listener would take any stream key (it only warns): the wrong one is refused, nothing aired.
    const wrong = push(`rtmp://127.0.0.1:${port}/live/wrong`, 3, 'flv', true)
    const failed = await bc.event('encoder', 30_000, (e) => e.state === 'failed')
    assert.match(failed.message, /wrong stream key/)
    await wrong
    await bc.event('listening', 30_000, () => count('listening') >= 2)
    assert.equal(count('encoder', 'connected'), 0)
    assert.ok(bc.events.every((e) => e.event !== 'head' || e.bytes === 0), 'nothing aired from the refused connection')
    await push(url, 3)
    const first = await bc.event('encoder', 30_000, (e) => e.state === 'disconnected')
    assert.deepEqual(bc.events.find((e) => e.event === 'encoder' && e.state === 'connected')?.streams, ['video h264', 'audio aac'])
    await bc.event('listening', 30_000, () => count('listening') >= 3) // the listener is back for the next connection
    await push(url, 3)
    const second = await bc.event('encoder', 30_000, (e) => e.state === 'disconnected' && e.connection === 2)
    assert.ok(second.bytes > first.bytes, `the second connection aired more bytes (${String(first.bytes)} then ${String(second.bytes)})`)
    // A third connection carries the stream past the second run's last (partial) piece; the
    // viewer's bytes up to where the second run ended are then two complete runs, joined.
    await bc.event('listening', 30_000, () => count('listening') >= 4)
    const [joined] = await Promise.all([httpBytes(vReady.url, second.bytes), push(url, 2)])
    assert.equal(joined.length, second.bytes)
    const file = join(tempDir(), 'joined.ts')
    writeFileSync(file, joined)
    await decodes(file, 'mpegts')

    assert.equal(count('ready'), 1, 'one broadcast, one infohash')
    assert.equal(count('encoder', 'connected'), 3)
    await viewer.interrupt(0)
    await bc.interrupt(0)
  })

  it('RTMP --once --format mp4: the broadcast ends when the encoder disconnects; the viewer\'s HTTP output is fragmented MP4 that decodes', async function () {
    if (!HAVE_FFMPEG) { this.skip() }
    const port = await freePort()
    const url = `rtmp://127.0.0.1:${port}/app/stream`
    const bc = new Cli(['broadcast', '--listen', url, '--format', 'mp4', '--once', '--no-dht', '--grace', '0', '--json'])
    live.push(bc)
    const ready = await bc.event('ready')
    assert.equal(ready.name, 'live.mp4')
    await bc.event('listening')
    const viewer = new Cli(['watch', ready.magnetURI, '--peer', `127.0.0.1:${String(ready.port)}`, '--no-dht', '--http', '0', '--json'])
    const vReady = await viewer.event('ready')
    await push(url, 3)
    const ended = await bc.event('ended', 30_000)
    const vEnded = await viewer.event('ended', 30_000)
    assert.equal(vEnded.bytes, ended.bytes)
    await decodes(vReady.url, 'mp4')
    await viewer.interrupt(0)
    await bc.interrupt(0)
  })

  it('SRT (srt://HOST:PORT, mode=listener): an MPEG-TS push airs and the viewer\'s HTTP output decodes', async function () {
    if (!HAVE_SRT) { this.skip() } // this ffmpeg has no srt protocol
    const port = await freePort()
    const bc = new Cli(['broadcast', '--listen', `srt://127.0.0.1:${port}`, '--once', '--no-dht', '--grace', '0', '--json'])
    live.push(bc)
    const ready = await bc.event('ready')
    await bc.event('listening')
    const viewer = new Cli(['watch', ready.magnetURI, '--peer', `127.0.0.1:${String(ready.port)}`, '--no-dht', '--http', '0', '--json'])
    const vReady = await viewer.event('ready')
    await push(`srt://127.0.0.1:${port}`, 3, 'mpegts')
    const ended = await bc.event('ended', 30_000)
    const vEnded = await viewer.event('ended', 30_000)
    assert.equal(vEnded.bytes, ended.bytes)
    await decodes(vReady.url, 'mpegts')
    await viewer.interrupt(0)
    await bc.interrupt(0)
  })

  it('a port in use, ffmpeg missing, and bad --listen URLs: one clear line each', async function () {
    if (!HAVE_FFMPEG) { this.skip() }
    const busy = createServer()
    await new Promise<void>((resolve) => busy.listen(0, '127.0.0.1', resolve))
    const port = (busy.address() as { port: number }).port
    try {
      const clash = await run(['broadcast', '--listen', `rtmp://127.0.0.1:${port}/live/key`, '--no-dht'])
      assert.equal(clash.code, 1, clash.stderr)
      assert.match(clash.stderr, new RegExp(`port ${port} is in use`))
      assert.doesNotMatch(clash.stderr, STACK)
    } finally { await new Promise((resolve) => busy.close(resolve)) }

    const c = new Cli(['broadcast', '--listen', 'rtmp://127.0.0.1:1/live/key', '--no-dht'], { env: { PATH: tempDir() } })
    await c.exit(1)
    assert.match(c.stderr, /--listen needs ffmpeg on PATH/)
    assert.equal(c.stderr.trim().split('\n').length, 1, c.stderr)

    for (const [args, msg] of [
      [['--listen', 'rtmp://127.0.0.1:1935/live'], /needs an app and a stream key/],
      [['--listen', 'srt://127.0.0.1'], /needs a port/],
      [['--listen', 'udp://127.0.0.1:5000'], /rtmp:\/\/ or srt:\/\//],
      [['in.ts', '--listen', 'rtmp://127.0.0.1:1935/a/b'], /INPUT or --listen, not both/],
      [['in.ts', '--once'], /go with --listen/],
      [['--listen', 'rtmp://127.0.0.1:1935/a/b', '--format', 'webm'], /--format must be mpegts or mp4/]
    ] as Array<[string[], RegExp]>) {
      const r = await run(['broadcast', ...args])
      assert.equal(r.code, 2, `${args.join(' ')}: ${r.stderr}`)
      assert.match(r.stderr, msg)
    }
  })
})
