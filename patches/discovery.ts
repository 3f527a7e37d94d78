/**
 * Announcing again now, to the trackers and the DHT (re-tune-in, lib/live/redial.ts). WebTorrent
 * announces on start, then at the tracker's interval (often 10–30 min) and every ~15 min on the
 * DHT: a viewer whose source came back on another port, and cannot be dialled itself, would find it
 * only then. This asks sooner. It reaches torrent.discovery (torrent-discovery, not part of
 * WebTorrent's documented API) but only its public members: tracker.update() (bittorrent-tracker),
 * dht.lookup() / dht.announce() (bittorrent-dht); peers found reach addPeer as usual. A missing
 * member makes this a no-op, never an error.
 */
import type { Requirement, TorrentLike } from './types.js'

/** Public members of torrent-discovery, bittorrent-tracker and bittorrent-dht only. */
export const REQUIRES: readonly Requirement[] = []

/** Announces the torrent to its trackers and the DHT now (nothing without discovery). */
export function reannounce (torrent: TorrentLike | null | undefined): void {
  const d = torrent?.discovery
  if (!torrent || !d || d.destroyed || torrent.destroyed) return
  try { d.tracker?.update?.() } catch {}
  const dht = d.dht
  if (!dht || dht.destroyed || typeof dht.lookup !== 'function') return
  try {
    const port = torrent.client?.address?.()?.port ?? 0
    dht.lookup(torrent.infoHash, () => {
      if (!dht.destroyed && !torrent.destroyed) try { dht.announce?.(torrent.infoHash, port, () => {}) } catch {}
    })
  } catch {}
}
