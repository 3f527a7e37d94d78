/**
 * `tail -f` for a live torrent: the stream's bytes in order, each piece only once it is verified,
 * waiting at the edge, ending when the broadcast ends. Errors (equivocation, torrent destroyed
 * before the end) end the stream with that error: a reader never receives an unverified byte.
 */
import { Readable } from 'node:stream'
import createDebug from 'debug'
import { LiveError } from '../protocol/result.js'
import type { LiveTorrent } from './live-torrent.js'
import type { Behind } from './window.js'

const debug = createDebug('webtorrent-live:reader')

export interface ReadOptions {
  /** First piece to read; default: the viewer's start piece (0, or where a from: 'live' viewer began). */
  startPiece?: number
  /** Stop before this piece (default: read to the end of the broadcast). */
  endPiece?: number
  /**
   * A windowed stream (window.ts) whose pieces this reader still needs were dropped here:
   * 'error' (default: the viewer's `behind` option) ends the stream with LiveError BEHIND_WINDOW;
   * 'skip' jumps to the oldest piece held, emits 'skipped' { from, to, bytes } on torrent.live and logs it.
   */
  behind?: Behind
}

/** Piece i is not here and never will be (dropped by the sliding window, or below a window-only viewer's start). */
function dropped (live: LiveTorrent, i: number): boolean {
  return i < live.window.heldFrom && !live.has(i)
}

function getPiece (live: LiveTorrent, i: number): Promise<Uint8Array> {
  const length = live.pieceLength(i)
  return new Promise((resolve, reject) => {
    const store = live.torrent.store
    if (!store) return reject(new LiveError('DESTROYED', 'the torrent was destroyed before the broadcast ended'))
    store.get(i, { offset: 0, length }, (err: Error | null, buf?: Uint8Array) => err ? reject(err) : resolve(buf!))
  })
}

export async function * livePieces (live: LiveTorrent, opts: ReadOptions = {}): AsyncGenerator<Uint8Array> {
  while (live.startPiece === null && !live.destroyed && !live.error) await live.changed()
  let i = opts.startPiece ?? live.startPiece ?? 0
  for (;;) {
    if (live.error) throw live.error
    if (live.ended && i >= live.count) return
    if (opts.endPiece !== undefined && i >= opts.endPiece) return
    if (dropped(live, i)) {
      const to = live.window.heldFrom // the oldest piece still held here
      if ((opts.behind ?? live.window.behind) !== 'skip') throw new LiveError('BEHIND_WINDOW', `piece ${i} left the stream's sliding window (this peer holds pieces ${to}…): the reader fell behind`)
      let bytes = 0
      for (let k = i; k < to; k++) bytes += live.pieceLength(k)
      debug('reader fell behind the sliding window: skipped pieces %d…%d (%d bytes)', i, to - 1, bytes)
      live.emit('skipped', { from: i, to, bytes })
      i = to
      continue
    }
    if (live.has(i)) {
      let buf: Uint8Array
      try { buf = await getPiece(live, i) } catch (err) { if (dropped(live, i)) continue; throw err }
      yield buf
      i++
      continue
    }
    if (live.destroyed) throw new LiveError('DESTROYED', 'the torrent was destroyed before the broadcast ended')
    await live.changed()
  }
}

/**
 * Bytes [start, end] (end inclusive; default: to the end of the broadcast) as they are verified:
 * what a live torrent's `torrent.files[0]` reads (patches/file.ts). `start` defaults to where the
 * viewer began (0, or a from: 'live' viewer's first piece).
 */
export async function * liveBytes (live: LiveTorrent, range: { start?: number, end?: number } = {}): AsyncGenerator<Uint8Array> {
  while (live.startPiece === null && !live.destroyed && !live.error) await live.changed()
  const pl = live.torrent.pieceLength as number
  const start = Math.max(0, range.start ?? (live.startPiece ?? 0) * pl)
  const end = range.end
  if (end !== undefined && end < start) return
  let i = Math.floor(start / pl)
  const opts: ReadOptions = { startPiece: i, behind: 'error' } // a byte range cannot skip
  if (end !== undefined) opts.endPiece = Math.floor(end / pl) + 1
  for await (const piece of livePieces(live, opts)) {
    const base = i * pl
    const lo = Math.max(0, start - base)
    const hi = end === undefined ? piece.length : Math.min(piece.length, end - base + 1)
    if (hi > lo) yield lo === 0 && hi === piece.length ? piece : piece.subarray(lo, hi)
    i++
  }
}

export function createReadStream (live: LiveTorrent, opts: ReadOptions = {}): Readable {
  return Readable.from(livePieces(live, opts), { objectMode: false, highWaterMark: 1 << 20 })
}

/** The same bytes as a WHATWG ReadableStream (browsers, and Node ≥ 18). */
export function createWebStream (live: LiveTorrent, opts: ReadOptions = {}): ReadableStream<Uint8Array> {
  const it = livePieces(live, opts)
  return new ReadableStream<Uint8Array>({
    async pull (controller) {
      try {
        const r = await it.next()
        if (r.done) controller.close(); else controller.enqueue(r.value)
      } catch (err) { controller.error(err) }
    },
    async cancel () { await it.return(undefined) }
  })
}
