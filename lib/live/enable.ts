/**
 * enableLive(client): from then on `client.add(id, { live: true, from })` joins a live stream.
 * Non-live torrents on the same client are untouched, but for an upload limit's burst, bounded to
 * 100 ms for the whole client (patches/client-throttle.ts).
 */
import DefaultStore from '#default-store'
import { checkClient, checkTorrentClass, fastMseHandshake, followFile, shortUploadBurst, type TorrentLike } from '../../patches/index.js'
import { LiveError } from '../protocol/result.js'
import { LiveTorrent, type LiveOptions } from './live-torrent.js'
import { createReadStream, createWebStream, liveBytes, type ReadOptions } from './reader.js'


const ENABLED = Symbol.for('webtorrent-live.enabled')

export interface EnableOptions {
  /** Store constructor for live torrents (default: on disk in Node, in memory in browsers). */
  store?: new (chunkLength: number, opts: Record<string, unknown>) => object
}

type AddCallback = (torrent: TorrentLike) => void

/** What enableLive changes on a client: its add(), wrapped once. */
interface EnablingClient {
  add: (this: unknown, id: unknown, opts?: Record<string, unknown> | AddCallback, cb?: AddCallback) => TorrentLike
  [ENABLED]?: boolean
}

export interface AddLiveOptions extends LiveOptions {
  live: true
  role?: 'broadcaster' | 'viewer'
  [key: string]: unknown
}

export interface LiveView extends LiveTorrent {
  createReadStream (opts?: ReadOptions): import('node:stream').Readable
  stream (opts?: ReadOptions): ReadableStream<Uint8Array>
}

/**
 * Throws WEBTORRENT_INTERNALS (before touching anything) when `client` is not a WebTorrent whose
 * internals patches/ can adapt: its constructor's version must be in SUPPORTED_WEBTORRENT and the
 * members patches/ uses must exist on it (an app may hold another copy of WebTorrent than ours).
 */
export function enableLive<C> (client: C, options: EnableOptions = {}): C {
  checkClient(client)
  const c = client as unknown as EnablingClient
  if (c[ENABLED]) return client
  // Protocol-encryption handshakes in BigInt instead of a DiffieHellman whose prime OpenSSL re-tests
  // per connection (17 ms → 0.3 ms of CPU; same bytes): for every wire of the process.
  fastMseHandshake()
  // An upload limit (WebTorrent's uploadLimit, client.throttleUpload) lets through at most 100 ms of
  // bytes at once: on TCP the rest would wait in kernel buffers, out of the upload budget's sight.
  shortUploadBurst(c)
  const add = c.add
  const Store = options.store ?? DefaultStore
  c.add = function (this: unknown, id: unknown, opts?: Record<string, unknown> | AddCallback, cb?: AddCallback) {
    if (typeof opts === 'function') { cb = opts; opts = undefined }
    if (!opts || opts.live !== true) return add.call(this, id, opts, cb)
    const { live: _l, from, liveEdgePieces, headPieces, role, archive, behind, push, ...rest } = opts
    if (from !== undefined && from !== 'start' && from !== 'live') throw new LiveError('BAD_ARGUMENT', "from must be 'start' or 'live'")
    // `uploads`: WebTorrent's tit-for-tat keeps 10 upload slots and chokes the rest every 10 s, which
    // starves a live swarm (the broadcaster downloads nothing, slow viewers give little back): a
    // viewer choked by every holder of the next piece waits until a rechoke picks it. Every
    // interested peer is unchoked; who serves what is the relay policy's business (relay-policy.ts).
    // A window-only viewer's store reclaims space (file-store.ts segments) if the stream has a window.
    // (The broadcaster archives unless told `archive: false`: window.ts.)
    const storeOpts = { ...(rest.storeOpts as Record<string, unknown> | undefined), windowOnly: role === 'broadcaster' ? archive === false : archive !== true }
    const wtOpts = { uploads: Infinity, ...rest, store: rest.store ?? Store, storeOpts, storeCacheSlots: 0, alwaysChokeSeeders: false, strategy: 'sequential' }
    const torrent = add.call(this, id, wtOpts, cb)
    try { checkTorrentClass(torrent) } catch (err) { torrent.destroy(); throw err }
    const ctl = new LiveTorrent(torrent, { from, liveEdgePieces, headPieces, role, archive, behind, push } as LiveOptions & { role?: 'broadcaster' | 'viewer' }) as LiveView
    ctl.createReadStream = (o?: ReadOptions) => createReadStream(ctl, o)
    ctl.stream = (o?: ReadOptions) => createWebStream(ctl, o)
    ;(torrent as TorrentLike & { live?: LiveView }).live = ctl
    // torrent.files[0].createReadStream() and friends follow the growing file (patches/file.ts).
    torrent.once('metadata', () => { if (!torrent.destroyed && ctl.info) followFile(torrent, (range) => liveBytes(ctl, range)) })
    return torrent
  }
  c[ENABLED] = true
  return client
}
