/**
 * The upload budget: a peer accepts only the requests its uplink can serve soon, and rejects the
 * rest at once (BEP 6 REJECT), so that a requester asks another holder of the piece instead of
 * waiting behind seconds of queue. A live stream has deadlines; a request served in 8 s is worth
 * less than a REJECT in one round trip. (Stock WebTorrent unchokes up to 10 peers and queues
 * every request they send: on a narrow uplink the queue grows until the requesters time out.)
 *
 *   backlog = Σ over wires (bytes of requests admitted and not answered yet
 *             + bytes the wire handed to its socket − bytes the socket handed to the OS)
 *   rate    = the uplink's drain rate: while saturated (backlog ≥ MIN_QUEUE_BYTES) an average of what
 *             drained per tick; otherwise the highest rate seen (what drained is all we offered)
 *   admit   ⇔ backlog + the request ≤ the client's upload limit × MAX_SERVE_MS (a viewer with a limit),
 *             and: backlog ≤ IDLE_BYTES (idle: any one request)
 *                  or backlog + the request ≤ max(MIN_QUEUE_BYTES, rate × TARGET_QUEUE_MS)
 *   full    ⇔ backlog ≥ max(MIN_QUEUE_BYTES, rate × TARGET_QUEUE_MS) (the relay policy and PUSH wait)
 *
 * A connection that has sent nothing on for STUCK_TICKS ticks while bytes wait in it (a peer that
 * stopped reading) is left out of the backlog: one such peer must not make us refuse everyone.
 * A connection holding more than MAX_UNSENT_BYTES of ours unsent (MAX_STUCK_BYTES once stuck) is
 * closed: a peer that asks and never reads would otherwise make us hold its answers without bound.
 *
 * On TCP the kernel takes a socket's writes into its send buffer at once: bytes waiting there, and
 * in a modem's queue, are out of sight. The budget sees the uplink's queue only where uploads are
 * paced in the process, a little under the uplink: WebTorrent's `uploadLimit` (client.throttleUpload;
 * its burst bounded by patches/client-throttle.ts). Its queue is counted as unsent bytes; it is not
 * "stuck" (its bytes are not in the connection: they wait their turn).
 *
 * Wires whose connection does not count bytes (WebRTC) are left out: their requests are admitted,
 * and only their own buffer is bounded (watchBuffer).
 * The budget is per torrent, so the broadcaster's own relay policy and the swarm both see the same
 * signal: a saturated peer sheds load to its neighbours.
 */

/** Accepted requests are served within about this long (at the measured drain rate). */
export const TARGET_QUEUE_MS = 250
/**
 * The queue bound when the rate is low or unknown (one 16 KiB block; a fresh peer knows no rate yet).
 * Small on purpose: an uplink shared by many transfers finishes them all late (each flow gets a
 * share), and a piece that is late everywhere is relayed by nobody.
 */
export const MIN_QUEUE_BYTES = 16 * 1024
/**
 * A request is refused, idle uplink or not, when the client's upload limit (the one rate this peer
 * knows its uplink by) cannot send it with the backlog before it within this long: half the
 * requester's patience (PIECE_TIMEOUT_MS). A 16 KiB block on a 1 KB/s limit takes 16 s: the
 * requester would cancel it at 10 s and the uplink would have carried it for nothing.
 */
export const MAX_SERVE_MS = PIECE_TIMEOUT_MS / 2
/** A backlog this small (messages: HAVEs, HEADs) counts as an idle uplink, which admits any one request. */
export const IDLE_BYTES = 2048
/** Ticks without a byte sent on, bytes waiting, after which a connection counts as stuck (left out of the backlog). */
export const STUCK_TICKS = 4
/** How often the drain rate is measured. */
export const TICK_MS = 250
/**
 * A connection holding more than max(this, a second at the drain rate) of ours unsent is closed:
 * its peer does not read what it asks for (every answer it provokes, a HASHES page for 17 bytes,
 * a block for 17, would otherwise pile up in our memory without bound).
 */
export const MAX_UNSENT_BYTES = 2 * 1024 * 1024
/** The same for a connection that has sent nothing on for STUCK_TICKS ticks, beyond this. */
export const MAX_STUCK_BYTES = 256 * 1024

