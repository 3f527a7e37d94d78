/**
 * The end of a broadcast: the final, ordinary BitTorrent v1 torrent (name, piece length, length,
 * pieces = the SHA-1 of each piece), and the plumbing that lets a live peer serve it at once from
 * the storage it already has: no second download, no rehash of pieces it verified on the live
 * infohash. The final infohash is in the signed end, so a peer that builds the final info dict from
 * its verified hash log and gets another infohash knows the broadcaster signed a broken end.
 */
import bencode from 'bencode'
import { hashes } from '../crypto/index.js'
import { toHex } from '../protocol/bytes.js'
import { createFinalInfo, encodeInfo } from '../protocol/info.js'
import { LiveError } from '../protocol/result.js'
import * as patches from '../../patches/index.js'
import type { StoreLike, TorrentLike } from '../../patches/index.js'
import type { LiveTorrent } from './live-torrent.js'


export interface FinalTorrent {
  infoHash: string
  magnetURI: string
  /** The ordinary BitTorrent v1 .torrent file (bencoded). */
  torrentFile: Uint8Array
}

/** The final torrent of a broadcast, from its name, piece length, length and piece hashes (20 bytes each). */
export function finalTorrent (name: string, pieceLength: number, length: number, pieceHashes: Uint8Array, announce: string[] = []): FinalTorrent {
  const info = createFinalInfo(name, pieceLength, length, pieceHashes)
  const infoBytes = encodeInfo(info)
  const infoHash = toHex(hashes.sha1(infoBytes))
  const file: Record<string, unknown> = { info }
  if (announce.length) { file.announce = announce[0]; file['announce-list'] = announce.map((a) => [a]) }
  const torrentFile = bencode.encode(file)
  return { infoHash, magnetURI: magnetFor(infoHash, name, announce), torrentFile }
}

export function magnetFor (infoHash: string, name: string, announce: string[] = []): string {
  const tr = announce.map((a) => `&tr=${encodeURIComponent(a)}`).join('')
  return `magnet:?xt=urn:btih:${infoHash}&dn=${encodeURIComponent(name)}${tr}`
}

/**
 * A chunk store for the final torrent that reads and writes the live torrent's store: the same
 * bytes at the same indices. Closing or destroying it leaves the live torrent's storage alone.
 */
type Done = (err: Error | null, buf?: Uint8Array) => void

export function sharedStore (liveTorrent: TorrentLike): StoreLike & { chunkLength: number, close (cb?: Done): void, destroy (cb?: Done): void } {
  const target = (): StoreLike | null => liveTorrent.store
  return {
    chunkLength: liveTorrent.pieceLength,
    get (index: number, opts: { offset?: number, length?: number } | null | Done, cb?: Done) {
      const s = target()
      if (!s) { const done = typeof opts === 'function' ? opts : cb; return queueMicrotask(() => done?.(new Error('Storage is closed'))) }
      s.get(index, opts, cb)
    },
    put (index: number, buf: Uint8Array, cb?: (err: Error | null) => void) {
      const s = target()
      if (!s) return queueMicrotask(() => cb?.(new Error('Storage is closed')))
      s.put(index, buf, cb)
    },
    close (cb?: Done) { queueMicrotask(() => cb?.(null)) },
    destroy (cb?: Done) { queueMicrotask(() => cb?.(null)) }
  }
}

/** The final torrents this package added, by the live torrent whose storage they read. */
const owners = new WeakMap<object, LiveTorrent>()

/** Whether `ft` is the final torrent `live` added over its own storage (it goes when live goes). */
export function ownsFinal (live: LiveTorrent, ft: TorrentLike | null): ft is TorrentLike {
  return ft !== null && owners.get(ft) === live
}

