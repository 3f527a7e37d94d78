/**
 * One Peer per wire that speaks ut_live: what we know of it, and what it said of itself. Its
 * state is changed here, by its own methods; the controller (live-torrent.ts) and the syncs decide
 * what to ask of whom.
 *
 *  - knownCount: the highest head count this peer has shown us or been sent (it can serve the
 *    hashes below it), lowered for a while by a page back-off (askOthersFirst);
 *  - knownRank: the rank of the newest head sent to or received from it (or implied by a HAVE from it: holds());
 *  - heardAt: when a head last went to it, or it last showed it is following the stream (a HEAD
 *    or a HAVE from it): head-sync.ts forwards at once to a peer that has gone quiet;
 *  - claimedCount: how many pieces it says it has (live_n, or an unverified head's count): only a
 *    claim, which sizes what it may announce until it is proved (peer-policy.ts).
 */
import { EXTENSION_NAME, MAX_PIECES } from '../protocol/constants.js'
import { encode, type Message } from '../protocol/messages.js'
import type { WireLike } from '../../patches/index.js'
import { MAX_MESSAGES_PER_SECOND, MAX_PAGES_PER_SECOND, MAX_PUSHES_PER_SECOND, MAX_WASTED_PUSHES_PER_SECOND } from './limits.js'

export class Peer {
  readonly wire: WireLike
  peerId = ''
  /** Both sides speak ut_live (its extended handshake came, with our version). */
  supported = false
  /** It accepts PUSH (live_push: 1 in its extended handshake). */
  acceptsPush = false
  knownRank = -1
  claimedCount = 0
  heardAt = 0
  private known = 0
  /** Page back-off: pages ending above this go to other peers for now (null: none). */
  private backoff: number | null = null
  private readonly messages = new PerSecond(MAX_MESSAGES_PER_SECOND)
  private readonly pagesAnswered = new PerSecond(MAX_PAGES_PER_SECOND)
  private readonly pushesIn = new PerSecond(MAX_WASTED_PUSHES_PER_SECOND)
  private readonly pushesOut = new PerSecond(MAX_PUSHES_PER_SECOND)

  constructor (wire: WireLike) {
    this.wire = wire
  }

  /**
   * A viewer's guess that this peer is the broadcaster: it speaks ut_live and does not accept
   * pushes (spec §6: the broadcaster never sends live_push). A viewer with push: false is guessed
   * the same; the guess only makes it a last resort for requests (request-routing.ts).
   */
  get isSourceGuess (): boolean { return this.supported && !this.acceptsPush }

  /** Pages (hashes) may be asked of this peer below this count. */
  get knownCount (): number { return this.backoff === null ? this.known : Math.min(this.known, this.backoff) }

  /** It holds a head of `count` pieces and `rank` (received from it, or sent to it). */
  knows (count: number, rank: number): void {
    this.known = Math.max(this.known, count)
    if (this.backoff !== null) this.backoff = Math.max(this.backoff, count)
    this.knownRank = Math.max(this.knownRank, rank)
  }

  /**
   * It announced piece `index` (a HAVE): it verified it, so it holds a head covering it (count
   * ≥ index + 1; the rank of such a head, not ended), and needs none from us. A peer that lies
   * only goes without our heads. Its count is not raised: that is for verified heads alone.
   */
  holds (index: number): void { this.knownRank = Math.max(this.knownRank, 2 * (index + 1)) }

  /** A head went to it, or it showed us it follows the stream (a HEAD or a HAVE from it). */
  heard (now = Date.now()): void { this.heardAt = now }

  /** A claim of `n` pieces (bounded by the protocol); claims only grow. Whether it grew. */
  claim (n: unknown): boolean {
    if (typeof n !== 'number' || !Number.isSafeInteger(n) || n <= this.claimedCount) return false
    this.claimedCount = Math.min(n, MAX_PIECES)
    return true
  }

  /**
   * Pages below `start` go to other peers for now (it rejected them, or did not answer in time);
   * after `ms` it is asked again, and `retry` runs. A busy peer's reply may queue behind the piece
   * data it sends us, and a peer catching up will hold those hashes soon: a back-off, not a verdict.
   */
  askOthersFirst (start: number, ms: number, retry: () => void): void {
    this.backoff = this.backoff === null ? Math.min(this.known, start) : Math.min(this.backoff, start)
    const t = setTimeout(() => {
      this.backoff = null
      if (!this.wire.destroyed) retry()
    }, ms)
    t.unref?.()
  }

  /** Counts one pushed piece we did not need (push.ts); false once more than MAX_WASTED_PUSHES_PER_SECOND. */
  wastedPush (now = Date.now()): boolean { return this.pushesIn.take(now) }

  /** Counts one piece we push to this peer (push.ts); false (HAVE instead) beyond MAX_PUSHES_PER_SECOND. */
  mayPush (now = Date.now()): boolean { return this.pushesOut.take(now) }

  /** Counts one message; false once it sends more than MAX_MESSAGES_PER_SECOND. */
  withinRate (now = Date.now()): boolean { return this.messages.take(now) }

  /** Whether this peer's HASH_REQUEST may be answered with a page now (MAX_PAGES_PER_SECOND). */
  mayGetPage (now = Date.now()): boolean { return this.pagesAnswered.take(now) }

  send (msg: Message): void {
    if (!this.supported || this.wire.destroyed) return
    try { this.wire.extended(EXTENSION_NAME, encode(msg)) } catch { /* wire closing */ }
  }
}

/** At most `limit` events in each one-second window (a fixed window, restarted by the first event after it). */
class PerSecond {
  private start = 0
  private count = 0
  constructor (private readonly limit: number) {}

  /** Counts an event; false once this window holds more than `limit`. */
  take (now: number): boolean {
    if (now - this.start >= 1000) { this.start = now; this.count = 0 }
    return ++this.count <= this.limit
  }
}
