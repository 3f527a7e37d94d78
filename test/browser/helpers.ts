import assert from 'node:assert/strict'
/** Browser test helpers: headless Chromium (playwright-core), a WebSocket tracker, WebRTC Node peers, the demo page. */
import WebTorrent from 'webtorrent'
import { sleep } from '../support/wait.js'
import { existsSync, mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath, pathToFileURL } from 'node:url'
import { chromium, type Browser, type Page } from 'playwright-core'
import { enableLive } from '../../lib/index.js'
import { startWsTracker, WEBRTC_NODE_CLIENT_OPTS, type WsTracker } from '../../lib/web/tracker.js'
import { serveWebPage, type WebPage, type WebPageOptions } from '../../lib/web/server.js'

/* eslint-disable @typescript-eslint/no-explicit-any */

export const CHROMIUM = process.env.CHROMIUM ?? '/usr/bin/chromium'
export const CHROMIUM_ARGS = [
  '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
  '--disable-component-update', '--disable-sync',
  // WebRTC between processes of one machine: loopback candidates, no mDNS-obfuscated addresses.
  '--allow-loopback-in-peer-connection', '--disable-features=WebRtcHideLocalIpsWithMdns',
  '--autoplay-policy=no-user-gesture-required'
]

/** Makes WebCrypto refuse Ed25519, as a browser without it does (for the elliptic fallback). */
const WITHOUT_ED25519 = `(() => {
  const orig = SubtleCrypto.prototype.importKey
  SubtleCrypto.prototype.importKey = function (fmt, key, alg, ...rest) {
    const name = typeof alg === 'string' ? alg : alg && alg.name
    if (String(name).toLowerCase() === 'ed25519') return Promise.reject(new DOMException('Algorithm: Unrecognized name', 'NotSupportedError'))
    return orig.call(this, fmt, key, alg, ...rest)
  }
})()`

const root = fileURLToPath(new URL('../../../', import.meta.url))

/** Builds dist/browser (the library bundle and the page) and returns the sizes the build reports. */
export async function buildBundles (): Promise<Array<{ file: string, bytes: number, gzip: number }>> {
  const mod = await import(pathToFileURL(join(root, 'scripts', 'build-browser.mjs')).href) as { buildBrowser (o: { quiet: boolean }): Promise<{ files: any[] }> }
  return (await mod.buildBrowser({ quiet: true })).files
}

export function haveChromium (): boolean { return existsSync(CHROMIUM) }

export class Env {
  browser: Browser | null = null
  tracker: WsTracker | null = null
  clients: any[] = []
  pages: WebPage[] = []
  dirs: string[] = []

  async start (): Promise<void> {
    this.tracker = await startWsTracker()
    this.browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS })
  }

  /** A Node WebTorrent client that browsers can reach over WebRTC (through the tracker). */
  client (): any {
    const c = enableLive(new WebTorrent(WEBRTC_NODE_CLIENT_OPTS))
    this.clients.push(c)
    return c
  }

  dir (): string {
    const d = mkdtempSync(join(tmpdir(), 'wtl-browser-'))
    this.dirs.push(d)
    return d
  }

  async page (opts: Omit<WebPageOptions, 'trackerUrl'>): Promise<WebPage> {
    const p = await serveWebPage({ ...opts, trackerUrl: this.tracker!.url })
    this.pages.push(p)
    return p
  }

  /** Opens the page in a fresh browser context (its own peer, storage and WebRTC stack). */
  async open (url: string, opts: { withoutEd25519?: boolean } = {}): Promise<Page> {
    const ctx = await this.browser!.newContext()
    const page = await ctx.newPage()
    if (opts.withoutEd25519) await page.addInitScript(WITHOUT_ED25519)
    page.on('pageerror', (e) => { if (process.env.DEBUG_BROWSER) console.error('pageerror', e.message) })
    if (process.env.DEBUG_BROWSER) page.on('console', (m) => console.error('page:', m.text()))
    await page.goto(url)
    await page.waitForFunction(() => (window as any).wtl || (window as any).wtlError, null, { timeout: 20_000 })
    const err = await page.evaluate(() => (window as any).wtlError)
    if (err) throw new Error(`page failed: ${err}`)
    return page
  }

  async stop (): Promise<void> {
    await this.browser?.close().catch(() => {})
    this.browser = null
    await Promise.all(this.pages.splice(0).map((p) => p.close()))
    await Promise.all(this.clients.splice(0).map((c) => new Promise<void>((resolve) => c.destroy(() => resolve()))))
    await this.tracker?.close()
    this.tracker = null
    for (const d of this.dirs.splice(0)) rmSync(d, { recursive: true, force: true })
  }
}

export function stats (page: Page): Promise<any> {
  return page.evaluate(() => (window as any).wtl.stats())
}

/** Polls the page's stats until pred holds. */
export async function waitStats (page: Page, pred: (s: any) => boolean, ms: number, what: string): Promise<any> {
  const end = Date.now() + ms
  let s: any = null
  while (Date.now() < end) {
    s = await stats(page)
    if (pred(s)) return s
    await new Promise((resolve) => setTimeout(resolve, 200))
  }
  throw new Error(`timed out after ${ms} ms: ${what}; last stats ${JSON.stringify(s)}`)
}

export { sleep }

/**
 * Opens the page twice, from the start and from the live edge, and checks both play while the
 * broadcast airs: currentTime advances by more than a second in each, the start page at offset 0,
 * the live-edge page inside the stream. Returns the pages and their stats after that.
 */
export async function playsWhileAiring (env: Env, url: string, live: { ended: boolean }, what: string): Promise<{ start: Page, edge: Page, s2: any, l2: any }> {
  const start = await env.open(`${url}?from=start`)
  const s1 = await waitStats(start, (s) => s.player?.currentTime > 0.5, 40_000, `${what} playing from the start`)
  assert.equal(live.ended, false, 'still airing')
  const edge = await env.open(`${url}?from=live`)
  const l1 = await waitStats(edge, (s) => s.player?.fragments > 0 && !s.player.paused && s.player.currentTime > 0, 40_000, `${what} playing from the live edge`)
  const s2 = await waitStats(start, (s) => s.player.currentTime > s1.player.currentTime + 1, 30_000, `${what}: playback from the start goes on`)
  const l2 = await waitStats(edge, (s) => s.player.currentTime > l1.player.currentTime + 1, 30_000, `${what}: playback from the live edge goes on`)
  assert.equal(live.ended, false, 'still airing while both played')
  assert.ok(s2.player.currentTime > s1.player.currentTime + 1, `from start: currentTime ${s1.player.currentTime} → ${s2.player.currentTime}`)
  assert.ok(l2.player.currentTime > l1.player.currentTime + 1, `from live: currentTime ${l1.player.currentTime} → ${l2.player.currentTime}`)
  assert.equal(s2.player.startOffset, 0)
  assert.ok(l2.player.startOffset > 0, 'the live-edge viewer started inside the stream')
  return { start, edge, s2, l2 }
}
