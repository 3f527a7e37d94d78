/**
 * The broadcast page's app (bundled by scripts/build-browser.mjs into dist/browser/broadcast.js,
 * served at /broadcast): "Go live" captures a camera and microphone or a screen, records it with
 * MediaRecorder (WebM, or fragmented MP4 where the browser records it and `format=mp4` asks for it)
 * in short slices, and airs the bytes with `broadcast()` from the webtorrent-live bundle, over
 * WebRTC through the page's WebSocket tracker. The broadcaster's state is in IndexedDB: after a
 * reload, "Go live" continues the same stream (same magnet link). "Stop" ends it and shows the
 * final, ordinary torrent.
 *
 * URL parameters: state=NAME (default 'tab'), format=webm|mp4, timeslice=MS (default 500),
 * source=camera|screen, name=FILE. Everything it shows is also on `window.wtl` (read by tests).
 */
import WebTorrent from 'webtorrent'
import { broadcast, BroadcastStateIdb, decodeKeyFile, ed25519, ellipticEd25519, encodeKeyFile, type Broadcaster, type FinalTorrent, type KeyPair } from '../browser.js' // the build points this at dist/browser/webtorrent-live.js

/** The WebTorrent client of this tab, as the page uses it (broadcast() takes the rest). */
type PageClient = { on (ev: 'error', fn: (err: Error) => void): unknown }

declare global {
  /** What the page shows the tests (test/browser/): its objects, and the error that stopped it. */
  interface Window { wtl?: unknown, wtlError?: string }
}

interface PageConfig { trackerUrl: string, title?: string }

const q = new URLSearchParams(location.search)
const $ = (id: string): HTMLElement => document.getElementById(id)!
const stateName = q.get('state') || 'tab'
const timeslice = Math.max(100, Number(q.get('timeslice') ?? 500) || 500)

function fmtBytes (n: number): string {
  if (n < 1024) return `${n} B`
  if (n < 1024 * 1024) return `${(n / 1024).toFixed(1)} KiB`
  return `${(n / 1024 / 1024).toFixed(2)} MiB`
}

/** The recording format: WebM, or fragmented MP4 where asked for and supported (or where WebM is not). */
function chooseMime (): string {
  const webm = ['video/webm;codecs=vp8,opus', 'video/webm;codecs=vp9,opus', 'video/webm']
  const mp4 = ['video/mp4;codecs=avc1.42E01E,mp4a.40.2', 'video/mp4;codecs=avc1,opus', 'video/mp4']
  const order = q.get('format') === 'mp4' ? [...mp4, ...webm] : [...webm, ...mp4]
  const m = order.find((t) => MediaRecorder.isTypeSupported(t))
  if (!m) throw new Error('this browser records neither WebM nor MP4 with MediaRecorder')
  return m
}

