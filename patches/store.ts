/** The store: the chunk store under WebTorrent's wrappers. */
import type { Requirement, StoreLike, TorrentLike } from './types.js'

// ImmediateChunkStore and CacheChunkStore are public packages that keep the wrapped store as `.store`.
export const REQUIRES: readonly Requirement[] = []

/** The chunk store under WebTorrent's wrappers (ImmediateChunkStore and CacheChunkStore keep it as `.store`). */
export function rawStore (torrent: TorrentLike): StoreLike | null {
  let s = torrent.store
  for (let k = 0; k < 4 && s?.store; k++) s = s.store
  return s
}
