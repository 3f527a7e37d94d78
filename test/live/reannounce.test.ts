/**
 * Re-tune-in's re-announce (patches/discovery.ts): a viewer left with no ut_live wire asks its
 * trackers again at once, through WebTorrent's own discovery, instead of at the tracker's interval.
 * A real bittorrent-tracker on loopback, a real WebTorrent client.
 */
import assert from 'node:assert/strict'
import { randomBytes } from 'node:crypto'
import WebTorrent from 'webtorrent'
import { startTracker, type LocalTracker } from '../../lib/web/tracker.js'
import { reannounce, type ClientLike } from '../../patches/index.js'
import { CLIENT_OPTS, destroyAll, tempDir, withTimeout } from '../support/clients.js'


describe('re-announce (re-tune-in)', function () {
  this.timeout(30_000)
  let tracker: LocalTracker | null = null
  let client: ClientLike | null = null
  afterEach(async () => {
    const c = client
    if (c && !c.destroyed) await new Promise<void>((resolve) => c.destroy(() => resolve()))
    client = null
    await tracker?.close()
    tracker = null
    await destroyAll()
  })

  it('announces to the trackers again now (the tracker asked for a 10 min interval)', async () => {
    tracker = await startTracker({ ws: false, interval: 600_000 })
    const { server } = tracker
    const announce = tracker.announce[0]!
    const infoHash = randomBytes(20).toString('hex')
    const seen: string[] = []
    for (const ev of ['start', 'update', 'stop', 'complete']) server.on(ev, () => seen.push(ev))

    const c: ClientLike = client = new WebTorrent({ ...CLIENT_OPTS, tracker: true })
    const torrent = c.add(`magnet:?xt=urn:btih:${infoHash}&tr=${encodeURIComponent(announce)}`, { path: tempDir() })
    await withTimeout(new Promise<void>((resolve) => server.once('start', () => resolve())), 15_000, 'the first announce')
    assert.deepEqual(seen, ['start'])

    const updated = new Promise<void>((resolve) => server.once('update', () => resolve()))
    reannounce(torrent)
    await withTimeout(updated, 15_000, 'the re-announce')
    assert.deepEqual(seen, ['start', 'update'])

    torrent.destroy()
    reannounce(torrent) // destroyed: a no-op, no throw
  })
})