/** Once ended and every piece hash is known: build the final torrent, check it, serve it. */
export function maybeFinish (live: LiveTorrent): void {
  const state = live.state
  const head = state?.head
  if (!state || !head?.ended || live.final || live.destroyed || live.error) return
  // A window-only peer holds the window only: it can neither build nor serve the final torrent
  // (window.ts; its broadcaster names it from the hashes it archived, broadcaster.ts).
  if (live.window.windowOnly) return
  if (state.log.gaps(head.count).length > 0) return // pages still coming (page-sync.ts)
  const pieceHashes = head.count === 0 ? new Uint8Array(0) : state.log.range(0, head.count)
  if (!pieceHashes) return
  const torrent = live.torrent
  const f = finalTorrent(torrent.name, torrent.pieceLength, head.length, pieceHashes, torrent.announce ?? [])
  if (!head.finalInfoHash || f.infoHash !== toHex(head.finalInfoHash)) {
    live.fail(new LiveError('BAD_FINAL', `the signed end names final infohash ${head.finalInfoHash ? toHex(head.finalInfoHash) : '(none)'}, but the stream's pieces give ${f.infoHash}`))
    return
  }
  live.final = f
  seedFinal(live, f)
}

function seedFinal (live: LiveTorrent, f: FinalTorrent): void {
  const torrent = live.torrent
  const client = torrent.client!
  const existing = client.torrents.find((t) => t.infoHash === f.infoHash && !t.destroyed)
  if (existing) {
    // Someone added the final torrent to this client already, with its own storage: it serves
    // it as it will; nothing of ours is mirrored into it (it does not hold our pieces).
    live.finalTorrent = existing
    const done = (): void => { existing.removeListener('close', gone); live.finalServed = true; live.emit('final', f) }
    const gone = (): void => { existing.removeListener('ready', done); live.emit('failed', new LiveError('DESTROYED', 'the final torrent added to this client closed')) }
    if (existing.ready) queueMicrotask(done); else { existing.once('ready', done); existing.once('close', gone) }
    return
  }
  const ft = client.add(f.torrentFile, {
    preloadedStore: sharedStore(torrent),
    storeCacheSlots: 0,
    deselect: true,
    announce: torrent.announce ?? [],
    private: torrent.private === true
  })
  owners.set(ft, live)
  live.finalTorrent = ft
  patches.trustVerified(ft, (i) => live.has(i))
  ft.on('error', (err: Error) => { live.emit('warning', err); if (!live.finalServed) live.emit('failed', new LiveError('FINAL_FAILED', `the final torrent failed: ${err.message}`)) })
  patches.fastDone(ft) // WebTorrent's own done and interest checks scan every piece, per piece
  ft.on('verified', (index: number) => {
    // Downloaded on the final infohash (from a peer that only speaks plain BitTorrent).
    if (patches.markHave(torrent, index)) patches.checkDone(torrent)
  })
  ft.once('ready', () => {
    if (live.destroyed) return
    // Pieces verified on the live infohash between the add and now.
    for (let i = 0; i < live.count; i++) if (live.has(i)) patches.markHave(ft, i)
    patches.checkDone(ft)
    // Nothing is selected on the final torrent: what this viewer still wants comes on the live
    // infohash (selecting on both fetched many pieces twice) and is mirrored into it.
    live.finalServed = true
    live.emit('final', f)
  })
}

/** Resolves with the final torrent once it is served here (at once if it already is). */
export function whenFinal (live: LiveTorrent): Promise<FinalTorrent> {
  if (live.final && live.finalServed) return Promise.resolve(live.final)
  if (live.error) return Promise.reject(live.error)
  const closed = (): LiveError => new LiveError('DESTROYED', 'the torrent closed before the final torrent was ready')
  if (live.destroyed) return Promise.reject(closed())
  return new Promise((resolve, reject) => {
    const onFinal = (f: FinalTorrent): void => { cleanup(); resolve(f) }
    const onFailed = (e: Error): void => { cleanup(); reject(e) }
    const onClose = (): void => { cleanup(); reject(live.error ?? closed()) }
    const cleanup = (): void => { live.removeListener('final', onFinal); live.removeListener('failed', onFailed); live.removeListener('close', onClose) }
    live.once('final', onFinal)
    live.once('failed', onFailed)
    live.once('close', onClose)
  })
}
