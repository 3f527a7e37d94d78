/**
 * Selection and adoption: once hashes [from, to) are verified, a viewer selects the pieces it
 * wants (from its start piece on, plus the stream's first `headPieces`), and a viewer restarted
 * on its own store adopts the pieces already on its disk whose bytes hash right.
 */
import { equal } from '../protocol/bytes.js'
import { LiveError } from '../protocol/result.js'
import { hashes } from '../crypto/index.js'
import * as patches from '../../patches/index.js'
import type { LiveTorrent } from './live-torrent.js'
import { ADOPT_BYTES_PER_TURN } from './limits.js'

/**
 * Hashes [from, to) are verified: WebTorrent reads them straight from the log (patches.hashesFrom);
 * select the wanted ones.
 */
export function learnHashes (live: LiveTorrent, from: number, to: number): void {
  if (!live.state || from >= to) return
  adoptFromDisk(live, from, to)
  if (live.role === 'viewer' && live.startPiece !== null) {
    const lo = Math.max(from, live.startPiece)
    if (lo < to) patches.selectGrowing(live.torrent, lo, to - 1)
    const headEnd = Math.min(to, live.headPieces, live.startPiece)
    if (from < headEnd) patches.selectGrowing(live.torrent, from, headEnd - 1)
  }
}

/**
 * A peer restarted on its store (same path) finds verified pieces already on disk: each one whose
 * bytes hash to the verified hash is adopted, not downloaded again. Only stores that can show
 * their bytes (FileStore.peek) take part; reads stop at the end of the file.
 */
function adoptFromDisk (live: LiveTorrent, from: number, to: number): void {
  const raw = patches.rawStore(live.torrent)
  const state = live.state
  if (!raw || !state || live.role !== 'viewer' || typeof raw.peek !== 'function' || typeof raw.adopt !== 'function') return
  if (raw.initialSize === 0) return // nothing on disk from an earlier run: no read on the hot path
  let adopted = 0
  let read = 0
  let i = Math.max(from, live.startPiece ?? 0)
  try {
    for (; i < to; i++) {
      if (read >= ADOPT_BYTES_PER_TURN) break // the rest on the next turn of the event loop
      if (live.has(i)) continue
      const expected = state.log.get(i)
      if (!expected) continue
      const len = live.pieceLength(i)
      const bytes = raw.peek(i, len)
      if (!bytes) { i = to; break } // past the end of the file
      read += len
      if (!equal(hashes.sha1(bytes), expected)) continue
      raw.adopt(i, len)
      patches.markHave(live.torrent, i)
      adopted++
    }
  } catch (err) {
    live.fail(new LiveError('STORE_FAILED', `storage failed, the torrent stopped: ${(err as Error).message}`))
    live.torrent.destroy()
    return
  }
  if (i < to) { const next = i; setImmediate(() => { if (!live.destroyed) adoptFromDisk(live, next, to) }) }
  if (adopted > 0) {
    live.stats.adoptedPieces += adopted
    patches.checkDone(live.torrent)
    live.notify()
  }
}
