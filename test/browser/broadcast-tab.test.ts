/**
 * Going live from a browser tab (/broadcast) in headless Chromium with fake media devices: a Node
 * `watch` receives the stream over WebRTC (through the local WebSocket tracker) and ffmpeg decodes
 * it; a second page receives it while it airs; after "Stop", a plugin-less WebTorrent (and
 * libtorrent, where python3-libtorrent is installed) downloads the final torrent from the watcher
 * (not from the tab) and gets the tab's bytes exactly; a reload of the tab
 * continues the same stream from its IndexedDB state.
 */
import assert from 'node:assert/strict'
import { execFile } from 'node:child_process'
import { createHash } from 'node:crypto'
import { existsSync, readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { chromium, type Page } from 'playwright-core'
import WebTorrent from 'webtorrent'
import { CLIENT_OPTS, withTimeout } from '../support/clients.js'
import { createKeyPair, decodeKeyFile, encodeKeyFile } from '../../lib/live/keys.js'
import { toHex } from '../../lib/protocol/bytes.js'
import { startWsTracker } from '../../lib/web/tracker.js'
import { Cli, cleanup, tempDir } from '../support/cli.js'
import { buildBundles, CHROMIUM, CHROMIUM_ARGS, Env, haveChromium, waitStats } from './helpers.js'

/* eslint-disable @typescript-eslint/no-explicit-any */

const FFMPEG = process.env.FFMPEG ?? '/usr/bin/ffmpeg'
const FFPROBE = process.env.FFPROBE ?? '/usr/bin/ffprobe'
const PY = '/usr/bin/python3'
const FAKE_MEDIA = ['--use-fake-device-for-media-stream', '--use-fake-ui-for-media-stream']

function run (cmd: string, args: string[], ms = 60_000): Promise<{ stdout: string, stderr: string }> {
  return new Promise((resolve, reject) => execFile(cmd, args, { timeout: ms, maxBuffer: 16 << 20 }, (err, stdout, stderr) =>
    err ? reject(new Error(`${cmd} ${args.join(' ')} failed: ${err.message}\n${stderr}`)) : resolve({ stdout, stderr })))
}

/**
 * SHA-256 (hex) and length of what the tab has aired, read back from its own store: up to the end,
 * or (while it airs) the first `limit` bytes.
 */
function tabDigest (page: Page, limit = Infinity): Promise<{ bytes: number, sha256: string }> {
  return page.evaluate(async (max: number) => {
    const r = (window as any).wtl.bc.live.stream({ startPiece: 0 }).getReader()
    const parts: Uint8Array[] = []
    let got = 0
    while (got < max) {
      const x = await r.read()
      if (x.done) break
      const v = x.value.subarray(0, Math.min(x.value.length, max - got))
      parts.push(v); got += v.length
    }
    await r.cancel().catch(() => {})
    const n = parts.reduce((a, p) => a + p.length, 0)
    const all = new Uint8Array(n); let o = 0
    for (const p of parts) { all.set(p, o); o += p.length }
    const h = new Uint8Array(await crypto.subtle.digest('SHA-256', all))
    return { bytes: n, sha256: Array.from(h, (x) => x.toString(16).padStart(2, '0')).join('') }
  }, limit === Infinity ? Number.MAX_SAFE_INTEGER : limit)
}

const sha256 = (b: Uint8Array): string => createHash('sha256').update(b).digest('hex')

/** Each test: a WebSocket tracker and a Chromium with fake camera and microphone (skipped without Chromium, or ffmpeg where needed). */
function tabEnv (needsFfmpeg: boolean): () => Env {
  let env: Env | null = null
  before(async function () {
    if (!haveChromium() || (needsFfmpeg && !existsSync(FFMPEG))) this.skip()
    await buildBundles()
  })
  beforeEach(async () => {
    env = new Env()
    env.tracker = await startWsTracker()
    env.browser = await chromium.launch({ executablePath: CHROMIUM, args: [...CHROMIUM_ARGS, ...FAKE_MEDIA] })
  })
  afterEach(async () => { await env?.stop(); await cleanup() })
  return () => env!
}

describe('browsers: go live from a tab (/broadcast)', function () {
  this.timeout(240_000)
  const current = tabEnv(true)
  let env: Env
  beforeEach(() => { env = current() })

  it('Go live: a Node watch gets a WebM ffmpeg decodes, a second page gets bytes while it airs; after Stop a plugin-less WebTorrent (and libtorrent) gets the final torrent from the watcher, byte-identical', async () => {
    const server = await env.page({ magnetURI: '' })
    const tab = await env.open(`${server.url}broadcast?state=t1&timeslice=500`)
    await tab.click('#go-live')
    const live = await waitStats(tab, (s) => s.phase === 'live' && s.pieces >= 2, 40_000, 'the tab on air')
    assert.match(live.magnetURI, /^magnet:\?xt=urn:btih:[0-9a-f]{40}/)
    assert.match(live.mime, /^video\/webm/)
    assert.equal(await tab.textContent('#magnet'), live.magnetURI, 'the magnet link is shown as text')
    assert.equal(await tab.getAttribute('#watch-link', 'href'), `./?magnet=${encodeURIComponent(live.magnetURI as string)}`)

    const dir = tempDir()
    const out = join(dir, 'out.webm')
    const watch = new Cli(['watch', live.magnetURI, '--out', out, '--no-dht', '--json', '--keep-seeding'])
    try {
      const ready = await watch.event('ready', 40_000)
      await watch.event('head', 60_000, (e) => e.pieces > 0 || e.count > 0 || e.length > 0)

      // A second page, on the viewing page for that magnet, plays it while the tab airs.
      const viewer = await env.open(`${server.url}?magnet=${encodeURIComponent(live.magnetURI as string)}&from=start`)
      const vs = await waitStats(viewer, (s) => s.verified >= 2 && s.bytesFromPeers > 0 && s.player?.currentTime > 0.5, 60_000, 'the second page receiving and playing')
      const vs2 = await waitStats(viewer, (s) => s.player.currentTime > vs.player.currentTime + 1, 30_000, 'the second page\'s playback advancing')
      assert.equal(vs2.ended, false, 'played while it airs')
      assert.match(vs2.player.mime, /^video\/webm/)
      assert.equal(vs2.errors.length, 0, vs2.errors.join('; '))

      const airing = await waitStats(tab, (s) => s.peers >= 1 && s.uploaded > 0 && s.pieces >= 8, 60_000, 'the tab uploading')
      assert.ok(airing.ratio > 0, `upload ratio ${String(airing.ratio)}`)
      assert.equal(airing.errors.length, 0, airing.errors.join('; '))

      await tab.click('#stop')
      const ended = await waitStats(tab, (s) => s.phase === 'ended' && s.final !== null, 60_000, 'the final torrent shown')
      assert.match(await tab.textContent('#final') ?? '', /magnet:\?xt=urn:btih:[0-9a-f]{40}/)
      const torrentHref = await tab.getAttribute('#final-torrent', 'href')
      assert.match(torrentHref ?? '', /^blob:/)
      const tabBytes = await tabDigest(tab)
      assert.equal(tabBytes.bytes, ended.aired)
      const torrentFile = Buffer.from(await tab.evaluate(async (href: string) => Array.from(new Uint8Array(await (await fetch(href)).arrayBuffer())), torrentHref!))

      const done = await watch.event('done', 90_000)
      assert.equal(done.bytes, ended.aired)
      const written = readFileSync(out)
      assert.equal(sha256(written), tabBytes.sha256, 'watch --out holds exactly the tab\'s bytes')
      await run(FFMPEG, ['-v', 'error', '-i', out, '-f', 'null', '-'])
      const probe = JSON.parse((await run(FFPROBE, ['-v', 'error', '-show_streams', '-of', 'json', out])).stdout)
      assert.ok(probe.streams.some((s: any) => s.codec_type === 'video'), 'ffprobe sees a video stream')

      // Only the watcher is left to serve: the tab and the second page are closed.
      await tab.context().close()
      await viewer.context().close()
      const file = join(dir, 'final.torrent')
      writeFileSync(file, torrentFile)
      // A WebTorrent without the plugin, over TCP from the watcher alone, by the .torrent the tab offers.
      const plain = new WebTorrent(CLIENT_OPTS)
      try {
        const t = plain.add(torrentFile, { path: join(dir, 'plain') })
        const connect = (): void => { t.addPeer(`127.0.0.1:${String(ready.port)}`) }
        if (t.infoHash) connect(); else t.once('infoHash', connect)
        await withTimeout(new Promise<void>((resolve, reject) => { t.once('done', resolve); t.once('error', reject) }), 60_000, 'plain WebTorrent download')
        assert.equal(t.infoHash, ended.final.infoHash)
        assert.equal(sha256(readFileSync(join(dir, 'plain', 'broadcast.webm'))), tabBytes.sha256, 'plain WebTorrent got exactly the tab\'s bytes')
      } finally {
        await new Promise<void>((resolve) => plain.destroy(() => resolve()))
      }
      // libtorrent-rasterbar as well, where python3-libtorrent is installed.
      const fixture = join(process.cwd(), 'test', 'fixtures', 'libtorrent-fetch.py')
      if (existsSync(PY) && (await run(PY, ['-c', 'import libtorrent']).then(() => true, () => false))) {
        const res = JSON.parse((await run(PY, [fixture, file, join(dir, 'dl'), `127.0.0.1:${String(ready.port)}`, '60'], 90_000)).stdout.trim().split('\n').pop()!)
        assert.equal(res.ok, true)
        assert.equal(res.infoHash, ended.final.infoHash)
        assert.equal(sha256(readFileSync(join(dir, 'dl', 'broadcast.webm'))), tabBytes.sha256, 'libtorrent wrote exactly the tab\'s bytes')
      }
    } finally {
      await watch.kill()
    }
  })

  it('a reload of the broadcasting tab continues the same stream (same infohash) from IndexedDB; a second tab cannot take the same state', async () => {
    const server = await env.page({ magnetURI: '' })
    const tab = await env.open(`${server.url}broadcast?state=r1`)
    await tab.click('#go-live')
    const first = await waitStats(tab, (s) => s.phase === 'live' && s.pieces >= 3, 40_000, 'on air')
    // A second tab of the same browser profile cannot take the same state (it would sign a second head).
    const other = await tab.context().newPage()
    await other.goto(`${server.url}broadcast?state=r1`)
    await other.waitForFunction(() => (window as any).wtl, null, { timeout: 20_000 })
    await other.click('#go-live')
    const refused = await waitStats(other, (s) => s.errors.length > 0, 30_000, 'the second tab refused')
    assert.match(refused.errors[0], /STATE_BUSY/)
    assert.equal(refused.magnetURI, null)
    await other.close()
    await tab.reload()
    await tab.waitForFunction(() => (window as any).wtl || (window as any).wtlError, null, { timeout: 20_000 })
    await tab.click('#go-live')
    const again = await waitStats(tab, (s) => s.phase === 'live' && s.resumedLength > 0 && s.aired > s.resumedLength, 40_000, 'on air again')
    assert.equal(again.infoHash, first.infoHash, 'same infohash')
    assert.ok(again.resumedLength >= first.aired, `resumed at ${String(again.resumedLength)}, had aired ${String(first.aired)}`)
    const d = await tabDigest(tab, again.aired)
    assert.equal(d.bytes, again.aired, 'no gap: every byte up to the head is readable')
  })

  it('a tab that died mid-publish (bytes and hash stored, head not) resumes from its head: the extra piece is dropped and re-aired under one signature history', async () => {
    const server = await env.page({ magnetURI: '' })
    const tab = await env.open(`${server.url}broadcast?state=torn`)
    await tab.click('#go-live')
    await waitStats(tab, (s) => s.phase === 'live' && s.pieces >= 3, 40_000, 'on air')
    // Recording paused and every slice written: then a publish torn after its bytes and hash.
    const torn = await tab.evaluate(async () => {
      const w = (window as any).wtl
      w.recorder.pause()
      await new Promise((resolve) => setTimeout(resolve, 300)) // a slice already cut is delivered
      await w.pending
      const count: number = w.bc.live.count
      const put = (db: string, store: string, value: Uint8Array, key: number): Promise<void> => new Promise((resolve, reject) => {
        const r = indexedDB.open(db)
        r.onsuccess = () => {
          const tx = r.result.transaction(store, 'readwrite')
          tx.objectStore(store).put(value, key)
          tx.oncomplete = () => { r.result.close(); resolve() }
          tx.onerror = () => reject(tx.error)
        }
        r.onerror = () => reject(r.error)
      })
      await put('webtorrent-live-broadcast/torn/data', 'chunks', new Uint8Array(w.bc.pieceLength).fill(7), count)
      await put('webtorrent-live-broadcast/torn', 'hashes', new Uint8Array(20).fill(9), count)
      // …and, far ahead, what a longer torn write would have left (nothing will overwrite it soon).
      await put('webtorrent-live-broadcast/torn/data', 'chunks', new Uint8Array(w.bc.pieceLength).fill(7), count + 500)
      await put('webtorrent-live-broadcast/torn', 'hashes', new Uint8Array(20).fill(9), count + 500)
      return { count, aired: w.bc.length as number, infoHash: w.bc.infoHash as string }
    })
    await tab.reload()
    await tab.waitForFunction(() => (window as any).wtl || (window as any).wtlError, null, { timeout: 20_000 })
    await tab.click('#go-live')
    const again = await waitStats(tab, (s) => s.phase === 'live' && s.pieces >= torn.count + 3, 60_000, 'on air again, past the torn piece')
    assert.equal(again.infoHash, torn.infoHash)
    assert.equal(again.resumedLength, torn.aired, 'resumed at the persisted head')
    const left = await tab.evaluate(async (k: number) => {
      const has = (db: string, store: string): Promise<boolean> => new Promise((resolve, reject) => {
        const r = indexedDB.open(db)
        r.onsuccess = () => { const g = r.result.transaction(store).objectStore(store).count(k); g.onsuccess = () => { r.result.close(); resolve(g.result > 0) }; g.onerror = () => reject(g.error) }
        r.onerror = () => reject(r.error)
      })
      return { data: await has('webtorrent-live-broadcast/torn/data', 'chunks'), hash: await has('webtorrent-live-broadcast/torn', 'hashes') }
    }, torn.count + 500)
    assert.deepEqual(left, { data: false, hash: false }, 'bytes and hashes beyond the head were dropped on resume')
    // A Node peer follows from the start: piece `count` is the new one, under the same key, no ban.
    const node = env.client()
    const t = node.add(again.magnetURI, { live: true, from: 'start', path: env.dir(), announce: [env.tracker!.url] })
    await withTimeout(new Promise<void>((resolve) => {
      const check = (): void => { if (t.live?.count > torn.count + 1 && t.live.has(torn.count) && t.live.has(torn.count + 1)) resolve(); else setTimeout(check, 200) }
      check()
    }), 60_000, 'the Node peer past the torn piece')
    assert.equal(t.live.stats.bannedPeers, 0)
    const piece = await new Promise<Buffer>((resolve, reject) => t.store.get(torn.count, (err: Error | null, b: Buffer) => err ? reject(err) : resolve(b)))
    assert.notDeepEqual([...piece.subarray(0, 16)], new Array(16).fill(7), 'the torn piece\'s bytes were not aired')
  })

  it('a reload on a state whose stored piece was damaged in IndexedDB never serves it: the tab warns DAMAGED_PIECE, REJECTs it, and a Node viewer neither receives a corrupt piece nor bans the tab', async () => {
    const server = await env.page({ magnetURI: '' })
    const tab = await env.open(`${server.url}broadcast?state=dmg`)
    await tab.click('#go-live')
    await waitStats(tab, (s) => s.phase === 'live' && s.pieces >= 4, 40_000, 'on air')
    // Piece 1's record (a whole piece, checked by no one since it was written) is damaged on disk.
    const damaged = await tab.evaluate(async () => {
      const r = indexedDB.open('webtorrent-live-broadcast/dmg/data')
      const db: IDBDatabase = await new Promise((resolve, reject) => { r.onsuccess = () => resolve(r.result); r.onerror = () => reject(r.error) })
      const tx = db.transaction('chunks', 'readwrite')
      const s = tx.objectStore('chunks')
      const g = s.get(1)
      await new Promise((resolve) => { g.onsuccess = resolve })
      const v = (g.result as Uint8Array).slice()
      v.fill(0xee, 500, 600)
      s.put(v, 1)
      await new Promise((resolve, reject) => { tx.oncomplete = resolve; tx.onerror = () => reject(tx.error) })
      db.close()
      return v.length
    })
    assert.ok(damaged > 600)
    await tab.reload()
    await tab.waitForFunction(() => (window as any).wtl || (window as any).wtlError, null, { timeout: 20_000 })
    await tab.click('#go-live')
    const again = await waitStats(tab, (s) => s.phase === 'live' && s.resumedLength > 0 && s.pieces >= 6, 40_000, 'on air again')
    // A Node viewer from the start: only the tab holds piece 1, and the tab refuses it.
    const node = env.client()
    const t = node.add(again.magnetURI, { live: true, from: 'start', path: env.dir(), announce: [env.tracker!.url] })
    const warned = await waitStats(tab, (s) => s.warnings.length > 0, 60_000, 'the DAMAGED_PIECE warning')
    assert.match(warned.warnings[0], /DAMAGED_PIECE.*piece 1 /)
    await withTimeout(new Promise<void>((resolve) => {
      const check = (): void => { if (t.live?.count >= 6 && t.live.has(0) && t.live.has(2) && t.live.has(5)) resolve(); else setTimeout(check, 200) }
      check()
    }), 60_000, 'the Node viewer gets the pieces around it')
    assert.equal(t.live.has(1), false, 'piece 1 came from nowhere (the tab refused it)')
    assert.equal(t.live.stats.corruptPieces, 0, 'no corrupt piece reached the viewer')
    assert.equal(t.live.stats.bannedPeers, 0, 'the viewer did not ban the tab')
    assert.equal(await tab.evaluate(() => (window as any).wtl.bc.live.stats.damagedPieces), 1)
  })

  it('keys: a CLI key file imported into the page airs under that key and is exported in the same format; elliptic signs where WebCrypto lacks Ed25519, and a Node peer verifies', async () => {
    const server = await env.page({ magnetURI: '' })
    // Signing in the browser: WebCrypto Ed25519 and the elliptic fallback give RFC 8032 TEST 1's signature.
    const probe = await env.open(`${server.url}broadcast?state=probe`)
    const sigs = await probe.evaluate(async () => {
      const hex = (b: Uint8Array): string => Array.from(b, (x) => x.toString(16).padStart(2, '0')).join('')
      const seed = Uint8Array.from('9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60'.match(/../g)!.map((h) => parseInt(h, 16)))
      const { ed25519, ellipticEd25519 } = (window as any).wtl.signers
      const native = await ed25519()
      return { name: native.name, native: hex(await native.sign(seed, new Uint8Array(0))), elliptic: hex(await ellipticEd25519.sign(seed, new Uint8Array(0))) }
    })
    const TEST1 = 'e5564300c360ac729086e2cc806e828a84877f1eb8e5d974d873e06522490155' + '5fb8821590a33bacc61e39701cf9b46bd25bf5f0595bbe24655141438e7a100b'
    assert.equal(sigs.name, 'webcrypto')
    assert.equal(sigs.native, TEST1)
    assert.equal(sigs.elliptic, TEST1)

    const kp = await createKeyPair()
    const dir = tempDir()
    const keyFile = join(dir, 'key.json')
    writeFileSync(keyFile, encodeKeyFile(kp))
    const tab = await env.open(`${server.url}broadcast?state=k1`, { withoutEd25519: true })
    await tab.setInputFiles('#import-key', keyFile)
    await tab.click('#go-live')
    const s = await waitStats(tab, (x) => x.phase === 'live' && x.pieces >= 3, 40_000, 'on air with the imported key')
    assert.equal(s.signer, 'elliptic (pure JS)')
    assert.equal(await tab.evaluate(() => { const k = (window as any).wtl.bc.keyPair.publicKey as Uint8Array; return Array.from(k, (x) => x.toString(16).padStart(2, '0')).join('') }), toHex(kp.publicKey))
    const href = await tab.getAttribute('#export-key', 'href')
    const exported = await tab.evaluate(async (h: string) => await (await fetch(h)).text(), href!)
    assert.equal(toHex((await decodeKeyFile(exported)).secretKey), toHex(kp.secretKey), 'the exported key file is the CLI\'s format')

    // A Node peer (node:crypto verifies) follows the heads the tab signed with elliptic.
    const node = env.client()
    const t = node.add(s.magnetURI, { live: true, from: 'start', path: env.dir(), announce: [env.tracker!.url] })
    await withTimeout(new Promise<void>((resolve) => {
      const check = (): void => { if (t.live?.count >= 3 && t.live.has(2)) resolve(); else setTimeout(check, 200) }
      check()
    }), 60_000, 'the Node peer verifying the tab\'s heads')
    assert.ok(t.live.signatureChecks >= 1)
    assert.equal(t.live.stats.bannedPeers, 0)
  })
})

describe('browsers: go live from a tab in fragmented MP4 (?format=mp4)', function () {
  this.timeout(180_000)
  const current = tabEnv(false)
  let env: Env
  beforeEach(() => { env = current() })

  it('where MediaRecorder records fragmented MP4, a viewing page receives it while it airs (and plays it where the page names the audio codec)', async function () {
    const server = await env.page({ magnetURI: '' })
    const tab = await env.open(`${server.url}broadcast?state=m1&format=mp4`)
    if (!await tab.evaluate(() => MediaRecorder.isTypeSupported('video/mp4'))) this.skip()
    await tab.click('#go-live')
    const live = await waitStats(tab, (s) => s.phase === 'live' && s.pieces >= 2, 40_000, 'the tab on air')
    assert.match(live.mime, /^video\/mp4/)
    const head = await tabDigest(tab, 64)
    assert.equal(head.bytes, 64)
    const viewer = await env.open(`${server.url}?magnet=${encodeURIComponent(live.magnetURI as string)}&from=start`)
    const s1 = await waitStats(viewer, (s) => s.verified >= 2 && /^video\/mp4/.test(s.player?.mime ?? ''), 60_000, 'the viewing page receiving, its init segment read')
    assert.equal(s1.ended, false, 'received while it airs')
    // The tab records audio too (Opus or AAC): the viewing page plays it once it names that codec
    // in its MSE type (codec strings from the init segment: another branch's work).
    if (!/opus|mp4a/i.test(s1.player.mime as string)) return
    const s2 = await waitStats(viewer, (s) => s.player?.currentTime > 0.5, 60_000, 'the viewing page playing')
    await waitStats(viewer, (s) => s.player.currentTime > s2.player.currentTime + 1, 30_000, 'playback advancing')
  })
})
