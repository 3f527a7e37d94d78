import assert from 'node:assert/strict'
import { spawn, spawnSync } from 'node:child_process'
import { broadcast } from '../../lib/index.js'
import { ffmpegPath, testCardArgs } from '../../lib/web/testcard.js'
import { buildBundles, Env, haveChromium, playsWhileAiring, waitStats } from './helpers.js'

const PL = 16384
const FFMPEG = ffmpegPath()

/** VP9 + Opus WebM in real time, as a live encoder (or a browser's MediaRecorder) writes it: one Cluster a second. */
function liveWebM (seconds: number): ReturnType<typeof spawn> {
  return spawn(FFMPEG, testCardArgs({ seconds, container: 'webm' }), { stdio: ['ignore', 'pipe', 'inherit'] })
}

function canEncodeWebM (): boolean {
  const r = spawnSync(FFMPEG, ['-hide_banner', '-encoders'], { encoding: 'utf8' })
  return r.status === 0 && /libvpx-vp9/.test(r.stdout) && /libopus/.test(r.stdout)
}

describe('browsers: WebM plays in the page', function () {
  this.timeout(120_000)
  let env: Env

  before(async function () {
    if (!haveChromium()) { console.warn('    (no Chromium: skipped)'); this.skip() }
    if (!canEncodeWebM()) { console.warn('    (this ffmpeg cannot encode VP9 + Opus: skipped)'); this.skip() }
    await buildBundles()
  })
  beforeEach(async () => { env = new Env(); await env.start() })
  afterEach(async () => { await env.stop() })

  it('a VP9 + Opus WebM broadcast plays while it airs, from the start and from the live edge (at a Cluster)', async () => {
    const a = env.client()
    const bc = await broadcast(a, { name: 'card.webm', pieceLength: PL, announce: [env.tracker!.url], path: env.dir() })
    const site = await env.page({ magnetURI: bc.magnetURI, broadcasterPeerId: a.peerId, live: bc.live })
    // Up to a minute: the encoder is stopped (SIGINT: ffmpeg finishes the file) once the pages have
    // played, so a slow machine never sees the broadcast end before they start.
    const ff = liveWebM(60)
    const airing = new Promise<void>((resolve, reject) => ff.stdout!.pipe(bc.createWriteStream()).on('finish', resolve).on('error', reject))
    try {
      const { start, s2, l2 } = await playsWhileAiring(env, site.url, bc.live, 'WebM')
      assert.equal(s2.player.container, 'webm')
      assert.equal(s2.player.mime, 'video/webm; codecs="vp9, opus"')
      // It started at a Cluster: the bytes there are the Cluster's ID.
      const at = Buffer.from(await new Promise<Uint8Array>((resolve, reject) => {
        const r = bc.live.stream({ startPiece: Math.floor(l2.player.startOffset / PL) }).getReader()
        r.read().then((x) => { r.cancel().catch(() => {}); resolve(x.value!) }, reject)
      }))
      assert.equal(at.subarray(l2.player.startOffset % PL, l2.player.startOffset % PL + 4).toString('hex'), '1f43b675')
      assert.ok(l2.player.currentTime > 2, 'and at a media time far from 0')
      assert.deepEqual(s2.errors, [])
      assert.equal(s2.player.error, null)
      assert.equal(l2.player.error, null)
      ff.kill('SIGINT')
      await airing
      await waitStats(start, (s) => s.ended && s.player.ended, 30_000, 'the page saw the end')
    } finally {
      if (ff.exitCode === null) ff.kill('SIGTERM')
    }
  })
})
