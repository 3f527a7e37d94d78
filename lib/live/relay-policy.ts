/**
 * The broadcaster's relay policy: the swarm, not the source, carries the live edge. It is BEP 16
 * super-seeding applied to each new piece. HEADs still go to every peer at once (they tell a viewer
 * that the piece exists and give its hash). What is held back is the broadcaster's HAVE, the only
 * thing that makes a viewer REQUEST a piece from the broadcaster:
 *
 *   new piece i ──HAVE──▶ the first tier: `tier` peers (1 to MAX_TIER), rotating over the wires
 *                └─ each verifies i and sends HAVE to all its peers (ordinary BitTorrent): every
 *                   viewer connected to one of them fetches i from it, and so on through the mesh
 *   a wire that has not announced i FALLBACK_MS after it aired ──HAVE──▶ that wire (the source is
 *                   the last resort, per wire: a viewer the swarm did not reach in time)
 *
 * Fallbacks wait while the broadcaster's uplink is full (its upload budget, upload-budget.ts), so
 * they never queue behind each other; after MAX_HOLD_MS a piece goes to every wire regardless.
 *
 * Who is first: mostly the peers whose earlier pieces reached the most wires before the fallback
 * (a wide uplink relays to many in time), one pick in EXPLORE in rotation so that every peer is tried.
 *
 * The tier adapts (`tierBy`), on an average (EWMA) per piece: above HIGH the next pieces are seeded
 * to one more peer, below LOW to one fewer. Of what:
 *   'reach' (default)  wires that still lacked the piece at its fallback: the swarm is slow to reach
 *                      them, so more first-hand copies start it sooner (favours continuity)
 *   'copies'           copies the broadcaster uploaded beyond its first tier's, counted COUNT_MS
 *                      after the piece aired: a fallback HAVE costs a copy only if the viewer asks
 *                      (it asks the source last: request-routing.ts); favours the source's uplink
 * So the source uploads about `tier + extra` copies of each piece, whatever the number of viewers,
 * and never leaves a viewer waiting longer than FALLBACK_MS to be told of a piece. The two measured
 * (lab, 30 viewers, 55 connections, 256 kbit/s in 16 KiB pieces, back to back): 'reach' source
 * 3.3–3.6×, continuity 0.987–0.994 (3 s buffer), lag p50 1.25–1.45 s; 'copies' 2.0–2.4×, 0.940–0.983,
 * 1.7–2.2 s. Fewer first-hand copies mean more hops: a 16 KiB piece takes 341 ms to send on a 1.5×
 * uplink, and each hop costs about that.
 *
 * A first-tier peer that accepts PUSH (spec §7.9, push.ts) is pushed the piece instead of told
 * of it: the HAVE → REQUEST → PIECE round trip saved on the first hop. Every other announcement is
 * a HAVE (ordinary REQUEST/PIECE): a peer is never told a piece the broadcaster does not hold,
 * only told later. With few wires (≤ FULL_FANOUT) everyone is told at once: there is no swarm to
 * relay through. Wires that connect later get the whole bitfield (as from any seeder); after the
 * end the broadcaster is a plain seeder.
 */

import type { TorrentLike, WireLike } from '../../patches/index.js'

export interface RelayOptions {
  /** Whether the broadcaster's uplink is full now (the torrent's upload budget): fallbacks wait. */
  busy?: () => boolean
  /** Off: every new piece is announced to every wire at once (the behaviour before the policy). */
  enabled?: boolean
  /** A wire the swarm has not served a piece this long after it aired gets it from the source (ms). */
  fallbackMs?: number
  /** The first tier grows up to this many peers a piece (default MAX_TIER). */
  maxTier?: number
  /** What grows the first tier: 'reach' (default), wires unreached at the fallback; 'copies', copies uploaded beyond it. */
  tierBy?: 'reach' | 'copies'
  /** Pushes piece `index` to `wire` if it accepts pushes (push.ts); false: nothing sent, HAVE instead. */
  push?: (wire: WireLike, index: number) => boolean
  /** Sends the current head to `wire` if it knows no head covering piece `index`: called before each HAVE or push of a new piece. */
  head?: (wire: WireLike, index: number) => void
}

