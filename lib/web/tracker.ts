/**
 * A WebSocket tracker (bittorrent-tracker's Server, ws only) for browser peers: WebRTC offers and
 * answers travel through it, so browsers and Node peers with WebRTC find each other. Loopback by
 * default.
 */
import { Server } from 'bittorrent-tracker'

export interface WsTracker {
  /** ws://host:port — put it in the torrent's announce list / magnet link. */
  url: string
  port: number
  server: unknown
  close (): Promise<void>
}

export async function startWsTracker (opts: { port?: number, host?: string } = {}): Promise<WsTracker> {
  const host = opts.host ?? '127.0.0.1'
  const server = new Server({ http: false, udp: false, ws: true, stats: false })
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject)
    server.listen(opts.port ?? 0, host, () => { server.removeListener('error', reject); resolve() })
  })
  server.on('error', () => {}) // a bad client message must not take the tracker down
  server.on('warning', () => {})
  const port = (server.http.address() as { port: number }).port
  return {
    url: `ws://${host}:${port}`,
    port,
    server,
    close: () => new Promise<void>((resolve) => server.close(() => resolve()))
  }
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
