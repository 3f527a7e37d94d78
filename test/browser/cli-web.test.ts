import assert from 'node:assert/strict'
import { existsSync } from 'node:fs'
import { testCard } from '../../lib/web/testcard.js'
import { Cli, cleanup } from '../cli/cli.js'
import { buildBundles, Env, haveChromium, sleep, stats, waitStats } from './helpers.js'

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
    const card = testCard({ seconds: 25 })
    const cli = new Cli(['broadcast', '-', '--name', 'card.mp4', '--web', '0', '--no-dht', '--json'], { stdin: 'pipe' })
    card.stream.pipe(cli.proc.stdin!)
    cli.proc.stdin!.on('error', () => {})
    try {
      const ready = await cli.event('ready', 30_000)
      assert.match(ready.web, /^http:\/\/127\.0\.0\.1:\d+\/$/)
      const page = await env.open(`${ready.web as string}?from=start`)
      const s1 = await waitStats(page, (s) => s.player?.currentTime > 0.5, 40_000, 'video playing')
      await sleep(2000)
      const s2 = await stats(page)
      assert.equal(s2.ended, false, 'still airing')
      assert.ok(s2.player.currentTime > s1.player.currentTime + 1, `currentTime ${s1.player.currentTime} → ${s2.player.currentTime}`)
      assert.ok(s2.bytesFromBroadcaster > 0)
    } finally {
      card.stop()
      await cli.kill()
    }
  })

  it('npm start (the demo) prints the page address on a line of its own; the page plays', async () => {
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
      await sleep(2000)
      const s2 = await stats(page)
      assert.ok(s2.player.currentTime > s1.player.currentTime + 1, `currentTime ${s1.player.currentTime} → ${s2.player.currentTime}`)
      assert.match(s2.player.mime, /avc1\..*mp4a/)
    } finally {
      await demo.kill()
    }
  })
})
