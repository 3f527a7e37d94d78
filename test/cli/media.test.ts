/**
 * Real media: ffmpeg's MPEG-TS piped into `broadcast -`; a viewer's file is byte-identical to what
 * ffmpeg wrote and ffprobe reads it as H.264 + AAC; ffprobe also reads the viewer's HTTP stream
 * while it airs. And `demo --seconds N` (the short mode of npm start) runs to a clean exit 0.
 */
import assert from 'node:assert/strict'
import { spawn, spawnSync } from 'node:child_process'
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { testCardArgs } from '../../lib/web/testcard.js'
import { withTimeout } from '../support/clients.js'
import { Cli, cleanup, tempDir } from '../support/cli.js'

function has (cmd: string): boolean {
  try { return spawnSync(cmd, ['-version'], { stdio: 'ignore' }).status === 0 } catch { return false }
}

async function probe (target: string): Promise<{ format: string, codecs: string[] }> {
  const child = spawn('ffprobe', ['-v', 'error', '-show_entries', 'format=format_name:stream=codec_name', '-of', 'json', target], { stdio: ['ignore', 'pipe', 'pipe'] })
  let out = ''
  let err = ''
  child.stdout.setEncoding('utf8').on('data', (s: string) => { out += s })
  child.stderr.setEncoding('utf8').on('data', (s: string) => { err += s })
  const code = await withTimeout(new Promise<number | null>((resolve) => child.once('exit', resolve)), 60_000, `ffprobe ${target}`).finally(() => child.kill())
  assert.equal(code, 0, `ffprobe ${target}: ${err}`)
  const j = JSON.parse(out) as { format: { format_name: string }, streams: Array<{ codec_name: string }> }
  return { format: j.format.format_name, codecs: j.streams.map((s) => s.codec_name).sort() }
}

describe('cli: real media and the demo', function () {
  this.timeout(120_000)
  const kills: Array<() => void> = []
  afterEach(async () => {
    for (const k of kills.splice(0)) k()
    await cleanup()
  })

  it('ffmpeg MPEG-TS | broadcast -: the viewer file is what ffmpeg wrote, and ffprobe reads it and the HTTP stream', async function () {
    if (!has('ffmpeg') || !has('ffprobe')) this.skip()
    const dir = tempDir()
    const bc = new Cli(['broadcast', '-', '--name', 'test.ts', '--no-dht', '--json'], { stdin: 'pipe' })
    const ready = await bc.event('ready')
    const peer = `127.0.0.1:${String(ready.port)}`
    const viewer = new Cli(['watch', ready.magnetURI, '--peer', peer, '--no-dht', '--out', join(dir, 'out.ts'), '--http', '0', '--json'])
    const url = (await viewer.event('ready')).url as string

    // Six seconds of test pattern and tone, in real time, H.264 + AAC in MPEG-TS.
    const ff = spawn('ffmpeg', testCardArgs({ seconds: 6, container: 'mpegts' }), { stdio: ['ignore', 'pipe', 'pipe'] })
    const produced: Buffer[] = []
    ff.stdout.on('data', (b: Buffer) => produced.push(b))
    bc.proc.stdin!.on('error', () => {}) // if the broadcaster dies, the test fails on its events, not on EPIPE
    ff.stdout.pipe(bc.proc.stdin!)
    kills.push(() => ff.kill('SIGKILL'))
    let ffErr = ''
    ff.stderr.setEncoding('utf8')
    ff.stderr.on('data', (s: string) => { ffErr += s })
    const ffDone = new Promise<number | null>((resolve) => ff.once('exit', (code) => resolve(code)))

    // While it airs: ffprobe reads the player URL (the response follows the growing stream).
    await viewer.event('head', 60_000, (e) => e.pieces >= 3)
    const live = await probe(url)
    assert.equal(live.format, 'mpegts')
    assert.ok(live.codecs.includes('h264'), `codecs over HTTP: ${live.codecs.join(', ')}`)

    assert.equal(await ffDone, 0, `ffmpeg: ${ffErr}`)
    const ended = await bc.event('ended', 60_000)
    await viewer.event('done', 60_000)
    await viewer.interrupt(0) // --http serves until Ctrl-C
    const sent = Buffer.concat(produced)
    const got = readFileSync(join(dir, 'out.ts'))
    assert.equal(ended.bytes, sent.length)
    assert.ok(got.equals(sent), `the viewer file is what ffmpeg produced (${got.length} / ${sent.length} bytes)`)
    const p = await probe(join(dir, 'out.ts'))
    assert.equal(p.format, 'mpegts')
    assert.deepEqual(p.codecs, ['aac', 'h264'])
    await bc.interrupt(0)
  })

  it('demo --seconds 4 (the short, non-interactive npm start) airs to a viewer through a local tracker and exits 0', async () => {
    const demo = new Cli(['demo', '--seconds', '4', '--http', '0', '--json'])
    const ready = await demo.event('ready')
    assert.match(ready.url, /^http:\/\/127\.0\.0\.1:\d+\/$/)
    assert.match(ready.tracker, /^http:\/\/127\.0\.0\.1:\d+\/announce$/)
    const ended = await demo.event('ended', 60_000)
    assert.equal(ended.identical, true)
    assert.ok(ended.bytes > 0 && ended.viewerBytes === ended.bytes, JSON.stringify(ended))
    await demo.exit(0, 30_000)
  })
})
