/**
 * The one local BitTorrent tracker (bittorrent-tracker's Server) for the CLI, the demo, the tests and
 * the lab: HTTP announces for Node peers and/or a WebSocket tracker for browser peers (WebRTC offers
 * and answers travel through it, so browsers and Node peers with WebRTC find each other). Loopback
 * by default.
 */
import { Server } from 'bittorrent-tracker'

export interface TrackerOptions {
  /** Default 0: any free port. */
  port?: number
  /** Default 127.0.0.1; on 0.0.0.0 or :: the announce URLs name 127.0.0.1. */
  host?: string
  /** HTTP announces (default true). */
  http?: boolean
  /** WebSocket announces, for browsers (default true). */
  ws?: boolean
  /** The re-announce interval the tracker asks of its clients, in ms (bittorrent-tracker's default: 10 min). */
  interval?: number
  /** The /stats page (default false). */
  stats?: boolean
  /** Told of errors once listening; by default they are dropped (a bad client message must not take the tracker down). */
  onError?: (err: Error) => void
}

export interface LocalTracker {
  server: Server
  port: number
  /** Announce URLs reachable on this machine: http first, then ws. */
  announce: string[]
  close (): Promise<void>
}

/** Starts a tracker; rejects with the listening error (e.g. EADDRINUSE). */
export async function startTracker (opts: TrackerOptions = {}): Promise<LocalTracker> {
  const { port = 0, host = '127.0.0.1', http = true, ws = true, stats = false } = opts
  const server = new Server({ udp: false, http, ws, stats, ...(opts.interval !== undefined ? { interval: opts.interval } : {}) })
  server.on('warning', () => {})
  await new Promise<void>((resolve, reject) => {
    server.on('error', reject) // not once: the HTTP and WebSocket servers may each report a clash
    server.listen(port, host, () => { server.removeListener('error', reject); resolve() })
  })
  server.on('error', opts.onError ?? (() => {}))
  const actual = (server.http!.address() as { port: number }).port
  const local = host === '0.0.0.0' || host === '::' ? '127.0.0.1' : host
  return {
    server,
    port: actual,
    announce: [...(http ? [`http://${local}:${actual}/announce`] : []), ...(ws ? [`ws://${local}:${actual}`] : [])],
    close: () => new Promise<void>((resolve) => { try { server.close(() => resolve()) } catch { resolve() } })
  }
}

export interface WsTracker {
  /** ws://host:port — put it in the torrent's announce list / magnet link. */
  url: string
  port: number
  server: Server
  close (): Promise<void>
}

/** A WebSocket-only tracker, for browser peers. */
export async function startWsTracker (opts: { port?: number, host?: string } = {}): Promise<WsTracker> {
  const t = await startTracker({ ...opts, http: false, ws: true })
  return { url: t.announce[0]!, port: t.port, server: t.server, close: t.close }
}

/**
 * WebTorrent client options for a Node peer that browsers can reach: WebRTC (WebTorrent 3 uses
 * node-datachannel in Node) through trackers, besides TCP; no DHT, LSD, NAT mapping or STUN
 * servers. `bindAddress` (node-datachannel) keeps its WebRTC on one local address, e.g. 127.0.0.1.
 */
export function webrtcClientOptions (opts: { bindAddress?: string, iceServers?: unknown[] } = {}): Record<string, unknown> {
  // maxMessageSize: node-datachannel offers 64 KiB by default; browsers take 256 KiB, and a larger
  // write would otherwise destroy the connection.
  const rtcConfig: Record<string, unknown> = { iceServers: opts.iceServers ?? [], maxMessageSize: 262144 }
  if (opts.bindAddress) rtcConfig.bindAddress = opts.bindAddress
  return { dht: false, lsd: false, natUpnp: false, natPmp: false, utp: false, webSeeds: false, tracker: { rtcConfig } }
}

/** Loopback only: what the tests and the demo use. */
export const WEBRTC_NODE_CLIENT_OPTS = webrtcClientOptions({ bindAddress: '127.0.0.1' })
