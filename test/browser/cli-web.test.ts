import assert from 'node:assert/strict'
import { spawn, spawnSync } from 'node:child_process'
import { existsSync } from 'node:fs'
import { ffmpegPath, testCard, testCardArgs } from '../../lib/web/testcard.js'
import { Cli, cleanup } from '../support/cli.js'
import { buildBundles, Env, haveChromium, sleep, waitStats } from './helpers.js'

describe('browsers: the web page from the command line', function () {
  this.timeout(120_000)
  let env: Env

  before(async function () {
    if (!haveChromium() || !existsSync(process.env.FFMPEG ?? '/usr/bin/ffmpeg')) this.skip()
    await buildBundles()
  })
  beforeEach(async () => { env = new Env(); await env.start() })
  afterEach(async () => { await env.stop(); await cleanup() })

  it('broadcast - --web PORT: the page plays the program while it airs', async () => {
    const card = testCard({ seconds: 90 }) // stopped below: long enough to be airing still on a loaded machine
    const cli = new Cli(['broadcast', '-', '--name', 'card.mp4', '--web', '0', '--no-dht', '--json'], { stdin: 'pipe' })
    card.stream.pipe(cli.proc.stdin!)
    cli.proc.stdin!.on('error', () => {})
    try {
      const ready = await cli.event('ready', 30_000)
      assert.match(ready.web, /^http:\/\/127\.0\.0\.1:\d+\/$/)
      const page = await env.open(`${ready.web as string}?from=start`)
      const s1 = await waitStats(page, (s) => s.player?.currentTime > 0.5, 40_000, 'video playing')
      const s2 = await waitStats(page, (s) => s.player.currentTime > s1.player.currentTime + 1, 30_000, 'playback goes on')
      assert.equal(s2.ended, false, 'still airing')
      assert.ok(s2.player.currentTime > s1.player.currentTime + 1, `currentTime ${s1.player.currentTime} → ${s2.player.currentTime}`)
      assert.ok(s2.bytesFromBroadcaster > 0)
    } finally {
      card.stop()
      await cli.kill()
    }
  })

  it('broadcast - --web PORT: a WebM (VP9 + Opus, as MediaRecorder writes) plays while it airs', async function () {
    const enc = spawnSync(process.env.FFMPEG ?? 'ffmpeg', ['-hide_banner', '-encoders'], { encoding: 'utf8' })
    if (!/libvpx-vp9/.test(enc.stdout) || !/libopus/.test(enc.stdout)) { console.warn('    (this ffmpeg cannot encode VP9 + Opus: skipped)'); this.skip() }
    const ff = spawn(ffmpegPath(), testCardArgs({ seconds: 90, container: 'webm' }), { stdio: ['ignore', 'pipe', 'inherit'] })
    const cli = new Cli(['broadcast', '-', '--name', 'card.webm', '--web', '0', '--no-dht', '--json'], { stdin: 'pipe' })
    ff.stdout.pipe(cli.proc.stdin!)
    cli.proc.stdin!.on('error', () => {})
    try {
      const ready = await cli.event('ready', 30_000)
      const page = await env.open(`${ready.web as string}?from=live`)
      const s1 = await waitStats(page, (s) => s.player?.currentTime > 0 && !s.player.paused, 40_000, 'WebM playing from the live edge')
      const s2 = await waitStats(page, (s) => s.player.currentTime > s1.player.currentTime + 1, 30_000, 'playback goes on')
      assert.equal(s2.ended, false, 'still airing')
      assert.ok(s2.player.currentTime > s1.player.currentTime + 1, `currentTime ${s1.player.currentTime} → ${s2.player.currentTime}`)
      assert.equal(s2.player.mime, 'video/webm; codecs="vp9, opus"')
      assert.ok(s2.player.startOffset > 0, 'started at a Cluster inside the stream')
    } finally {
      if (ff.exitCode === null) ff.kill('SIGTERM')
      await cli.kill()
    }
  })

  it('npm start (the demo) prints the page address on a line of its own; the page plays, with bytes from the demo\'s viewer as well as from the broadcaster', async () => {
    const demo = new Cli(['demo', '--seconds', '40', '--http', '0', '--web', '0'], { json: false })
    try {
      const deadline = Date.now() + 30_000
      let url: string | undefined
      while (!url) {
        url = demo.stderr.split('\n').find((l) => /^http:\/\/127\.0\.0\.1:\d+\/$/.test(l))
        if (Date.now() > deadline) throw new Error(`no page address line: ${demo.describe()}`)
        if (!url) await sleep(100)
      }
      const page = await env.open(`${url}?from=live`)
      const s1 = await waitStats(page, (s) => s.player?.currentTime > 0 && !s.player.paused, 40_000, 'video playing from the live edge')
      const s2 = await waitStats(page, (s) => s.player.currentTime > s1.player.currentTime + 1, 30_000, 'playback goes on')
      assert.ok(s2.player.currentTime > s1.player.currentTime + 1, `currentTime ${s1.player.currentTime} → ${s2.player.currentTime}`)
      assert.match(s2.player.mime, /^video\/mp4; codecs="avc1\.[0-9a-f]{6}, mp4a\.40\.2"$/)
      // The demo's Node viewer is reachable over WebRTC too: the page counts bytes from a peer other
      // than the broadcaster (the only other peer in this swarm is the demo's viewer).
      const s3 = await waitStats(page, (s) => s.bytesFromPeers > 0, 40_000, 'bytes from a peer other than the broadcaster')
      const others = Object.entries(s3.perPeer as Record<string, { bytes: number, type: string }>).filter(([id, e]) => id !== s3.broadcasterPeerId && e.bytes > 0)
      assert.ok(s3.broadcasterPeerId, 'the page knows the broadcaster')
      assert.equal(others.length, 1, JSON.stringify(s3.perPeer))
      assert.equal(others[0]![1].type, 'webrtc')
      assert.equal(s3.bytesFromPeers, others[0]![1].bytes)
    } finally {
      await demo.kill()
    }
  })
})
