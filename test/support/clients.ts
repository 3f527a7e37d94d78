/** Test helpers: real WebTorrent clients on loopback TCP, DHT, trackers and LSD off. */
import WebTorrent from 'webtorrent'
import { enableLive } from '../../lib/index.js'
import { removeTempDirs, tempDir } from './temp.js'

export { tempDir }
export { withTimeout, once, until, poll, sleep } from './wait.js'

/* eslint-disable @typescript-eslint/no-explicit-any */

export const CLIENT_OPTS = { dht: false, tracker: false, lsd: false, natUpnp: false, natPmp: false, utp: false, webSeeds: false }

const clients: any[] = []

export async function makeClient (live = true, opts: Record<string, unknown> = {}): Promise<any> {
  const c = new WebTorrent({ ...CLIENT_OPTS, ...opts })
  clients.push(c)
  if (live) enableLive(c)
  if (!c.listening) await new Promise((resolve) => c.once('listening', resolve))
  return c
}

export function addr (client: any): string {
  return `127.0.0.1:${client.address().port}`
}

/** Adds a live torrent and connects it to the given peers once its infohash is known. */
export function join (client: any, id: unknown, peers: any[], opts: Record<string, unknown> = {}): any {
  const t = client.add(id, { live: true, path: tempDir(), ...opts })
  const connect = (): void => { for (const p of peers) t.addPeer(addr(p)) }
  if (t.infoHash) connect(); else t.once('infoHash', connect)
  return t
}

export async function destroyAll (): Promise<void> {
  const cs = clients.splice(0)
  await Promise.all(cs.filter((c) => !c.destroyed).map((c) => new Promise<void>((resolve) => c.destroy(() => resolve()))))
  removeTempDirs()
}

export async function collect (stream: AsyncIterable<Uint8Array>): Promise<Buffer> {
  const parts: Buffer[] = []
  for await (const c of stream) parts.push(Buffer.from(c))
  return Buffer.concat(parts)
}

/** Deterministic pseudo-random bytes. */
export function bytes (n: number, seed = 1): Buffer {
  const b = Buffer.alloc(n)
  let x = seed >>> 0 || 1
  for (let i = 0; i < n; i++) { x ^= x << 13; x >>>= 0; x ^= x >>> 17; x ^= x << 5; x >>>= 0; b[i] = x & 0xff }
  return b
}

/** Writes `data` to the broadcaster in irregular chunks, pausing between writes. */
export async function air (bc: { write (b: Uint8Array): Promise<void> }, data: Buffer, opts: { chunk?: number, pauseMs?: number, seed?: number } = {}): Promise<void> {
  let x = opts.seed ?? 7
  let off = 0
  while (off < data.length) {
    x = (x * 1103515245 + 12345) & 0x7fffffff
    const n = Math.max(1, (x % (opts.chunk ?? 20000)))
    await bc.write(data.subarray(off, off + n))
    off += n
    if (opts.pauseMs) await new Promise((resolve) => setTimeout(resolve, opts.pauseMs))
  }
}
