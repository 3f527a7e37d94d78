/**
 * BEP 46 (mutable torrents through the DHT, on BEP 44 mutable items) for a stream's key: the
 * broadcaster stores, under its Ed25519 public key, a pointer to the live infohash while it airs
 * and to the final infohash after the end; `magnet:?xs=urn:btpk:<public key hex>` then finds the
 * broadcaster's current stream. Node only (WebTorrent has a DHT only in Node). Optional: nothing
 * else in webtorrent-live depends on it.
 *
 * Item: k = public key, no salt, seq = milliseconds since 1970 (so a key reused for a new program
 * supersedes the old pointer), v = { ih: <20-byte infohash> } plus `live: 1` while airing (an
 * extra key that ordinary BEP 46 readers ignore).
 */
import { createPublicKey, verify as nodeVerify } from 'node:crypto'
import bencode from 'bencode'
import { ed25519, hashes } from '../crypto/index.js'
import { fromHex, toHex } from '../protocol/bytes.js'
import { strictEd25519Reject } from '../protocol/ed25519-strict.js'
import { LiveError } from '../protocol/result.js'
import type { LiveTorrentLike } from './broadcaster.js'
import type { KeyPair } from './keys.js'

/** The members of a bittorrent-dht DHT that BEP 46 uses (BEP 44 put and get). */
export interface DhtLike {
  ready?: boolean
  once (event: 'ready', fn: () => void): unknown
  put (item: { k: Uint8Array, v: Record<string, unknown>, seq: number, sig: Uint8Array }, cb: (err: Error | null, hash: unknown, n: number) => void): unknown
  get (target: Uint8Array, opts: { verify: typeof dhtVerify, cache: boolean }, cb: (err: Error | null, res?: DhtItem | null) => void): unknown
}

/** A mutable item as bittorrent-dht returns it (unchecked: from the network). */
interface DhtItem { v?: { ih?: unknown, live?: unknown }, seq?: unknown }

const SPKI_PREFIX = Buffer.from('302a300506032b6570032100', 'hex')

export interface StreamPointer {
  infoHash: string
  /** True while the stream airs (the pointer names the live infohash). */
  live: boolean
  seq: number
}

/**
 * The synchronous Ed25519 verify that bittorrent-dht wants (`new WebTorrent({ dht: { verify } })`):
 * DHT nodes built with it store and return BEP 44 mutable items.
 */
export function dhtVerify (signature: Uint8Array, message: Uint8Array, publicKey: Uint8Array): boolean {
  try {
    if (strictEd25519Reject(publicKey, signature) !== null) return false // the same strict rule as heads (spec §4.2)
    const key = createPublicKey({ key: Buffer.concat([SPKI_PREFIX, publicKey]), format: 'der', type: 'spki' })
    return nodeVerify(null, message, key, signature)
  } catch {
    return false
  }
}

/** The DHT target of a stream key's pointer: SHA-1 of the public key (no salt). */
export function pointerTarget (publicKey: Uint8Array): Uint8Array {
  return hashes.sha1(publicKey)
}

/** What BEP 44 signs: the bencoded dict { seq, v } without its outer 'd' and 'e'. */
function signedPart (seq: number, v: unknown): Uint8Array {
  const b = bencode.encode({ seq, v })
  return b.subarray(1, b.length - 1)
}

/** Stores the pointer under the key in the DHT. Resolves with the number of nodes that took it. */
let lastSeq = 0

export async function publishPointer (dht: DhtLike | null | false | undefined, keyPair: KeyPair, infoHash: string, live: boolean, seq = nextSeq()): Promise<number> {
  if (!dht) throw new LiveError('NO_DHT', 'this client has no DHT')
  const v: Record<string, unknown> = { ih: Buffer.from(fromHex(infoHash)) }
  if (live) v.live = 1
  const ed = await ed25519()
  const sig = await ed.sign(keyPair.secretKey, signedPart(seq, v))
  return new Promise((resolve, reject) => {
    dht.put({ k: Buffer.from(keyPair.publicKey), v, seq, sig: Buffer.from(sig) }, (err: Error | null, _hash: unknown, n: number) => {
      if (err) reject(err); else resolve(n)
    })
  })
}

