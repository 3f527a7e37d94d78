import assert from 'node:assert/strict'
import { createHash, randomBytes } from 'node:crypto'
import { existsSync, readFileSync } from 'node:fs'
import { broadcast, createKeyPair, EXTENSION_NAME } from '../../lib/index.js'
import { encode, signable, type SignedHead } from '../../lib/protocol/index.js'
import { ed25519 } from '../../lib/crypto/index.js'
import { testCard } from '../../lib/web/testcard.js'
import { windowSlack } from '../../lib/live/window.js'
import { buildBundles, Env, haveChromium, playsWhileAiring, sleep, stats, waitStats } from './helpers.js'

/* eslint-disable @typescript-eslint/no-explicit-any */
const PL = 16384

function sha256 (b: Uint8Array): string { return createHash('sha256').update(b).digest('hex') }

async function airChunks (bc: any, data: Uint8Array, chunk = 24_000, pauseMs = 20): Promise<void> {
  for (let off = 0; off < data.length; off += chunk) {
    await bc.write(data.subarray(off, off + chunk))
    if (pauseMs) await sleep(pauseMs)
  }
}

function haveFfmpeg (): boolean {
  return existsSync(process.env.FFMPEG ?? '/usr/bin/ffmpeg')
}

describe('browsers (headless Chromium, WebRTC)', function () {
  this.timeout(120_000)
  let env: Env
  let sizes: Array<{ file: string, bytes: number, gzip: number }> = []

  before(async function () {
    if (!haveChromium()) {
      console.warn('    (no Chromium at /usr/bin/chromium or $CHROMIUM: browser tests skipped)')
      this.skip()
    }
    sizes = await buildBundles()
  })

  beforeEach(async () => { env = new Env(); await env.start() })
  afterEach(async () => { await env.stop() })

  it('builds the library bundle for apps that bundle WebTorrent themselves', () => {
    const lib = sizes.find((s) => s.file.endsWith('webtorrent-live.js'))!
    assert.ok(lib.bytes > 10_000 && lib.bytes < 400_000, `bundle size ${lib.bytes}`)
    const text = readFileSync(new URL('../../browser/webtorrent-live.js', import.meta.url), 'utf8')
    assert.match(text, /from\s*"webtorrent"/, 'webtorrent stays an import of the app')
    assert.doesNotMatch(text, /node:(fs|stream|events|crypto)/, 'no Node built-ins left')
    assert.ok(!text.includes('WebTorrent LLC'), 'WebTorrent itself is not inside')
  })

  it('browser viewers receive a Node broadcast over WebRTC, byte for byte (WebCrypto Ed25519, and elliptic where WebCrypto lacks it)', async () => {
    const a = env.client()
    const bc = await broadcast(a, { name: 'random.bin', pieceLength: PL, announce: [env.tracker!.url], path: env.dir() })
    const site = await env.page({ magnetURI: bc.magnetURI, broadcasterPeerId: a.peerId })
    const data = randomBytes(PL * 24 + 777)
    await airChunks(bc, data.subarray(0, PL * 4))
    // One browser as it is, one whose WebCrypto lacks Ed25519 (the pure-JS fallback verifies there).
    const [page, old] = await Promise.all([env.open(`${site.url}?play=0`), env.open(`${site.url}?play=0`, { withoutEd25519: true })])
    await Promise.all([page, old].map((p) => waitStats(p, (s) => s.verified >= 4, 30_000, 'browser connected and caught up')))
    await airChunks(bc, data.subarray(PL * 4), 24_000, 40) // while the browsers follow the edge
    await bc.end()
    for (const p of [page, old]) {
      const s = await waitStats(p, (x) => x.ended && x.verified === x.count, 30_000, 'browser has the whole broadcast')
      const d = await p.evaluate(() => (window as any).wtl.digest())
      assert.equal(d.bytes, data.length)
      assert.equal(d.sha256, sha256(data))
      assert.equal(s.perPeer[a.peerId]?.type, 'webrtc', 'bytes came over WebRTC from the Node broadcaster')
      assert.equal(s.bytesFromBroadcaster, s.perPeer[a.peerId].bytes)
      assert.ok(s.signatureChecks >= 1)
    }
    assert.equal((await stats(page)).verifier, 'WebCrypto Ed25519')
    assert.equal((await stats(old)).verifier, 'elliptic (pure JS)')
  })

  it('a second browser viewer gets pieces from the first browser (stored in IndexedDB)', async () => {
    const a = env.client()
    const bc = await broadcast(a, { name: 'relay.bin', pieceLength: PL, announce: [env.tracker!.url], path: env.dir() })
    const site = await env.page({ magnetURI: bc.magnetURI, broadcasterPeerId: a.peerId })
    const data = randomBytes(PL * 40 + 99)
    const first = PL * 30
    const p1 = await env.open(`${site.url}?play=0`)
    await airChunks(bc, data.subarray(0, first))
    const s1 = await waitStats(p1, (s) => s.verified === 30, 30_000, 'first browser has 30 pieces')
    // The broadcaster becomes a slow source: the second browser should find the first one faster.
    a.throttleUpload(4000)
    const p2 = await env.open(`${site.url}?play=0&store=idb`)
    await waitStats(p2, (s) => (s.perPeer[s1.peerId]?.bytes ?? 0) > 0, 45_000, 'second browser received bytes from the first')
    a.throttleUpload(-1)
    await airChunks(bc, data.subarray(first))
    await bc.end()
    const s2 = await waitStats(p2, (x) => x.ended && x.verified === x.count, 45_000, 'second browser has the whole broadcast')
    const d2 = await p2.evaluate(() => (window as any).wtl.digest())
    assert.equal(d2.sha256, sha256(data))
    assert.equal(s2.store, 'indexeddb')
    assert.equal(s2.perPeer[s1.peerId].type, 'webrtc')
    assert.ok(s2.bytesFromPeers >= s2.perPeer[s1.peerId].bytes && s2.perPeer[s1.peerId].bytes > 0, JSON.stringify(s2.perPeer))
  })

  it('a window-only browser viewer of an endless stream keeps the window only in IndexedDB: records below it are deleted', async function () {
    this.timeout(180_000) // a WebRTC connection that fails is tried again at the page's next announce
    const a = env.client()
    const W = 16
    const KEEP = W + windowSlack(W)
    const bc = await broadcast(a, { name: 'window.bin', pieceLength: PL, announce: [env.tracker!.url], path: env.dir(), window: W })
    const site = await env.page({ magnetURI: bc.magnetURI, broadcasterPeerId: a.peerId })
    const p = await env.open(`${site.url}?play=0&store=idb`)
    const data = randomBytes(PL * 240 + 5)
    await airChunks(bc, data.subarray(0, PL * 10))
    await waitStats(p, (s) => s.verified >= 10, 60_000, 'the browser follows the stream')
    await airChunks(bc, data.subarray(PL * 10), 24_000, 10)
    await bc.end()
    // The chunks in the page's IndexedDB store: how many, and the lowest index.
    const records = (): Promise<{ n: number, min: number, floor: number, count: number }> => p.evaluate(async () => {
      const w = (window as any).wtl
      const db: IDBDatabase = await new Promise((resolve, reject) => { const r = indexedDB.open(`webtorrent-live/${w.torrent.infoHash as string}`); r.onsuccess = () => resolve(r.result); r.onerror = () => reject(r.error) })
      const st = db.transaction('chunks', 'readonly').objectStore('chunks')
      const keys: number[] = await new Promise((resolve, reject) => { const r = st.getAllKeys(); r.onsuccess = () => resolve(r.result as number[]); r.onerror = () => reject(r.error) })
      db.close()
      return { n: keys.length, min: keys.length ? Math.min(...keys) : -1, floor: w.live.window.floor, count: w.live.count }
    })
    let r = await records()
    // The floor moves first; the records below it are deleted from IndexedDB asynchronously after.
    const until = Date.now() + 30_000
    while ((r.count < 241 || r.n > KEEP || r.floor < 241 - KEEP || r.min < r.floor) && Date.now() < until) { await sleep(200); r = await records() }
    assert.equal(r.count, 241, 'the browser saw the end')
    assert.ok(r.floor >= 241 - KEEP, `the browser dropped below the window (floor ${r.floor})`)
    assert.ok(r.n <= KEEP && r.min >= r.floor, `IndexedDB holds ${r.n} records from ${r.min}: at most the window and its slack (${KEEP}), none below the floor ${r.floor}`)
    // What it still holds is the broadcast's bytes, exactly.
    const d = await p.evaluate(async (from: number) => {
      const parts: Uint8Array[] = []
      const rd = (window as any).wtl.live.stream({ startPiece: from }).getReader()
      for (;;) { const x = await rd.read(); if (x.done) break; parts.push(x.value) }
      const all = new Uint8Array(parts.reduce((n, q) => n + q.length, 0)); let o = 0
      for (const q of parts) { all.set(q, o); o += q.length }
      const h = new Uint8Array(await crypto.subtle.digest('SHA-256', all))
      return Array.from(h, (x) => x.toString(16).padStart(2, '0')).join('')
    }, r.floor)
    assert.equal(d, sha256(data.subarray(r.floor * PL)))
  })

  it('Node viewers and browsers share one swarm: a Node viewer relays to a browser over WebRTC', async () => {
    const a = env.client()
    const bc = await broadcast(a, { name: 'mixed.bin', pieceLength: PL, announce: [env.tracker!.url], path: env.dir() })
    const site = await env.page({ magnetURI: bc.magnetURI, broadcasterPeerId: a.peerId })
    const data = randomBytes(PL * 30 + 1234)
    await airChunks(bc, data.subarray(0, PL * 20))
    // A Node viewer (its own tracker URL: see the hostile-peer test) catches up from the broadcaster.
    const v = env.client()
    const tv = v.add(`magnet:?xt=urn:btih:${bc.infoHash as string}`, { live: true, announce: [`${env.tracker!.url}/?client=2`], path: env.dir() })
    const deadline = Date.now() + 30_000
    while (!tv.live?.has(19)) { if (Date.now() > deadline) throw new Error('Node viewer did not catch up'); await sleep(100) }
    a.throttleUpload(4000)
    const page = await env.open(`${site.url}?play=0`)
    await waitStats(page, (s) => (s.perPeer[v.peerId]?.bytes ?? 0) > 0, 45_000, 'the browser received bytes from the Node viewer')
    a.throttleUpload(-1)
    await airChunks(bc, data.subarray(PL * 20))
    await bc.end()
    const s = await waitStats(page, (x) => x.ended && x.verified === x.count, 45_000, 'the browser has the whole broadcast')
    assert.equal(s.perPeer[v.peerId].type, 'webrtc')
    assert.equal((await page.evaluate(() => (window as any).wtl.digest())).sha256, sha256(data))
    const got = await (async () => { const parts: Buffer[] = []; for await (const c of tv.live.createReadStream()) parts.push(Buffer.from(c)); return Buffer.concat(parts) })()
    assert.ok(got.equals(data), 'and the Node viewer got the broadcast too')
  })

  it('a browser bans a peer that sends a head signed with another key, and the stream goes on', async () => {
    const a = env.client()
    const bc = await broadcast(a, { name: 'target.bin', pieceLength: PL, announce: [env.tracker!.url], path: env.dir() })
    const site = await env.page({ magnetURI: bc.magnetURI, broadcasterPeerId: a.peerId })
    const data = randomBytes(PL * 20 + 5)
    await airChunks(bc, data.subarray(0, PL * 10))
    const evil = env.client()
    // Its own tracker URL (same tracker): bittorrent-tracker shares one WebSocket per URL between the
    // clients of a process, and two clients of one swarm on one socket answer each other's offers.
    const te = evil.add(`magnet:?xt=urn:btih:${bc.infoHash as string}`, { live: true, announce: [`${env.tracker!.url}/?client=2`], path: env.dir() })
    const page = await env.open(`${site.url}?play=0`)
    const browserId: string = await page.evaluate(() => (window as any).wtl.client.peerId)
    const deadline = Date.now() + 40_000
    const toBrowser = (): any[] => te.wires.filter((w: any) => w.peerId === browserId && w.ut_live?.peer.supported)
    let kick = Date.now()
    while (toBrowser().length === 0 || !te.live.has(9)) {
      if (Date.now() > deadline) throw new Error(`the hostile Node peer never met the browser over WebRTC (hostile peer: ${te.live.count} pieces, wires ${JSON.stringify(te.wires.map((w: any) => [w.peerId, w.type, !!w.ut_live?.peer.supported]))}; browser ${browserId})`)
      // A WebRTC handshake through the tracker can get lost on a busy machine: offer again.
      if (Date.now() - kick > 4000) { kick = Date.now(); te.discovery?.tracker?.update?.() }
      await sleep(100)
    }
    await waitStats(page, (s) => s.verified >= 10, 30_000, 'browser synced')
    const real = te.live.head as SignedHead
    const other = await createKeyPair()
    const forged = { ...real, count: real.count + 50, length: (real.count + 50) * PL, signature: new Uint8Array(64) as Uint8Array }
    forged.signature = await (await ed25519()).sign(other.secretKey, signable(Buffer.from(te.infoHash, 'hex'), forged))
    for (const w of toBrowser()) w.extended(EXTENSION_NAME, encode({ type: 'head', head: forged, tail: null }))
    const s = await waitStats(page, (x) => x.banned.length > 0, 20_000, 'the browser banned the forger')
    assert.equal(s.banned[0].code, 'BAD_SIGNATURE')
    assert.equal(s.banned[0].peerId, evil.peerId)
    assert.equal(s.count, 10, 'the forged head changed nothing')
    await airChunks(bc, data.subarray(PL * 10))
    await bc.end()
    await waitStats(page, (x) => x.ended && x.verified === x.count, 30_000, 'the honest stream went on')
    const d = await page.evaluate(() => (window as any).wtl.digest())
    assert.equal(d.sha256, sha256(data))
  })

  it('the demo page plays a fragmented-MP4 broadcast while it airs, from the start and from the live edge', async function () {
    if (!haveFfmpeg()) { console.warn('    (no ffmpeg: skipped)'); this.skip() }
    const a = env.client()
    const bc = await broadcast(a, { name: 'card.mp4', pieceLength: PL, announce: [env.tracker!.url], path: env.dir() })
    const site = await env.page({ magnetURI: bc.magnetURI, broadcasterPeerId: a.peerId, live: bc.live })
    // Up to a minute: the encoder is stopped (SIGINT: ffmpeg finishes the file) once the pages have
    // played, so a slow machine never sees the broadcast end before they start.
    const card = testCard({ seconds: 60 })
    const airing = new Promise<void>((resolve, reject) => card.stream.pipe(bc.createWriteStream()).on('finish', resolve).on('error', reject))
    try {
      const { start, edge: live, s2, l2 } = await playsWhileAiring(env, site.url, bc.live, 'fragmented MP4') // the live edge starts at a moof
      assert.ok(l2.player.currentTime > 2, 'and at a media time far from 0')
      assert.match(s2.player.mime, /^video\/mp4; codecs="avc1\./)
      assert.ok(typeof s2.player.delayMs === 'number' && s2.player.delayMs >= 0, `delay measured (${s2.player.delayMs} ms; bench:latency gives figures)`)
      assert.deepEqual(s2.errors, [])
      assert.equal(s2.player.error, null)
      card.process.kill('SIGINT')
      await airing
      await waitStats(start, (s) => s.ended && s.player.ended, 30_000, 'the page saw the end')
      // After the end the page is an ordinary player of the finished recording, for the live-edge
      // viewer too (it fetches the pieces it skipped, now that every hash is known).
      await waitStats(live, (s) => s.final !== null, 30_000, 'the live-edge viewer has the final torrent')
      await live.evaluate(() => (window as any).wtl.replay())
      const r1 = await waitStats(live, (s) => s.player.startOffset === 0 && s.player.currentTime > 0.5 && !s.player.paused, 40_000, 'replay from the first byte')
      const r2 = await waitStats(live, (s) => s.player.currentTime > r1.player.currentTime + 0.5, 30_000, 'the replay goes on')
      assert.ok(r2.player.currentTime > r1.player.currentTime + 0.5, `replay: currentTime ${r1.player.currentTime} → ${r2.player.currentTime}`)
      assert.equal(r2.verified, r2.count, 'the live-edge viewer now holds the whole recording')
    } finally {
      card.stop()
    }
  })
})