import * as patches from '../../patches/index.js'
import type { TorrentLike, WireLike } from '../../patches/index.js'
import { PIECE_TIMEOUT_MS } from './limits.js'

/** Bytes a wire handed to its connection that the connection has not sent on yet. */
const unsent = (m: Meter): number => Math.max(0, m.pushed() - (m.sent() - m.sent0))

/** A wire outside the budget: its buffer, the bytes it pushed, what had left it at the last tick, its best drain rate (B/s). */
interface Buffered { buffered: () => number, pushed: () => number, drop: () => void, lastOut: number, stuck: number, rate: number }

interface Meter { owed: () => number, pushed: () => number, sent: () => number, waiting: () => number, drop: () => void, sent0: number, lastSent: number, stuck: number }

export class UploadBudget {
  private meters = new Map<object, Meter>()
  /** Wires outside the budget (their connection counts no bytes): only what they buffer is bounded. */
  private buffers = new Map<object, Buffered>()
  private timer: ReturnType<typeof setInterval> | null = null
  /** Drain rate estimate, bytes/s. */
  rate = 0
  /** Bytes about to be sent unasked (a PUSH being read from the store, push.ts). */
  private reserved = 0
  readonly stats = { admitted: 0, rejected: 0, dropped: 0 }
  /** The client's upload limit, bytes a second (Infinity: none); known once a wire is watched. */
  private limit: () => number = () => Infinity

  /**
   * `boundByLimit`: whether requests the upload limit cannot send in time are refused (tooSlow). A
   * viewer's are (others hold what it holds); the broadcaster's are not: it is the only source of
   * each new piece, and late beats never.
   */
  constructor (private readonly boundByLimit: () => boolean = () => true) {}

  /**
   * Puts a wire of `torrent` under the budget: its bytes are counted and the REQUESTs it receives
   * are admitted or rejected (a wire whose connection does not count bytes, WebRTC, is left out).
   */
  watch (torrent: TorrentLike, wire: WireLike): void {
    if (this.meters.size === 0 && this.buffers.size === 0) this.limit = patches.uploadLimit(torrent.client)
    const conn = patches.connBytes(torrent, wire)
    if (!conn) { this.watchBuffer(wire); return }
    this.add(wire, patches.owedBytes(wire), patches.countPushed(wire), conn.sent, conn.waiting, () => wire.destroy())
    patches.admitRequests(wire, (length) => this.admit(length))
    wire.once('close', () => this.remove(wire))
  }

  /**
   * Counts `wire`: `owed()` bytes admitted and not answered yet, `pushed()` bytes it handed to its
   * connection, `sent()` bytes the connection handed on.
   */
  private add (wire: object, owed: () => number, pushed: () => number, sent: () => number, waiting: () => number, drop: () => void): void {
    const s = sent()
    this.meters.set(wire, { owed, pushed, sent, waiting, drop, sent0: s, lastSent: s, stuck: 0 })
    this.startTicking()
  }

  /**
   * A wire whose connection counts no bytes (WebRTC) is left out of the budget, but not out of the
   * bound on what we hold for it: its own buffer closes it past MAX_STUCK_BYTES once nothing has
   * left it for STUCK_TICKS ticks, or past max(MAX_UNSENT_BYTES, two seconds at the best rate it
   * drained at). Its requests are admitted without the budget, so a fast peer may legitimately
   * have megabytes on their way.
   */
  private watchBuffer (wire: WireLike): void {
    this.buffers.set(wire, { buffered: patches.wireBuffered(wire), pushed: patches.countPushed(wire), drop: () => wire.destroy(), lastOut: 0, stuck: 0, rate: 0 })
    this.startTicking()
    wire.once('close', () => this.remove(wire))
  }

  private startTicking (): void {
    if (this.timer) return
    this.timer = setInterval(() => this.tick(), TICK_MS)
    this.timer.unref?.()
  }

  private remove (wire: object): void {
    this.meters.delete(wire)
    this.buffers.delete(wire)
    if (this.meters.size === 0 && this.buffers.size === 0 && this.timer) { clearInterval(this.timer); this.timer = null }
  }

  close (): void {
    this.meters.clear()
    this.buffers.clear()
    if (this.timer) clearInterval(this.timer)
    this.timer = null
  }