/** Milliseconds since 1970, strictly increasing within this process (DHT nodes refuse seq ≤ the stored one). */
function nextSeq (): number {
  lastSeq = Math.max(Date.now(), lastSeq + 1)
  return lastSeq
}

/** Looks the key's pointer up in the DHT (newest valid seq wins); null if none is found. */
export function resolvePointer (dht: DhtLike | null | false | undefined, publicKey: Uint8Array): Promise<StreamPointer | null> {
  if (!dht) return Promise.reject(new LiveError('NO_DHT', 'this client has no DHT'))
  return new Promise((resolve, reject) => {
    dht.get(Buffer.from(pointerTarget(publicKey)), { verify: dhtVerify, cache: false }, (err: Error | null, res?: DhtItem | null) => {
      if (err) return reject(err)
      const ih = res?.v?.ih
      if (!res || !(ih instanceof Uint8Array) || ih.length !== 20 || typeof res.seq !== 'number') return resolve(null)
      resolve({ infoHash: toHex(ih), live: res.v?.live === 1, seq: res.seq })
    })
  })
}

/** The public key in a `magnet:?xs=urn:btpk:<64 hex>` link, or null. */
export function parseStreamKeyLink (link: string): Uint8Array | null {
  if (!link.startsWith('magnet:?')) return null
  for (const part of link.slice(8).split('&')) {
    const [k, v] = part.split('=')
    if (k !== 'xs' || !v) continue
    const m = /^urn:btpk:([0-9a-fA-F]{64})$/.exec(decodeURIComponent(v))
    if (m) return fromHex(m[1]!.toLowerCase())
  }
  return null
}

export function streamKeyLink (publicKey: Uint8Array, name?: string): string {
  return `magnet:?xs=urn:btpk:${toHex(publicKey)}${name ? `&dn=${encodeURIComponent(name)}` : ''}`
}

/**
 * Resolves a stream-key link through the DHT to a magnet for the stream it points to now:
 * `{ magnetURI, live }` (live: add it with `{ live: true }`; otherwise it is the final torrent).
 */
export async function resolveStreamKeyLink (client: { dht?: DhtLike | null | false }, link: string): Promise<{ magnetURI: string, infoHash: string, live: boolean }> {
  const pk = parseStreamKeyLink(link)
  if (!pk) throw new LiveError('BAD_ARGUMENT', 'not a magnet:?xs=urn:btpk: link')
  const p = await resolvePointer(client.dht, pk)
  if (!p) throw new LiveError('NOT_FOUND', `no stream is published in the DHT under key ${toHex(pk)}`)
  const rest = link.slice(8).split('&').filter((x) => !x.startsWith('xs=')).join('&')
  return { magnetURI: `magnet:?xt=urn:btih:${p.infoHash}${rest ? '&' + rest : ''}`, infoHash: p.infoHash, live: p.live }
}

export const REPUBLISH_MS = 30 * 60 * 1000

/**
 * Keeps a broadcaster's pointer in the DHT: the live infohash now, the final infohash once the
 * final torrent is served, republished every 30 minutes (BEP 44 items expire). Failures are
 * reported as 'warning' events on `torrent.live`; the stream never depends on them.
 */
export function keepStreamPointer (bc: { torrent: LiveTorrentLike, keyPair: KeyPair }): { published: Promise<number>, stop (): void } {
  const live = bc.torrent.live
  const dht = (bc.torrent.client as { dht?: DhtLike } | undefined)?.dht
  let current = live.final ? { ih: live.final.infoHash, live: false } : { ih: bc.torrent.infoHash, live: true }
  const whenReady = (): Promise<void> => !dht || dht.ready === true ? Promise.resolve() : new Promise((resolve) => dht.once('ready', resolve))
  const publish = (): Promise<number> => whenReady().then(() => publishPointer(dht, bc.keyPair, current.ih, current.live))
  const report = (p: Promise<number>): Promise<number> => { p.catch((err) => live.emit('warning', err)); return p }
  let published = report(publish())
  const onFinal = (f: { infoHash: string }): void => { current = { ih: f.infoHash, live: false }; published = report(publish()) }
  live.on('final', onFinal)
  const timer = setInterval(() => { published = report(publish()) }, REPUBLISH_MS)
  timer.unref?.()
  const stop = (): void => { clearInterval(timer); live.removeListener('final', onFinal) }
  live.once('close', stop)
  return { get published () { return published }, stop }
}
