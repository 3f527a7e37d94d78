/**
 * The web page next to a Node broadcaster (what `webtorrent-live broadcast --web PORT` and the demo
 * use), in two steps because the tracker must be in the magnet link before the broadcast exists:
 *
 *   const web = await prepareWeb(client, { port: 8080, announce })   // before broadcast()
 *   const bc = await broadcast(client, { …, announce: web.announce })
 *   const page = await web.serve(bc)                                  // → page.url
 *
 * prepareWeb makes the client reachable by browsers (WebRTC through a WebSocket tracker, no STUN,
 * on loopback unless told otherwise) and starts a WebSocket tracker on 127.0.0.1 unless `announce`
 * already names a ws:// or wss:// one.
 */
import { startWsTracker, type WsTracker } from './tracker.js'
import { serveWebPage, type WebPage, type WebPageOptions } from './server.js'

/** The part of a WebTorrent client's options that reaches its trackers (bittorrent-tracker's rtcConfig). */
interface TrackerOptionsHolder {
  peerId?: string
  tracker?: boolean | { rtcConfig?: { iceServers?: unknown[], [key: string]: unknown }, [key: string]: unknown }
}

export interface PrepareWebOptions {
  /** Port of the page (0: any free port). */
  port: number
  /** If `port` is taken, use any free port instead of failing. */
  anyPortIfBusy?: boolean
  /** The broadcast's tracker URLs so far. */
  announce?: string[]
  /** Address of the page and of the embedded tracker (default 127.0.0.1). */
  host?: string
  /** Local address for the client's WebRTC (default: 127.0.0.1 when host is loopback). */
  bindAddress?: string | null
  title?: string
}

export interface WebSetup {
  /** `announce` plus the WebSocket tracker: pass it to broadcast(). */
  announce: string[]
  /** The WebSocket tracker browsers use. */
  trackerUrl: string
  /** The embedded tracker, if one was started. */
  tracker: WsTracker | null
  /** Serves the page for this broadcast (anything with magnetURI and live: a Broadcaster, or a torrent). */
  serve (source: { magnetURI: string, live: NonNullable<WebPageOptions['live']> | null }): Promise<WebPage>
  close (): Promise<void>
}

/** Makes a WebTorrent client's tracker connections offer WebRTC that works without STUN (loopback, LAN). */
export function allowBrowserPeers (client: object, bindAddress?: string | null): void {
  const c = client as TrackerOptionsHolder
  if (!c.tracker) throw new Error('this WebTorrent client has trackers off (tracker: false): browsers cannot find it')
  const tracker = typeof c.tracker === 'object' ? c.tracker : (c.tracker = {})
  const rtcConfig: Record<string, unknown> = { maxMessageSize: 262144, ...(tracker.rtcConfig ?? {}), iceServers: tracker.rtcConfig?.iceServers ?? [] }
  if (bindAddress) rtcConfig.bindAddress = bindAddress
  tracker.rtcConfig = rtcConfig
}

/**
 * The same WebSocket tracker under a URL of this client's own. bittorrent-tracker shares one
 * WebSocket per announce URL among the clients of a process, and the tracker sends an offer meant for
 * one of them down that socket, where every client of the swarm answers it: a browser then meets
 * only one of them (the first answer wins). A distinct URL (`?peer=TAG`, ignored by the tracker)
 * gives the client its own socket.
 */
export function ownTrackerUrl (url: string, tag: string): string {
  if (!/^wss?:\/\//.test(url)) return url
  const u = new URL(url)
  u.searchParams.set('peer', tag)
  return u.href
}

/**
 * A magnet link for a second client of this process: its WebSocket trackers under URLs of its
 * own (see ownTrackerUrl), the rest as it is.
 */
export function withOwnTrackerUrls (magnetURI: string, tag: string): string {
  const [head, query = ''] = magnetURI.split('?', 2) as [string, string?]
  const params = query.split('&').map((kv) => {
    if (!kv.startsWith('tr=')) return kv
    const url = decodeURIComponent(kv.slice(3))
    return /^wss?:\/\//.test(url) ? `tr=${encodeURIComponent(ownTrackerUrl(url, tag))}` : kv
  })
  return `${head}?${params.join('&')}`
}

export async function prepareWeb (client: object, opts: PrepareWebOptions): Promise<WebSetup> {
  const host = opts.host ?? '127.0.0.1'
  const loopback = host === '127.0.0.1' || host === 'localhost' || host === '::1'
  allowBrowserPeers(client, opts.bindAddress === undefined ? (loopback ? '127.0.0.1' : null) : opts.bindAddress)
  const announce = [...(opts.announce ?? [])]
  let trackerUrl = announce.find((u) => /^wss?:\/\//.test(u)) ?? null
  let tracker: WsTracker | null = null
  if (!trackerUrl) {
    tracker = await startWsTracker({ host })
    trackerUrl = tracker.url
    announce.push(trackerUrl)
  }
  const pages: WebPage[] = []
  return {
    announce,
    trackerUrl,
    tracker,
    async serve (source) {
      const pageOpts = {
        port: opts.port,
        host,
        magnetURI: () => source.magnetURI,
        trackerUrl: trackerUrl!,
        broadcasterPeerId: (client as TrackerOptionsHolder).peerId ?? null,
        live: source.live,
        ...(opts.title ? { title: opts.title } : {})
      }
      let page: WebPage
      try {
        page = await serveWebPage(pageOpts)
      } catch (err) {
        if (!opts.anyPortIfBusy || (err as { code?: string }).code !== 'EADDRINUSE') throw err
        page = await serveWebPage({ ...pageOpts, port: 0 })
      }
      pages.push(page)
      return page
    },
    async close () {
      await Promise.all(pages.splice(0).map((p) => p.close()))
      await tracker?.close()
    }
  }
}
