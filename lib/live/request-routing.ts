/**
 * Which peer we ask for a block, beyond WebTorrent's own choice: a peer that REJECTed a request
 * (its uplink is full, see upload-budget.ts) is left alone for REJECTED_BACKOFF_MS, and a peer whose
 * requests timed out after it had served us (slow, not hostile: see peer-policy.ts) is asked only
 * for pieces no other peer offers, for SLOW_PEER_MS. Consulted through patches.filterRequests.
 */
import * as patches from '../../patches/index.js'
import type { TorrentLike, WireLike } from '../../patches/index.js'
import { REJECTED_BACKOFF_MS, SLOW_PEER_MS } from './limits.js'

/** How long otherHolder() trusts what it saw (WebTorrent asks about the same piece for every wire per update). */
const HOLDERS_MEMO_MS = 25
/** Pieces remembered by the memo at most. */
const MAX_MEMO = 4096

export class RequestRouting {
  private slowUntil = new WeakMap<object, number>()
  private rejectedUntil = new WeakMap<object, number>()
  private holders = new Map<number, { at: number, good: WireLike[] }>()
  private wake: ReturnType<typeof setTimeout> | null = null
  private wakeAt = 0

  constructor (private readonly torrent: TorrentLike) {}

  /** The peer rejected a request of ours. */
  rejected (wire: WireLike): void {
    const until = Date.now() + REJECTED_BACKOFF_MS
    this.rejectedUntil.set(wire, until)
    // When the back-off ends, nothing else may wake WebTorrent's scheduler (a source that waits
    // for us sends no new HAVE): ask it to run again then, or the rejected blocks are never re-asked.
    this.wakeAt = Math.max(this.wakeAt, until)
    if (!this.wake) this.armWake()
  }

  /** One timer: fires when the latest back-off ends (re-armed if a later one began meanwhile). */
  private armWake (): void {
    this.wake = setTimeout(() => {
      this.wake = null
      patches.requestUpdate(this.torrent)
      if (this.wakeAt > Date.now()) this.armWake()
    }, Math.max(1, this.wakeAt - Date.now() + 1))
    this.wake.unref?.()
  }

  /** The peer's requests timed out, after it had served us. */
  slow (wire: WireLike): void {
    this.slowUntil.set(wire, Date.now() + SLOW_PEER_MS)
  }

  /** Whether WebTorrent may ask `wire` for a block of piece `index` now. */
  mayRequest (wire: WireLike, index: number): boolean {
    const now = Date.now()
    const rejected = this.rejectedUntil.get(wire)
    if (rejected !== undefined) {
      if (rejected > now) return false
      this.rejectedUntil.delete(wire)
    }
    const slow = this.slowUntil.get(wire)
    if (slow === undefined) return true
    if (slow < now) { this.slowUntil.delete(wire); return true }
    return !this.otherHolder(wire, index)
  }

  /** Whether a wire other than `but` that we may ask now (not choking us, not backed off) holds `index`. */
  private otherHolder (but: WireLike, index: number): boolean {
    const now = Date.now()
    let m = this.holders.get(index)
    if (!m || m.at < now - HOLDERS_MEMO_MS) {
      const good: WireLike[] = []
      for (const w of this.torrent.wires) {
        if (w.destroyed || w.peerChoking || !w.peerPieces.get(index)) continue
        if ((this.slowUntil.get(w) ?? 0) > now || (this.rejectedUntil.get(w) ?? 0) > now) continue
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
