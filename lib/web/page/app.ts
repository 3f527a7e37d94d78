/**
 * The demo page's app (bundled by scripts/build-browser.mjs into dist/browser/page.js): an ordinary
 * WebTorrent web app that imports the webtorrent-live bundle, joins the stream over WebRTC through
 * the WebSocket tracker, and plays it with Media Source Extensions while it airs.
 *
 * URL parameters: magnet=MAGNET (another stream than the server's, e.g. one a tab airs), from=start|live, store=memory|idb, play=0 (join without a player), edge=N.
 * Everything it shows is also on `window.wtl` (read by the browser tests).
 */
import WebTorrent from 'webtorrent'
import { enableLive, IdbStore, MemoryStore, MediaFeeder, nativeEd25519 } from '../browser.js' // the build points this at dist/browser/webtorrent-live.js, as an app's import would

declare global {
  /** What the page shows the tests (test/browser/): its objects, and the error that stopped it. */
  interface Window { wtl?: unknown, wtlError?: string }
}

interface PageConfig {
  magnetURI: string
  trackerUrl: string
  /** The broadcaster's peer id (hex), to tell its bytes from other peers' bytes. */
  broadcasterPeerId?: string | null
  hasInit?: boolean
  title?: string
}

const q = new URLSearchParams(location.search)
const $ = (id: string): HTMLElement => document.getElementById(id)!

function fmtBytes (n: number): string {
  if (n < 1024) return `${n} B`
  if (n < 1024 * 1024) return `${(n / 1024).toFixed(1)} KiB`
  return `${(n / 1024 / 1024).toFixed(2)} MiB`
}

