/**
 * Whether a torrent given to `watch` or `info` is live: its metadata (from the .torrent file, or
 * fetched from a peer for a magnet) must hold a `ut_live` info dict. Nothing is written before
 * that is known, and both commands say the same thing when it is not.
 */
import { parseLiveInfo } from '../protocol/info.js'
import { UserError } from './args.js'
import type { TorrentLike } from '../../patches/index.js'

/** The one-line reason a torrent with this info dict cannot be watched; null when it is live. */
export function notLiveReason (torrent: TorrentLike): string | null {
  const r = parseLiveInfo(torrent.info)
  if (r.ok) return null
  const ih = String(torrent.infoHash)
  const info = torrent.info as Record<string, unknown> | undefined
  if (!info || typeof info !== 'object' || !('live' in info)) {
    return `${ih} is an ordinary torrent, not a live stream (a finished broadcast's final torrent, say): open it with any BitTorrent client`
  }
  return `${ih} is not a valid live torrent: ${r.reason}`
}

/**
 * Resolves once the metadata is here and live; rejects with a UserError (notLiveReason) when it is
 * not. Never settles if the torrent closes first (its error is reported where it happens).
 */
export function whenLive (torrent: TorrentLike): Promise<void> {
  return new Promise((resolve, reject) => {
    const check = (): void => {
      const why = notLiveReason(torrent)
      if (why === null) resolve(); else reject(new UserError(why))
    }
    if (torrent.metadata) check(); else torrent.once('metadata', check)
  })
}

/** Whether an error is the live layer's verdict on a torrent that is not live (whenLive reports it). */
export function isNotLive (err: unknown): boolean {
  return (err as { code?: string } | null)?.code === 'NOT_LIVE'
}