async function main (): Promise<void> {
  const config = await (await fetch('config.json', { cache: 'no-store' })).json() as PageConfig
  const signer = (await ed25519()).name === 'elliptic' ? 'elliptic (pure JS)' : 'WebCrypto Ed25519'
  const errors: string[] = []
  let client: PageClient | null = null
  let bc: Broadcaster | null = null
  let recorder: MediaRecorder | null = null
  let media: MediaStream | null = null
  let mime = ''
  let pending: Promise<void> = Promise.resolve()
  let chunks = 0
  let importedKey: KeyPair | null = null
  let final: FinalTorrent | null = null
  let phase: 'ready' | 'starting' | 'live' | 'stopping' | 'ended' | 'failed' = 'ready'
  const fail = (e: unknown): void => { errors.push(String((e as Error)?.message ?? e)); render() }
  const warnings: string[] = [] // the newest 20 (DAMAGED_PIECE: a stored piece failed its hash on first read)
  const warn = (e: Error): void => { warnings.push(e.message); warnings.splice(0, warnings.length - 20); render() }

  function stats () {
    const t = bc?.torrent
    const ft = bc?.live.finalTorrent
    const uploaded = (t?.uploaded ?? 0) + (ft?.uploaded ?? 0)
    const aired = bc?.length ?? 0
    return {
      phase,
      state: stateName,
      signer,
      mime,
      chunks,
      magnetURI: bc?.magnetURI ?? null,
      infoHash: bc?.infoHash ?? null,
      resumedLength: bc?.resumedLength ?? 0,
      aired,
      pieces: bc?.live.count ?? 0,
      peers: (t?.wires.length ?? 0) + (ft?.wires?.length ?? 0),
      uploaded,
      ratio: aired > 0 ? uploaded / aired : null,
      ended: bc?.ended ?? false,
      final: final ? { infoHash: final.infoHash, magnetURI: final.magnetURI } : null,
      warnings: [...warnings],
      errors: [...errors]
    }
  }

  function render (): void {
    const s = stats()
    $('state').textContent = { ready: 'ready', starting: 'starting…', live: 'on air', stopping: 'ending…', ended: 'ended', failed: 'stopped: storing the stream failed (reload to resume)' }[phase] +
      (s.resumedLength > 0 ? ` (resumed after ${fmtBytes(s.resumedLength)})` : '')
    $('magnet').textContent = s.magnetURI ?? '–'
    const link = $('watch-link') as HTMLAnchorElement
    if (s.magnetURI) { link.href = `./?magnet=${encodeURIComponent(s.magnetURI)}`; link.textContent = 'watch this stream' }
    $('format').textContent = mime ? `${mime}, ${timeslice} ms slices` : '–'
    $('aired').textContent = `${fmtBytes(s.aired)} in ${s.pieces} pieces`
    $('peers').textContent = String(s.peers)
    $('uploaded').textContent = fmtBytes(s.uploaded)
    $('ratio').textContent = s.ratio === null ? '–' : s.ratio.toFixed(2)
    $('signer').textContent = signer
    $('warnings').textContent = warnings.join('; ') || 'none'
    $('errors').textContent = errors.join('; ') || 'none'
    ;($('go-live') as HTMLButtonElement).disabled = phase !== 'ready'
    ;($('stop') as HTMLButtonElement).disabled = phase !== 'live'
    ;($('forget') as HTMLButtonElement).disabled = bc !== null
    if (bc) {
      const a = $('export-key') as HTMLAnchorElement
      if (a.hidden) { a.href = URL.createObjectURL(new Blob([encodeKeyFile(bc.keyPair)], { type: 'application/json' })); a.hidden = false }
    }
  }

  function showFinal (f: FinalTorrent): void {
    final = f
    const dd = $('final')
    dd.textContent = ''
    dd.append(f.magnetURI, ' ')
    const a = document.createElement('a')
    a.id = 'final-torrent'
    a.download = `${bc!.name}.torrent`
    a.href = URL.createObjectURL(new Blob([f.torrentFile.slice()], { type: 'application/x-bittorrent' }))
    a.textContent = 'download the .torrent'
    dd.append(a)
    render()
  }

  async function capture (): Promise<MediaStream> {
    const source = q.get('source') ?? (document.querySelector('input[name=source]:checked') as HTMLInputElement | null)?.value
    const md = navigator.mediaDevices
    if (source === 'screen') return await md.getDisplayMedia({ video: true, audio: true })
    return await md.getUserMedia({ video: true, audio: true })
  }

  async function goLive (): Promise<void> {
    if (phase !== 'ready') return
    phase = 'starting'; render()
    try {
      mime = chooseMime()
      const ext = mime.startsWith('video/mp4') ? 'mp4' : 'webm'
      media = await capture()
      ;($('preview') as HTMLVideoElement).srcObject = media
      if (!client) {
        const c: PageClient = new WebTorrent({ tracker: { rtcConfig: { iceServers: [] } } })
        c.on('error', fail)
        client = c
      }
      // A stream this state already holds is continued (its own name, key and infohash).
      bc = await broadcast(client, { name: q.get('name') ?? `broadcast.${ext}`, state: stateName, announce: [config.trackerUrl], ...(importedKey ? { keyPair: importedKey } : {}) })
      bc.torrent.on('error', fail)
      bc.live.on('error', fail)
      bc.live.on('warning', warn)
      if (bc.ended) {
        phase = 'ended'
        media.getTracks().forEach((t) => t.stop())
        showFinal(await bc.end())
        return
      }
      recorder = new MediaRecorder(media, { mimeType: mime })
      recorder.ondataavailable = (e: BlobEvent) => {
        if (e.data.size === 0) return
        const blob = e.data
        // In order: each slice's bytes are written after the previous slice's.
        pending = pending.then(async () => { await bc!.write(new Uint8Array(await blob.arrayBuffer())); chunks++ }).catch(writeFailed)
      }
      recorder.start(timeslice)
      phase = 'live'
    } catch (e) {
      if (!bc) { phase = 'ready'; media?.getTracks().forEach((t) => t.stop()); media = null }
      fail(e)
    }
    render()
  }

  /** A slice the broadcaster could not store: it publishes nothing more (BROADCAST_FAILED), so recording stops. */
  function writeFailed (e: unknown): void {
    if (phase === 'failed') return
    fail(e)
    phase = 'failed'
    if (recorder && recorder.state !== 'inactive') recorder.stop()
    media?.getTracks().forEach((t) => t.stop())
    render()
  }

  async function stop (): Promise<FinalTorrent | null> {
    if (phase !== 'live' || !bc || !recorder) return null
    phase = 'stopping'; render()
    const r = recorder
    await new Promise<void>((resolve) => { r.addEventListener('stop', () => resolve(), { once: true }); r.stop() })
    media?.getTracks().forEach((t) => t.stop())
    await pending
    const f = await bc.end()
    phase = 'ended'
    showFinal(f)
    return f
  }

  async function importKey (file: File): Promise<void> {
    importedKey = await decodeKeyFile(await file.text())
    render()
  }

  async function forget (): Promise<void> {
    if (bc) throw new Error('reload the page first: this tab holds the stream')
    await BroadcastStateIdb.remove(stateName)
    render()
  }

  $('go-live').addEventListener('click', () => { goLive().catch(fail) })
  $('stop').addEventListener('click', () => { stop().catch(fail) })
  $('import-key').addEventListener('change', (e) => { const f = (e.target as HTMLInputElement).files?.[0]; if (f) importKey(f).catch(fail) })
  $('forget').addEventListener('click', () => { forget().catch(fail) })
  setInterval(render, 500)
  render()
  ;window.wtl = { stats, goLive, stop, forget, signers: { ed25519, ellipticEd25519 }, get bc () { return bc }, get recorder () { return recorder }, get pending () { return pending }, get client () { return client } }
}

main().catch((err) => {
  console.error(err)
  const e = document.getElementById('errors')
  if (e) e.textContent = String((err as Error).message ?? err)
  ;window.wtlError = String((err as Error).message ?? err)
})