async function main (): Promise<void> {
  const config = await (await fetch('config.json', { cache: 'no-store' })).json() as PageConfig
  const from = q.get('from') === 'live' ? 'live' : 'start'
  const useIdb = q.get('store') === 'idb' && IdbStore.supported
  const play = q.get('play') !== '0'
  const edge = Number(q.get('edge') ?? 2) || 2
  const verifier = (await nativeEd25519()) ? 'WebCrypto Ed25519' : 'elliptic (pure JS)'
  if (config.title) document.title = config.title

  let init: Uint8Array | null = null
  if (from === 'live' && config.hasInit && !q.get('magnet')) {
    const r = await fetch('init', { cache: 'no-store' })
    if (r.ok) init = new Uint8Array(await r.arrayBuffer())
  }

  const client = enableLive(new WebTorrent({ tracker: { rtcConfig: { iceServers: [] } } }), { store: useIdb ? IdbStore : MemoryStore })
  // A live-edge join needs the stream's first piece for the container header unless the server gave it.
  const joinFrom = from === 'live' && init ? 'live' : 'start'
  const torrent = client.add(q.get('magnet') ?? config.magnetURI, { live: true, from: joinFrom, liveEdgePieces: edge, announce: [config.trackerUrl] })
  const live = torrent.live

  // A WebRTC handshake through the tracker can fail (a lost answer, a busy peer), and WebTorrent
  // then waits for the tracker's next interval (minutes). While alone, announce again every 4 s.
  const kick = setInterval(() => {
    if (torrent.destroyed) { clearInterval(kick); return }
    if (torrent.wires.length === 0) torrent.discovery?.tracker?.update?.()
  }, 4000)

  const perPeer = new Map<string, { bytes: number, type: string }>()
  const banned: Array<{ code: string, reason: string, peerId: string }> = []
  const errors: string[] = []
  type CountedWire = { peerId?: string, type?: string, on (ev: 'download', fn: (n: number) => void): unknown }
  const count = (wire: CountedWire, n: number): void => {
    const id = wire.peerId ? String(wire.peerId) : '?'
    const e = perPeer.get(id) ?? { bytes: 0, type: String(wire.type ?? '') }
    e.bytes += n
    perPeer.set(id, e)
  }
  torrent.on('wire', (wire: CountedWire) => { wire.on('download', (n: number) => count(wire, n)) })
  live.on('push-block', (_i: number, n: number, wire: CountedWire) => count(wire, n)) // pieces pushed unasked (PUSH)
  live.on('peer-banned', (b: { code: string, reason: string, peerId: string }) => { banned.push(b); render() })
  live.on('error', (e: Error) => { errors.push(e.message); render() })
  torrent.on('error', (e: Error) => { errors.push(e.message); render() })
  client.on('error', (e: Error) => { errors.push(e.message); render() })

  const video = $('video') as HTMLVideoElement
  let feeder: MediaFeeder | null = null

  function bytesFrom (): { broadcaster: number, peers: number } {
    let b = 0; let p = 0
    for (const [id, e] of perPeer) if (config.broadcasterPeerId && id === config.broadcasterPeerId) b += e.bytes; else p += e.bytes
    return { broadcaster: b, peers: p }
  }

  /** Pieces verified and stored here. */
  function verified (): number {
    let n = 0
    for (let i = 0; i < live.count; i++) if (live.has(i)) n++
    return n
  }

  function stats () {
    const bf = bytesFrom()
    return {
      from,
      joinFrom,
      store: useIdb ? 'indexeddb' : 'memory',
      verifier,
      peers: torrent.wires.length,
      livePeers: live.peerCount,
      peerId: client.peerId,
      count: live.count,
      verified: verified(),
      length: live.length,
      ended: live.ended,
      startPiece: live.startPiece,
      signatureChecks: live.signatureChecks,
      broadcasterPeerId: config.broadcasterPeerId ?? null,
      bytesFromBroadcaster: bf.broadcaster,
      bytesFromPeers: bf.peers,
      perPeer: Object.fromEntries(perPeer),
      banned: banned.map((b) => ({ code: b.code, reason: b.reason, peerId: b.peerId })),
      bannedCount: live.stats.bannedPeers,
      final: live.final ? { infoHash: live.final.infoHash, magnetURI: live.final.magnetURI, peers: live.finalTorrent?.wires?.length ?? 0, ready: !!live.finalTorrent?.ready } : null,
      errors: [...errors],
      player: feeder ? { ...feeder.stats, currentTime: video.currentTime, paused: video.paused } : null
    }
  }

  function render (): void {
    const s = stats()
    $('state').textContent = s.ended ? 'ended — playing the finished recording' : live.count ? 'on air' : 'joining…'
    $('peers').textContent = String(s.peers)
    $('pieces').textContent = `${s.count} (${fmtBytes(s.length)})`
    $('delay').textContent = s.ended ? '– (the broadcast has ended)' : feeder?.stats.delayMs != null ? `${(feeder.stats.delayMs / 1000).toFixed(1)} s` : '–'
    $('from-broadcaster').textContent = fmtBytes(s.bytesFromBroadcaster)
    $('from-peers').textContent = fmtBytes(s.bytesFromPeers)
    $('verifier').textContent = `${verifier}, ${s.signatureChecks} checks`
    $('store').textContent = s.store
    $('final').textContent = s.final ? s.final.magnetURI : s.ended ? 'building…' : '–'
    $('banned').textContent = banned.length ? banned.map((b) => `${b.code}: ${b.reason}`).join('; ') : 'none'
    $('errors').textContent = [...errors, feeder?.stats.error].filter(Boolean).join('; ') || 'none'
  }
  setInterval(render, 500)
  live.on('head', render)

  /** SHA-256 (hex) of the stream's bytes from piece 0 (tests compare with the broadcast). */
  async function digest (): Promise<{ bytes: number, sha256: string }> {
    const parts: Uint8Array[] = []
    const r = live.stream({ startPiece: 0 }).getReader()
    for (;;) { const x = await r.read(); if (x.done) break; parts.push(x.value) }
    const n = parts.reduce((a, p) => a + p.length, 0)
    const all = new Uint8Array(n); let o = 0
    for (const p of parts) { all.set(p, o); o += p.length }
    const h = new Uint8Array(await crypto.subtle.digest('SHA-256', all))
    return { bytes: n, sha256: Array.from(h, (x) => x.toString(16).padStart(2, '0')).join('') }
  }

  async function startPlayer (mode: 'start' | 'live'): Promise<void> {
    feeder?.stop()
    await new Promise<void>((resolve) => { if (live.ready) resolve(); else live.once('ready', () => resolve()) })
    feeder = new MediaFeeder(video, live, { from: mode, init, edgePieces: edge, pieceLength: torrent.pieceLength })
    feeder.run().catch((e) => { errors.push(`player: ${(e as Error).message}`); render() })
  }

  ;window.wtl = { client, torrent, live, stats, digest, startPlayer, replay, get feeder () { return feeder } }

  /**
   * Plays the whole recording from its first byte. After the end that works for every viewer: a
   * live-edge viewer fetches the pieces it skipped.
   */
  async function replay (): Promise<void> {
    if (live.ended && verified() < live.count) {
      // Every piece hash is known once the final torrent is: fetch the skipped pieces from the
      // peers this viewer already has (they hold the whole recording, as live or final torrent).
      await live.whenFinal()
      torrent.select(0, live.count - 1)
    }
    await startPlayer('start')
  }
  live.on('final', render)

  $('replay').addEventListener('click', () => { replay().catch((e) => { errors.push(`replay: ${(e as Error).message}`) }) })
  if (play) await startPlayer(from)
  render()
}

main().catch((err) => {
  console.error(err)
  const e = document.getElementById('errors')
  if (e) e.textContent = String((err as Error).message ?? err)
  ;window.wtlError = String((err as Error).message ?? err)
})