  /** Bytes promised (admitted requests) or handed to connections, and not yet on their way (stuck connections left out). */
  backlog (): number {
    let b = this.reserved
    for (const m of this.meters.values()) if (m.stuck < STUCK_TICKS) b += m.owed() + unsent(m)
    return b
  }

  /** `n` bytes will be handed to a wire soon (a PUSH read from the store); −n once they are. */
  reserve (n: number): void { this.reserved = Math.max(0, this.reserved + n) }

  /**
   * Whether the uplink holds as much as it can send soon (the relay policy's fallbacks and PUSH wait
   * then). Deliberately looser than admit() by one block: a broadcaster that waited whenever a
   * block would be rejected pushed half as often and deferred fallbacks six times as often, and the
   * lab's continuity at 50 viewers fell from 0.93–0.99 to 0.84.
   */
  full (): boolean {
    return this.backlog() >= Math.max(MIN_QUEUE_BYTES, this.rate * TARGET_QUEUE_MS / 1000)
  }

  /**
   * Whether a request of `length` bytes fits now: once it is added, the backlog stays within what
   * the uplink sends soon; an idle uplink (≤ IDLE_BYTES of messages on their way) takes any one
   * request whatever its rate. A narrow uplink thus serves one piece at a time at its whole rate
   * instead of two at half.
   */
  private fits (length: number): boolean {
    const backlog = this.backlog()
    if (this.tooSlow(length, backlog)) return false
    return backlog <= IDLE_BYTES || backlog + length <= Math.max(MIN_QUEUE_BYTES, this.rate * TARGET_QUEUE_MS / 1000)
  }

  /**
   * How long the backlog takes to leave at the rate this uplink drains (the lower of the measured
   * rate and the client's limit), ms; 0 when neither is known. A requester whose own queue is long
   * has its REQUESTs waiting in it: its peers are not late, it is (peer-policy.ts, TIMEOUT).
   */
  queuedMs (): number {
    const limit = this.limit()
    const rate = this.rate > 0 ? Math.min(this.rate, limit) : limit
    if (!(rate > 0) || !Number.isFinite(rate)) return 0
    return this.backlog() * 1000 / rate
  }

  /** Whether the client's upload limit cannot send `length` more bytes, behind the backlog, within MAX_SERVE_MS (a PUSH is not sent then either). */
  tooSlow (length: number, backlog = this.backlog()): boolean {
    return this.boundByLimit() && (backlog + length) * 1000 > this.limit() * MAX_SERVE_MS
  }

  /** Whether a new request of `length` bytes is admitted (fits()); counted. */
  admit (length = 0): boolean {
    const ok = this.fits(length)
    if (ok) this.stats.admitted++; else this.stats.rejected++
    return ok
  }

  private tick (): void {
    let drained = 0
    for (const m of this.meters.values()) {
      const s = m.sent()
      drained += Math.max(0, s - m.lastSent)
      // Bytes held in the connection itself, not in an upload throttle before it: a throttle's
      // queue may wait its turn for a second or more, and is the backlog this budget is about.
      m.stuck = s === m.lastSent && m.waiting() > 0 ? m.stuck + 1 : 0
      m.lastSent = s
      const u = unsent(m)
      if (u > Math.max(MAX_UNSENT_BYTES, this.rate) || (m.stuck >= STUCK_TICKS && u > MAX_STUCK_BYTES)) { this.stats.dropped++; m.drop() }
    }
    for (const b of this.buffers.values()) {
      const held = b.buffered()
      const out = b.pushed() - held
      b.stuck = out === b.lastOut && held > 0 ? b.stuck + 1 : 0
      b.rate = Math.max(0.9 * b.rate, (out - b.lastOut) * 1000 / TICK_MS)
      b.lastOut = out
      if (held > Math.max(MAX_UNSENT_BYTES, 2 * b.rate) || (b.stuck >= STUCK_TICKS && held > MAX_STUCK_BYTES)) { this.stats.dropped++; b.drop() }
    }
    const measured = drained * 1000 / TICK_MS
    if (this.backlog() >= MIN_QUEUE_BYTES) this.rate = this.rate === 0 ? measured : 0.7 * this.rate + 0.3 * measured
    else this.rate = Math.max(this.rate, measured)
  }
}