/** At most this many wires: HAVE to all at once (no swarm worth relaying through). */
export const FULL_FANOUT = 3
/** The first tier never grows beyond this many peers per piece. */
export const MAX_TIER = 4
/** Default FALLBACK_MS: well inside a 3 s playback buffer, long enough for a few hops. */
export const FALLBACK_MS = 1500
/** A piece is announced to every wire this long after it aired, busy uplink or not. */
export const MAX_HOLD_MS = 4 * FALLBACK_MS
/** How often held pieces are checked for wires that still lack them. */
export const SWEEP_MS = 100
/** One first-tier pick in this many is by rotation, not by score (every peer gets tried). */
export const EXPLORE = 4
/** Average unreached wires or extra copies per piece (EWMA, see `tierBy`) above which the tier grows, and below which it shrinks. */
export const HIGH = 1
export const LOW = 0.25
/** Of a head that brings many pieces at once, only the newest this many are pushed (the rest: HAVE). */
export const PUSH_NEWEST = 4
/** Pieces held back at once, at most (the oldest are released to everyone first). */
export const MAX_HELD = 4096
/** A piece's copies from the broadcaster are counted this long after it aired (late requests are in). */
export const COUNT_MS = MAX_HOLD_MS

interface Held { t0: number, told: Set<WireLike> }
/** One piece's copies from here: told first-hand (`first`, of them `pushed`), bytes served on request. */
interface Copies { t0: number, tier: number, first: number, pushed: number, bytes: number }

export class RelayPolicy {
  private readonly torrent: TorrentLike
  private readonly fallbackMs: number
  private readonly maxTier: number
  private readonly byCopies: boolean
  private readonly busy: () => boolean
  private readonly push: (wire: WireLike, index: number) => boolean
  private readonly head: (wire: WireLike, index: number) => void
  private held = new Map<number, Held>()
  private turn = 0
  private rotation = 0
  /** Per wire: the share of other wires that held the pieces it was first told of, by their fallback (EWMA). */
  private score = new WeakMap<WireLike, number>()
  private open: boolean
  private timer: ReturnType<typeof setInterval> | null = null
  private ewma = 0
  /** Per recent piece: the copies the broadcaster uploaded, counted COUNT_MS after it aired. */
  private copies = new Map<number, Copies>()
  /** Peers told of each new piece first (adapts between 1 and MAX_TIER). */
  tier = 1
  /**
   * Counters: pieces seeded through a first tier, copies announced first-hand (pushed: of them, by
   * PUSH), fallbacks (per wire), and copies: of the seeded pieces, the copies the broadcaster
   * uploaded (pushed or requested, counted COUNT_MS after each aired).
   */
  readonly stats = { seeded: 0, firstHand: 0, pushed: 0, fallbacks: 0, toAll: 0, deferred: 0, copies: 0 }

  constructor (torrent: TorrentLike, opts: RelayOptions = {}) {
    this.torrent = torrent
    this.open = opts.enabled !== false
    this.fallbackMs = Math.max(0, opts.fallbackMs ?? FALLBACK_MS)
    this.maxTier = Math.max(1, Math.floor(opts.maxTier ?? MAX_TIER))
    this.byCopies = opts.tierBy === 'copies'
    this.busy = opts.busy ?? (() => false)
    this.push = opts.push ?? (() => false)
    this.head = opts.head ?? (() => {})
    torrent.once('close', () => this.stop())
    // Admitted REQUESTs (the upload budget has passed them): what each counted piece costs.
    const watch = (w: WireLike): void => {
      w.on('request', (i: number, _offset: number, length: number) => {
        const c = this.copies.get(i)
        if (c) c.bytes += length
      })
    }
    for (const w of torrent.wires) watch(w)
    torrent.on('wire', watch)
  }

  /** A new piece is stored and verified here: tell the first tier (or everyone, see FULL_FANOUT). */
  announce (index: number): void {
    const wires = this.torrent.wires.filter((w) => !w.destroyed && !w.peerPieces.get(index))
    if (!this.open || wires.length <= FULL_FANOUT) {
      this.stats.toAll++
      for (const w of wires) this.firstHand(w, index)
      return
    }
    // Any wire we unchoke: a HAVE makes an uninterested viewer interested (one that is fed by
    // other viewers is not interested in us, and would otherwise never be in the first tier).
    const unchoked = wires.filter((w) => !w.amChoking)
    const pool = unchoked.length > 0 ? unchoked : wires
    const told = this.pickTier(pool)
    let pushed = 0
    for (const w of told) if (this.firstHand(w, index)) pushed++
    this.count(index, told.size, pushed)
    this.stats.seeded++
    this.stats.firstHand += told.size
    while (this.held.size >= MAX_HELD) this.release(this.held.keys().next().value as number, false)
    this.held.set(index, { t0: Date.now(), told })
    if (!this.timer) {
      this.timer = setInterval(() => this.sweep(), SWEEP_MS)
      this.timer.unref?.()
    }
  }

