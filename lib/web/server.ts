/**
 * The demo web page's server (Node): a small HTTP server on loopback that serves a page which joins
 * a live stream over WebRTC (through a WebSocket tracker) and plays it in a <video> with Media
 * Source Extensions while it airs.
 *
 *   const page = await serveWebPage({ port: 8080, magnetURI, trackerUrl, live: bc.live })
 *   console.log(page.url)   // open it in a browser; ?from=live starts at the live edge
 *
 * Routes: /  (the page; ?magnet=… watches another stream), /broadcast (go live from this tab:
 * broadcast-page/), /page.js and /broadcast.js (+ .map), /webtorrent-live.js (the library bundle),
 * /config.json, /init (the stream's initialisation segment, fragmented MP4 or WebM, when `live` is
 * given: lets a live-edge viewer start without fetching the stream's first piece; /init.mp4 is the same).
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http'
import { existsSync, readFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { join } from 'node:path'
import { containerOf, readInit } from './media.js'
import { broadcastHtml } from './broadcast-page/html.js'
import { chunksOf } from './chunks.js'


export interface WebPageOptions {
  /** Port to listen on (0: any free port). */
  port?: number
  /** Address to listen on (default 127.0.0.1). */
  host?: string
  /** The live stream's magnet link (a function if it changes, e.g. set after the server starts). */
  magnetURI: string | (() => string)
  /** The WebSocket tracker browsers announce to (ws://…). */
  trackerUrl: string
  /** The broadcaster's peer id (hex): the page tells its bytes from other peers' bytes. */
  broadcasterPeerId?: string | null
  /** A `torrent.live` of this process (broadcaster or viewer): serves /init from it. */
  live?: { stream (opts?: { startPiece?: number }): ReadableStream<Uint8Array> } | null
  title?: string
}

export interface WebPage {
  url: string
  port: number
  close (): Promise<void>
}

const root = fileURLToPath(new URL('../../../', import.meta.url))
const assets = join(root, 'dist', 'browser')

/** Builds the browser bundles if they are missing (a checkout where only tsc ran). */
export async function ensureBrowserAssets (): Promise<void> {
  if (['page.js', 'webtorrent-live.js', 'broadcast.js'].every((f) => existsSync(join(assets, f)))) return
  const script = join(root, 'scripts', 'build-browser.mjs')
  if (!existsSync(script)) throw new Error('dist/browser is missing: run npm run build:browser')
  const mod = await import(new URL(`file://${script}`).href) as { buildBrowser (o: { quiet: boolean }): Promise<unknown> }
  await mod.buildBrowser({ quiet: true })
}

function escapeHtml (s: string): string {
  return s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' }[c]!))
}

function html (title: string): string {
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escapeHtml(title)}</title>
<style>
  body { font: 15px/1.4 system-ui, sans-serif; margin: 1.5em auto; max-width: 56em; padding: 0 1em; color: #222 }
  video { width: 100%; background: #000; aspect-ratio: 16 / 9 }
  dl { display: grid; grid-template-columns: max-content 1fr; gap: .2em 1em }
  dt { color: #666 } dd { margin: 0; font-variant-numeric: tabular-nums }
  nav a { margin-right: 1em }
</style>
</head>
<body>
<h1>${escapeHtml(title)}</h1>
<video id="video" controls muted playsinline></video>
<nav><a href="?from=start">watch from the start</a><a href="?from=live">watch from the live edge</a><a href="?from=start&amp;store=idb">from the start, stored in IndexedDB</a><button id="replay" type="button">replay from the start</button></nav>
<dl>
  <dt>state</dt><dd id="state">loading…</dd>
  <dt>peers</dt><dd id="peers">0</dd>
  <dt>pieces</dt><dd id="pieces">0</dd>
  <dt>delay behind live</dt><dd id="delay">–</dd>
  <dt>from the broadcaster</dt><dd id="from-broadcaster">0 B</dd>
  <dt>from other peers</dt><dd id="from-peers">0 B</dd>
  <dt>signatures</dt><dd id="verifier">–</dd>
  <dt>store</dt><dd id="store">–</dd>
  <dt>final torrent</dt><dd id="final">–</dd>
  <dt>banned peers</dt><dd id="banned">none</dd>
  <dt>errors</dt><dd id="errors">none</dd>
</dl>
<script type="module" src="page.js"></script>
</body>
</html>
`
}

export async function serveWebPage (opts: WebPageOptions): Promise<WebPage> {
  await ensureBrowserAssets()
  const title = opts.title ?? 'webtorrent-live'
  const page = html(title)
  const broadcastPage = broadcastHtml(title, escapeHtml)
  let init: Promise<Uint8Array> | null = null
  const getInit = (): Promise<Uint8Array> => {
    if (!init) {
      init = readInit(chunksOf(opts.live!.stream({ startPiece: 0 })))
      init.catch(() => { init = null })
    }
    return init
  }
  const send = (res: ServerResponse, status: number, type: string, body: string | Uint8Array): void => {
    res.writeHead(status, { 'content-type': type, 'cache-control': 'no-store', 'content-length': Buffer.byteLength(body) })
    res.end(body)
  }
  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    const path = new URL(req.url ?? '/', 'http://x').pathname
    if (req.method !== 'GET' && req.method !== 'HEAD') return send(res, 405, 'text/plain', 'method not allowed\n')
    switch (path) {
      case '/':
      case '/index.html':
        return send(res, 200, 'text/html; charset=utf-8', page)
      case '/broadcast':
        return send(res, 200, 'text/html; charset=utf-8', broadcastPage)
      case '/config.json': {
        const magnetURI = typeof opts.magnetURI === 'function' ? opts.magnetURI() : opts.magnetURI
        return send(res, 200, 'application/json', JSON.stringify({ magnetURI, trackerUrl: opts.trackerUrl, broadcasterPeerId: opts.broadcasterPeerId ?? null, hasInit: !!opts.live, title }))
      }
      case '/init':
      case '/init.mp4': {
        if (!opts.live) return send(res, 404, 'text/plain', 'no init segment here\n')
        const timer = setTimeout(() => { if (!res.headersSent) send(res, 504, 'text/plain', 'the stream has no initialisation segment yet\n') }, 30_000)
        getInit().then((b) => { clearTimeout(timer); if (!res.headersSent) send(res, 200, containerOf(b) === 'webm' ? 'video/webm' : 'video/mp4', b) },
          (err: Error) => { clearTimeout(timer); if (!res.headersSent) send(res, 404, 'text/plain', `${err.message}\n`) })
        return
      }
      case '/page.js':
      case '/page.js.map':
      case '/broadcast.js':
      case '/broadcast.js.map':
      case '/webtorrent-live.js':
      case '/webtorrent-live.js.map': {
        const file = join(assets, path.slice(1))
        if (!existsSync(file)) return send(res, 404, 'text/plain', 'not built: npm run build:browser\n')
        return send(res, 200, path.endsWith('.map') ? 'application/json' : 'text/javascript; charset=utf-8', readFileSync(file))
      }
      default:
        return send(res, 404, 'text/plain', 'not found\n')
    }
  })
  const host = opts.host ?? '127.0.0.1'
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject)
    server.listen(opts.port ?? 0, host, () => { server.removeListener('error', reject); resolve() })
  })
  const port = (server.address() as { port: number }).port
  return {
    url: `http://${host}:${port}/`,
    port,
    close: () => new Promise<void>((resolve) => { server.closeAllConnections?.(); server.close(() => resolve()) })
  }
}
