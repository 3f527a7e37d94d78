/**
 * Hash-page sync: the piece hashes a head's tail did not carry, fetched in pages (HASH_REQUEST →
 * HASHES or HASH_REJECT) and verified backwards from the verified ones (StreamState.acceptPage:
 * each page must chain into the hashes above it). Also answers other peers' HASH_REQUESTs.
 */
import createDebug from 'debug'
import { MAX_PAGE_HASHES, PIECE_HASH_BYTES } from '../protocol/constants.js'
import type { Peer } from './peer.js'
import type { LiveTorrent } from './live-torrent.js'
import { MAX_LATE_PAGES, PAGES_IN_FLIGHT, PAGE_RETRY_MS, PAGE_TIMEOUT_MS } from './limits.js'

const debug = createDebug('webtorrent-live:pages')

interface PageRequest { peer: Peer, start: number, count: number, timer: ReturnType<typeof setTimeout> }

export class PageSync {
  /** Pages asked for, by the index they end at. */
  private pages = new Map<number, PageRequest>()
  /** Requests each peer let time out (the newest MAX_LATE_PAGES): a late answer is ignored, not banned. */
  private late = new WeakMap<Peer, string[]>()
  /** Pages received before the page above them: at most PAGES_IN_FLIGHT per gap, 10 KiB each. */
  private early = new Map<number, { peer: Peer, start: number, anchor: Uint8Array, hashes: Uint8Array }>()

  constructor (private readonly live: LiveTorrent) {}

  /** Asks for the pages this viewer still lacks, from peers that hold them. */
  request (): void {
    const live = this.live
    const state = live.state
    if (!state || live.role !== 'viewer' || live.destroyed || live.startPiece === null || state.evidence.length > 0) return
    // While live, only the hashes this viewer will download; after the end, all of them: the
    // final info dict is built from every piece hash, and then checked against the signed end.
    const floor = Math.max(live.window.floor, state.ended || live.headPieces > 0 ? 0 : live.startPiece)
    // Pages are verified backwards (each must end where verified hashes begin), but several are
    // asked for at once, from different peers: a reply that cannot be placed yet waits in
    // `early` until the page above it is in. One page per round trip was the catch-up limit
    // (a HASHES reply queues behind the piece data the same peer is sending us).
    for (const [a, b] of state.log.gaps(state.count)) {
      if (b <= floor) continue
      let end = b
      for (let k = 0; k < PAGES_IN_FLIGHT && end > a && end > floor; k++) {
        const start = Math.max(a, end - MAX_PAGE_HASHES)
        if (!this.pages.has(end) && !this.early.has(end)) {
          const need = end
          const candidates = [...live.peers].filter((p) => p.supported && p.knownCount >= need && !p.wire.destroyed)
          if (candidates.length === 0) break
          const peer = candidates[Math.floor(Math.random() * candidates.length)]!
          const timer = setTimeout(() => this.onTimeout(peer, need, start), PAGE_TIMEOUT_MS)
          this.pages.set(end, { peer, start, count: end - start, timer })
          debug('ask %s for hashes [%d, %d)', peer.peerId, start, end)
          peer.send({ type: 'hash-request', start, count: end - start })
        }
        end = start
      }
    }
  }

  /** A peer's HASH_REQUEST: the page, or HASH_REJECT if we lack it (or it asked too often). */
  onRequest (peer: Peer, start: number, count: number): void {
    const state = this.live.state
    // Not beyond our head: a broadcaster's log holds the hashes of a head still being made durable.
    const hashes = start + count <= (state?.head?.count ?? 0) ? state!.log.range(start, start + count) : null
    const anchor = hashes ? state!.log.chainAt(start) : null
    if (!hashes || !anchor || !peer.mayGetPage()) return peer.send({ type: 'hash-reject', start, count })
    peer.send({ type: 'hashes', start, anchor, hashes })
  }

  onHashes (peer: Peer, start: number, anchor: Uint8Array, hashesFlat: Uint8Array): void {
    const count = hashesFlat.length / PIECE_HASH_BYTES
    const end = start + count
    const req = this.pages.get(end)
    if (!req || req.peer !== peer || req.start !== start) {
      // Spec §8: an answer to a request that timed out is ignored; one never asked for is abuse.
      const late = this.late.get(peer)
      const i = late ? late.indexOf(`${start}+${count}`) : -1
      if (late && i !== -1) { late.splice(i, 1); return }
      return this.live.onPeerFault(peer, 'BAD_FIELD', 'unsolicited hash page')
    }
    clearTimeout(req.timer)
    this.pages.delete(end)
    this.early.set(end, { peer, start, anchor, hashes: hashesFlat })
    this.place()
    this.request()
    this.live.maybeFinish()
  }

  onReject (peer: Peer, start: number, count: number): void {
    const req = this.pages.get(start + count)
    if (!req || req.peer !== peer) return
    clearTimeout(req.timer)
    this.pages.delete(start + count)
    // Not from this peer for now; but a peer that is itself catching up will hold these hashes
    // soon, and it sends no newer head once the stream has ended: ask it again after a while.
    debug('%s rejected hashes [%d, %d)', peer.peerId, start, start + count)
    this.askOthersFirst(peer, start)
  }

  /**
   * A page not answered in time: ask the others first, but not forever — a busy peer (its reply
   * queued behind the piece data it sends us) is asked again after PAGE_RETRY_MS. Without that, a
   * stream that stops growing left a viewer whose only peer timed out once without those hashes.
   */
  private onTimeout (peer: Peer, end: number, start: number): void {
    this.pages.delete(end)
    const late = this.late.get(peer) ?? []
    late.push(`${start}+${end - start}`)
    if (late.length > MAX_LATE_PAGES) late.shift()
    this.late.set(peer, late)
    debug('%s did not answer hashes [%d, %d)', peer.peerId, start, end)
    this.askOthersFirst(peer, start)
  }

  /** Pages below `start` go to other peers for now; `peer` is asked again after PAGE_RETRY_MS. */
  private askOthersFirst (peer: Peer, start: number): void {
    peer.askOthersFirst(start, PAGE_RETRY_MS, () => { if (!this.live.destroyed) this.request() })
    this.request()
  }

  /** Applies every received page that now ends where verified hashes begin (newest first). */
  private place (): void {
    const live = this.live
    const state = live.state
    if (!state) return
    for (let progress = true; progress && this.early.size > 0;) {
      progress = false
      for (const [end, pg] of this.early) {
        if (!state.log.intervals.some((iv) => iv.start === end)) continue // not placeable yet
        this.early.delete(end)
        const v = state.acceptPage(pg.start, pg.anchor, pg.hashes)
        if (!v.ok) {
          if (v.code === 'EQUIVOCATION') { this.early.clear(); live.onEquivocation(v.reason, v.evidence); return }
          if (v.code === 'BAD_CHAIN') live.onPeerFault(pg.peer, v.code, v.reason)
          continue
        }
        live.stats.pagesReceived++
        live.learnHashes(pg.start, end)
        live.notify()
        progress = true
      }
    }
  }

  /** The peer's wire closed: its pages in flight are asked of others. */
  forget (peer: Peer): void {
    for (const [end, r] of this.pages) if (r.peer === peer) { clearTimeout(r.timer); this.pages.delete(end) }
  }

  close (): void {
    for (const r of this.pages.values()) clearTimeout(r.timer)
    this.pages.clear()
    this.early.clear()
  }
}