  /**
   * The piece goes to `w` first-hand: pushed if it accepts pushes and the uplink has room (a push
   * is counted in the budget at once), else a HAVE, whose REQUEST the budget admits or rejects as
   * any other. (Pushing regardless queued seconds of pushes before every answer: requesters timed
   * out and banned the source.)
   */
  private firstHand (w: WireLike, index: number): boolean {
    this.head(w, index)
    const newest = index >= this.torrent.pieces.length - PUSH_NEWEST
    if (newest && !this.busy() && this.push(w, index)) { this.stats.pushed++; return true }
    w.have(index)
    return false
  }

  /** Starts counting what piece `index` costs the broadcaster: its first-hand copies, then requests served. */
  private count (index: number, first: number, pushed: number): void {
    while (this.copies.size >= MAX_HELD) this.copies.delete(this.copies.keys().next().value as number)
    this.copies.set(index, { t0: Date.now(), tier: this.tier, first, pushed, bytes: 0 })
  }

  /** Serve as a plain seeder from now on (the end, or close): every held piece goes to everyone. */
  stop (): void {
    this.open = false
    for (const i of [...this.held.keys()]) this.release(i, false)
    this.copies.clear()
    if (this.timer) clearInterval(this.timer)
    this.timer = null
  }

  /** Pieces whose fallback time has come: every wire still lacking them hears of them from here. */
  private sweep (): void {
    const now = Date.now()
    for (const [index, h] of this.held) {
      if (h.t0 > now - this.fallbackMs) break // insertion order is airing order
      // An uplink already full would only queue the fallback copies behind others: they wait
      // (the swarm may serve those wires meanwhile), up to MAX_HOLD_MS.
      if (this.busy() && h.t0 > now - MAX_HOLD_MS) { this.stats.deferred++; break }
      this.release(index, true)
    }
    for (const [index, c] of this.copies) {
      if (c.t0 > now - COUNT_MS) break
      this.copies.delete(index)
      const copies = c.pushed + c.bytes / this.torrent.pieceLength
      this.stats.copies += copies
      if (this.byCopies && c.tier === this.tier) this.adapt(copies - c.first)
    }
    if (this.held.size === 0 && this.copies.size === 0 && this.timer) { clearInterval(this.timer); this.timer = null }
  }

  /**
   * The first tier for one piece: mostly the peers whose pieces reached the most wires before the
   * fallback (they relay well: a wide uplink, good neighbours), one turn in EXPLORE at random or in
   * rotation, and peers never tried first (optimistically scored 1).
   */
  private pickTier (pool: WireLike[]): Set<WireLike> {
    const told = new Set<WireLike>()
    const n = Math.min(this.tier, pool.length)
    const ranked = [...pool].sort((a, b) => (this.score.get(b) ?? 1) - (this.score.get(a) ?? 1))
    for (let k = 0; told.size < n && k < ranked.length; k++) {
      if (this.rotation++ % EXPLORE === 0) {
        this.turn = (this.turn + 1) % pool.length
        told.add(pool[this.turn]!)
      }
      if (told.size < n) told.add(ranked[k]!)
    }
    return told
  }

  private release (index: number, adapt: boolean): void {
    const h = this.held.get(index)
    if (!h) return
    this.held.delete(index)
    let late = 0
    let covered = 0
    for (const w of this.torrent.wires) {
      if (w.destroyed || h.told.has(w)) continue
      if (w.peerPieces.get(index)) { covered++; continue }
      this.head(w, index)
      w.have(index)
      late++
    }
    this.stats.fallbacks += late
    if (!adapt) return
    // What the first tier achieved: the share of the other wires that had the piece in time.
    const share = covered + late > 0 ? covered / (covered + late) : 1
    for (const w of h.told) this.score.set(w, 0.7 * (this.score.get(w) ?? share) + 0.3 * share)
    if (!this.byCopies) this.adapt(late)
  }

  /** One piece's measure (see `tierBy`; with 'copies', only pieces aired at the current tier count). */
  private adapt (x: number): void {
    this.ewma = 0.8 * this.ewma + 0.2 * x
    const mid = (HIGH + LOW) / 2
    if (this.ewma > HIGH && this.tier < this.maxTier) { this.tier++; this.ewma = mid } else if (this.ewma < LOW && this.tier > 1) { this.tier--; this.ewma = mid }
  }
}
