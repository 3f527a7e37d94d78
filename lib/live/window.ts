/**
 * The sliding window of an endless stream (issue 15; spec §2 `live.window`, §8 holding rule).
 *
 * A stream whose live info dict carries `window` (pieces) is kept by each peer only near its edge:
 * a peer MUST serve the pieces of [count − window, count) it has, and MAY drop any piece below
 * count − window − slack (slack = max(WINDOW_SLACK_MIN, window / WINDOW_SLACK_DIVISOR), so that a
 * peer just behind the edge is never told of a drop it would still ask for). Dropping a piece:
 * its bytes leave the store (where the store can delete), its bitfield bit is cleared (WebTorrent
 * never offers it again), each wire hears a BEP 54 lt_donthave, and its hash leaves the hash log
 * (the chain value at the window start stays, so heads and pages still verify; a HASH_REQUEST for
 * a forgotten hash is answered with HASH_REJECT by page-sync.ts, which finds no range).
 *
 * An archive peer (`archive: true`; the broadcaster's default) drops nothing and can build and
 * serve the final torrent. A window-only peer cannot (it lacks the old pieces and hashes): at the
 * end it says so (`windowOnly` status, an 'archive-missing' event) and stays a live-window peer.
 */
import createDebug from 'debug'
import * as patches from '../../patches/index.js'
import type { SignedHead } from '../protocol/head.js'
import { WINDOW_SLACK_DIVISOR, WINDOW_SLACK_MIN } from '../protocol/constants.js'
import { LiveError } from '../protocol/result.js'
import type { LiveTorrent } from './live-torrent.js'
import type { HashArchive } from './broadcast-state-types.js'

export { WINDOW_SLACK_MIN, WINDOW_SLACK_DIVISOR }

const debug = createDebug('webtorrent-live:window')

/** What a reader that falls behind the window does: fail with BEHIND_WINDOW, or skip to the window start. */
export type Behind = 'error' | 'skip'

export interface WindowOptions {
  /**
   * Keep every piece (never drop), even on a windowed stream. Default: false for viewers of a
   * windowed stream, true for the broadcaster (it builds the final torrent).
   */
  archive?: boolean
  /** A reader behind the window: 'error' (default) or 'skip' to the window start. */
  behind?: Behind
}

export function windowSlack (window: number): number {
  return Math.max(WINDOW_SLACK_MIN, Math.ceil(window / WINDOW_SLACK_DIVISOR))
}

/** A duration: 90s, 10m (minutes), 2h, 500ms. */
export const DURATION = /^(\d+(?:\.\d+)?)(ms|s|m|h)$/
const SIZE = /^(\d+(?:\.\d+)?)\s*([kmg]?)(i?b)?$/i
const UNIT: Record<string, number> = { '': 1, k: 1024, m: 1024 ** 2, g: 1024 ** 3 }
const SECONDS: Record<string, number> = { ms: 0.001, s: 1, m: 60, h: 3600 }

/** A byte count: 16384, 16k, 16KiB, 1M, 2MB, 4G (binary multiples); null if it is none. */
export function parseByteSize (v: string): number | null {
  const m = SIZE.exec(v.trim())
  return m ? Math.round(Number(m[1]) * UNIT[m[2]!.toLowerCase()]!) : null
}

/**
 * A window given as pieces (a number), bytes ('512k', '1M', '4G') or a duration ('90s', '10m',
 * '2h', which needs the stream's `rate` in bytes a second) → pieces: ceil(bytes / pieceLength).
 * Throws LiveError BAD_ARGUMENT on anything else.
 */
export function windowPieces (w: number | string, pieceLength: number, rate?: number): number {
  if (typeof w === 'number') {
    if (!Number.isInteger(w) || w < 1) throw new LiveError('BAD_ARGUMENT', `window must be a whole number of pieces ≥ 1, not ${w}`)
    return w
  }
  const d = DURATION.exec(w)
  if (d) {
    if (rate === undefined || !(rate > 0)) throw new LiveError('BAD_ARGUMENT', `a window given as a duration (${w}) needs a rate in bytes a second`)
    return Math.max(1, Math.ceil(Number(d[1]) * SECONDS[d[2]!]! * rate / pieceLength))
  }
  const bytes = parseByteSize(w)
  if (bytes !== null && bytes >= 1) return Math.ceil(bytes / pieceLength)
  throw new LiveError('BAD_ARGUMENT', `window ${JSON.stringify(w)} is neither pieces, bytes (512k, 1M, 4G) nor a duration (90s, 10m, 2h)`)
}

