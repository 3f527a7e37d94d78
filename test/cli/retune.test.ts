/**
 * Re-tune-in: a source that goes away for a minute is not lost. A viewer that knows the
 * broadcaster only by address (`--peer`) keeps redialling it while the stream is live (WebTorrent
 * alone gives up after three tries, ~21 s) and resumes when the broadcaster comes back on its
 * `--state` and its old port; its output is every byte ingested.
 */
import assert from 'node:assert/strict'
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { startTracker, type LocalTracker } from '../../lib/web/tracker.js'
import { bytes } from '../support/clients.js'
import { Cli, cleanup, feed, tempDir } from '../support/cli.js'

const PL = 16384
const OUTAGE_MS = 60_000
/** The tracker path's outage: longer than WebTorrent's own three redials (~21 s). */
const TRACKER_OUTAGE_MS = 25_000

describe('cli: viewers re-tune in after the source was away', function () {
  this.timeout(OUTAGE_MS + 120_000)
  afterEach(cleanup)

  it(`--peer only: the broadcaster is SIGKILLed, away ${OUTAGE_MS / 1000} s, restarted on its --state; the viewer resumes and gets every byte`, async () => {
    const dir = tempDir()
    const state = join(dir, 'state')
    const data = bytes(PL * 120 + 333, 41)
    const common = ['--state', state, '--no-dht', '--json']

    // Fed from stdin: the stream is live (not ended) when its source goes away.
    const first = new Cli(['broadcast', '-', ...common], { stdin: 'pipe' })
    const r1 = await first.event('ready')
    const viewer = new Cli(['watch', r1.magnetURI, '--peer', `127.0.0.1:${String(r1.port)}`, '--no-dht', '--out', join(dir, 'out.ts'), '--json'])
    first.proc.stdin!.write(data.subarray(0, PL * 40))
    await viewer.event('head', 60_000, (e) => e.pieces >= 30)
    await first.kill()
    const t0 = Date.now()

    // The outage itself (the point of the test): the viewer stays, with no source.
    await new Promise((resolve) => setTimeout(resolve, OUTAGE_MS))
    assert.equal(viewer.code, null, `the viewer waits for the source (${viewer.describe()})`)

    const second = new Cli(['broadcast', '-', ...common], { stdin: 'pipe' })
    const r2 = await second.event('ready')
    assert.equal(r2.infoHash, r1.infoHash)
    assert.equal(r2.port, r1.port, 'back on its old port')
    assert.ok(r2.length < data.length && r2.length % PL === 0, `resumed at ${String(r2.length)}`)
    await feed(second.proc.stdin!, data.subarray(r2.length), 20000, 5)
    await second.event('ended', 90_000)
    await viewer.exit(0, 90_000)
    assert.ok(readFileSync(join(dir, 'out.ts')).equals(data), 'every byte, across the outage')
    assert.ok(Date.now() - t0 >= OUTAGE_MS)
    await second.interrupt(0, 60_000)
  })
})

describe('cli: viewers re-tune in through a tracker', function () {
  this.timeout(TRACKER_OUTAGE_MS + 120_000)
  let tracker: LocalTracker | null = null
  afterEach(async () => {
    await cleanup()
    await tracker?.close()
    tracker = null
  })

  it(`tracker only: the broadcaster is SIGKILLed, away ${TRACKER_OUTAGE_MS / 1000} s, restarted on its --state on another port; the viewer resumes and gets every byte`, async () => {
    // A short announce interval, so that either side may find the other through the tracker again.
    tracker = await startTracker({ ws: false, interval: 5_000 })
    const announce = tracker.announce[0]!
    const dir = tempDir()
    const state = join(dir, 'state')
    const data = bytes(PL * 100 + 777, 43)
    const common = ['--state', state, '--no-dht', '--announce', announce, '--json']

    const first = new Cli(['broadcast', '-', ...common], { stdin: 'pipe' })
    const r1 = await first.event('ready')
    assert.ok(String(r1.magnetURI).includes('tr='), 'the magnet names the tracker')
    const viewer = new Cli(['watch', r1.magnetURI, '--no-dht', '--out', join(dir, 'out.ts'), '--json'])
    first.proc.stdin!.write(data.subarray(0, PL * 30))
    await viewer.event('head', 60_000, (e) => e.pieces >= 25)
    await first.kill()

    await new Promise((resolve) => setTimeout(resolve, TRACKER_OUTAGE_MS))
    assert.equal(viewer.code, null, `the viewer waits for the source (${viewer.describe()})`)

    const second = new Cli(['broadcast', '-', '--port', '0', ...common], { stdin: 'pipe' })
    const r2 = await second.event('ready')
    assert.equal(r2.infoHash, r1.infoHash)
    assert.notEqual(r2.port, r1.port, 'back on another port')
    assert.ok(r2.length < data.length && r2.length % PL === 0, `resumed at ${String(r2.length)}`)
    await feed(second.proc.stdin!, data.subarray(r2.length), 20000, 5)
    await second.event('ended', 90_000)
    await viewer.exit(0, 90_000)
    assert.ok(readFileSync(join(dir, 'out.ts')).equals(data), 'every byte, across the outage')
    await second.interrupt(0, 60_000)
  })
})
