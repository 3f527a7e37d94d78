/**
 * Which peer we ask for a block, beyond WebTorrent's own choice: a peer that REJECTed a request
 * (its uplink is full, see upload-budget.ts) is left alone for REJECTED_BACKOFF_MS, doubled for each
 * further REJECT in a row up to MAX_REJECTED_BACKOFF_MS, and a peer whose
 * requests timed out after it had served us (slow, not hostile: see peer-policy.ts) is asked only
 * for pieces no other peer offers, for SLOW_PEER_MS. So is, always, a last-resort peer: for a
 * viewer, the broadcaster (spec §8 "Relaying"), so that the swarm serves whatever it
 * holds and the source's uplink goes to pieces nobody else can give yet. Consulted through
 * patches.filterRequests.
 */
import * as patches from '../../patches/index.js'
import type { TorrentLike, WireLike } from '../../patches/index.js'
import { HOLDER_STUCK_MS, LAST_RESORT_MS, MAX_REJECTED_BACKOFF_MS, REJECTED_BACKOFF_MS, SLOW_PEER_MS } from './limits.js'

/** How long otherHolder() trusts what it saw (WebTorrent asks about the same piece for every wire per update). */
const HOLDERS_MEMO_MS = 25
/** Pieces remembered by the memo at most. */
const MAX_MEMO = 4096

export class RequestRouting {
  private slowUntil = new WeakMap<object, number>()
  /** Per wire that rejected us: until when it is left alone, REJECTs in a row (no block from it since the first), its download count then. */
  private rejects = new WeakMap<object, { until: number, n: number, downloaded: number }>()
  private holders = new Map<number, { at: number, good: WireLike[] }>()
  /**
   * When a piece last became ours (or, if we held the newest piece then, when we were next refused
   * the source: we were not waiting in between). A last-resort peer may be asked for anything
   * once this is LAST_RESORT_MS old.
   */
  private progressAt = Date.now()
  private caughtUp = false
  /** Per wire holding requests of ours: its byte count when last seen, and since when it has not moved. */
  private sitting = new WeakMap<object, { bytes: number, since: number }>()
  private wake: ReturnType<typeof setTimeout> | null = null
  private wakeTime = Infinity

  /** Peers asked only for pieces no other peer we may ask now holds (and not ranked by WebTorrent: patches P13). */
  private readonly lastResorts = new Set<WireLike>()

  constructor (private readonly torrent: TorrentLike) {
    patches.lastResort(torrent, this.lastResorts)
    torrent.on('verified', (index: number) => {
      this.progressAt = Date.now()
      this.caughtUp = index === torrent.pieces.length - 1
    })
  }

  /** Whether `wire` is asked last (a viewer's broadcaster); until it closes. */
  setLastResort (wire: WireLike, last: boolean): void {
    if (!last || wire.destroyed) { this.lastResorts.delete(wire); return }
    if (this.lastResorts.has(wire)) return
    this.lastResorts.add(wire)
    wire.once('close', () => this.lastResorts.delete(wire))
  }

  /** The peer rejected a request of ours. */
  rejected (wire: WireLike): void {
    // REJECTs of requests sent together (a pipeline) arrive together: one refusal, one back-off.
    let r = this.rejects.get(wire)
    if (r && r.until > Date.now()) return
    if (!r || r.downloaded !== wire.downloaded) this.rejects.set(wire, r = { until: 0, n: 0, downloaded: wire.downloaded })
    r.n++
    const until = r.until = Date.now() + Math.min(MAX_REJECTED_BACKOFF_MS, REJECTED_BACKOFF_MS * 2 ** Math.min(r.n - 1, 16))
    // When the back-off ends, nothing else may wake WebTorrent's scheduler (a source that waits
    // for us sends no new HAVE): ask it to run again then, or the rejected blocks are never re-asked.
    this.wakeUp(until)
  }

  /**
   * Runs WebTorrent's scheduler at `t`. One timer, at the earliest time asked for: every refusal
   * (mayRequest) asks for its own end again, so the pass at the earliest re-arms the later ones.
   */
  private wakeUp (t: number): void {
    if (this.wake && this.wakeTime <= t) return
    if (this.wake) clearTimeout(this.wake)
    this.wakeTime = t
    this.wake = setTimeout(() => {
      this.wake = null
      this.wakeTime = Infinity
      patches.requestUpdate(this.torrent)
    }, Math.max(1, t - Date.now() + 1))
    this.wake.unref?.()
  }

  /** The peer's requests timed out, after it had served us. */
  slow (wire: WireLike): void {
    this.slowUntil.set(wire, Date.now() + SLOW_PEER_MS)
  }

  /** Whether WebTorrent may ask `wire` for a block of piece `index` now. */
  mayRequest (wire: WireLike, index: number): boolean {
    const now = Date.now()
    const rejected = this.rejects.get(wire)?.until ?? 0
    if (rejected > now) { this.wakeUp(rejected); return false }
    let slow = this.slowUntil.get(wire)
    if (slow !== undefined && slow < now) { this.slowUntil.delete(wire); slow = undefined }
    if (slow !== undefined) return !this.otherHolder(wire, index)
    if (!this.lastResorts.has(wire) || !this.otherHolder(wire, index)) return true
    // Another holder may be asked: it should be. But if no piece has become ours for
    // LAST_RESORT_MS, the swarm is not serving us (WebTorrent does not ask that holder, or it
    // is slow): the source may, and the scheduler is woken then to ask it. A viewer that held
    // the newest piece was not waiting: its clock starts now (on a slow stream pieces come
    // seconds apart, and the source would otherwise always serve). Counting from the first
    // refusal instead lost continuity in the lab (55 connections: 0.44-0.52 against 0.67-0.80).
    if (this.caughtUp) { this.caughtUp = false; this.progressAt = now }
    const stalled = this.progressAt + LAST_RESORT_MS
    if (now >= stalled) return true
    this.wakeUp(Math.min(stalled, now + HOLDER_STUCK_MS)) // and again when the holder may count as stuck
    return false
  }

  /**
   * Whether `w` holds requests of ours and has sent us no byte for HOLDER_STUCK_MS: it is not a
   * holder to wait for (a peer that sits on requests is dropped only after PIECE_TIMEOUT_MS).
   */
  private stuck (w: WireLike, now: number): boolean {
    if (w.requests.length === 0) { this.sitting.delete(w); return false }
    const s = this.sitting.get(w)
    if (!s || s.bytes !== w.downloaded) { this.sitting.set(w, { bytes: w.downloaded, since: now }); return false }
    return now - s.since >= HOLDER_STUCK_MS
  }

  /** Whether a wire other than `but` that we may ask now (not choking us, not backed off) holds `index`. */
  private otherHolder (but: WireLike, index: number): boolean {
    const now = Date.now()
    let m = this.holders.get(index)
    if (!m || m.at < now - HOLDERS_MEMO_MS) {
      const good: WireLike[] = []
      for (const w of this.torrent.wires) {
        if (w.destroyed || w.peerChoking || !w.peerPieces.get(index)) continue
        if ((this.slowUntil.get(w) ?? 0) > now || (this.rejects.get(w)?.until ?? 0) > now) continue
        if (this.stuck(w, now)) continue
        good.push(w)
        if (good.length === 2) break
      }
      if (this.holders.size >= MAX_MEMO) this.holders.clear()
      m = { at: now, good }
      this.holders.set(index, m)
    }
    return m.good.length === 2 || (m.good.length === 1 && m.good[0] !== but)
  }
}