/** One per live torrent: the holding rule applied as heads arrive. */
export class SlidingWindow {
  private readonly live: LiveTorrent
  private readonly opts: WindowOptions
  /** Pieces below this were dropped here (bytes, bit, hash). */
  dropped = 0
  /** Pieces dropped so far (a counter for status and tests). */
  droppedPieces = 0
  /**
   * A window-only broadcaster's hashes outside memory (broadcaster.ts sets it: its state folder, or
   * a spill file): with it, the broadcaster's hash log forgets what left the window as a viewer's
   * does, and its END reads them back to name the final torrent.
   */
  hashes: HashArchive | null = null

  constructor (live: LiveTorrent, opts: WindowOptions) {
    this.live = live
    this.opts = opts
  }

  /** The stream's window in pieces, or null (no window, or not known yet). */
  get size (): number | null { return this.live.info?.window ?? null }

  /** Whether this peer keeps every piece. */
  get archive (): boolean {
    return this.size === null || (this.opts.archive ?? this.live.role === 'broadcaster')
  }

  /** Whether this peer keeps only the window (cannot serve or build the final torrent). */
  get windowOnly (): boolean { return !this.archive }

  /** The oldest piece every peer must still serve: count − window (0 without a window). */
  get start (): number {
    const w = this.size
    return w === null ? 0 : Math.max(0, this.live.count - w)
  }

  /** The oldest piece this peer may still hold (everything below was dropped); a 'skip' reader resumes here. */
  get floor (): number { return this.dropped }

  /**
   * Where a reader of this peer can still begin: for a window-only viewer the later of what it
   * dropped and where it started (it never fetches pieces below either), else 0.
   */
  get heldFrom (): number {
    return this.windowOnly && this.live.role === 'viewer' ? Math.max(this.floor, this.live.startPiece ?? 0) : this.floor
  }

  get behind (): Behind { return this.opts.behind ?? 'error' }

  /**
   * At the metadata (live-torrent.ts onMetadata), where a from: 'start' viewer's start is decided:
   * piece 0, or on a windowed stream, for a window-only viewer, the window's start at its first
   * head (an archive viewer fetches the whole stream from archive peers).
   */
  onInfo (): void {
    const live = this.live
    if (live.role !== 'viewer' || live.from !== 'start') return
    if (this.windowOnly) live.liveEdgePieces = this.size!
    else live.startPiece = 0
    live.notify()
  }

  /** After a head is applied (live-torrent.ts applyHead): drop what left the window, if we may. */
  onHead (head: SignedHead): void {
    const w = this.size
    if (w === null) return
    const torrent = this.live.torrent
    if (this.windowOnly) {
      // A window-only viewer never wants what it cannot get: not even after the end.
      if (this.live.role === 'viewer') patches.setWantedFrom(torrent, Math.max(this.live.startPiece ?? 0, this.floor))
      if (head.ended && this.live.role === 'viewer') {
        this.live.emit('archive-missing', { from: this.heldFrom })
        debug('%s ended; this peer kept only the window (pieces %d…), so it cannot build or serve the final torrent', torrent.infoHash, this.heldFrom)
      }
      this.drop(head.count - w - windowSlack(w))
    }
  }

  /** Drops pieces [dropped, below): store, bitfield (patches.forgetPieces), lt_donthave, hash log. */
  private drop (below: number): void {
    if (below <= this.dropped) return
    const torrent = this.live.torrent
    const from = this.dropped
    this.dropped = below
    const had = patches.forgetPieces(torrent, from, below) // the pieces we held: their bits cleared
    patches.releasePieces(torrent, below) // WebTorrent's per-piece arrays: O(window), not O(history)
    // A broadcaster forgets only hashes it can read back (`hashes`): its END names the final torrent.
    if (this.live.role === 'viewer' || this.hashes) this.live.state?.log.forget(below)
    const store = patches.rawStore(torrent) as { delete?: (i: number) => void, release?: (below: number) => void } | null
    for (const i of had) {
      store?.delete?.(i)
      for (const wire of torrent.wires) patches.sendDontHave(wire, i)
      this.droppedPieces++
    }
    store?.release?.(below) // file-store.ts: segment files wholly below go
  }
}
