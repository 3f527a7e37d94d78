/**
 * PUSH (spec §7.9, §8 "Pushing"): a new piece sent unasked to a peer that said in its extended
 * handshake that it accepts pushes (`live_push: 1`). It saves the HAVE → REQUEST → PIECE round
 * trip of a pull: one one-way delay per hop instead of three.
 *
 * Sending (the broadcaster's first tier, relay-policy.ts): the piece is read from the store and
 * sent in blocks of 16 KiB, in order and one after another, after the HEAD that proves it, then a
 * HAVE (a receiver that drops the push still knows we hold it). Forwarding: a viewer with room in
 * its uplink passes a piece pushed to it on to one neighbour, before its own HAVEs (forward()).
 *
 * Receiving, never trusting the pusher (cheapest check first):
 *   we accept pushes at all?                       no → BAD_TYPE, banned
 *   index below max(count, its claim) + MAX_PUSH_AHEAD?   no → banned
 *   (an index below count − MAX_PUSH_BEHIND is dropped unbuffered as unwanted: our count raced ahead)
 *   blocks in order, of the right length, ≤ MAX_PUSH_PARTIALS pieces open per wire?   no → banned
 *   we have it already, or do not want it (below our start or window, no hash)?   counted, dropped
 *   whole piece buffered (≤ MAX_PUSH_PIECE_BYTES), then, if its head is still being checked, after it
 *   (≤ MAX_PUSH_UNPROVEN such pieces a wire; more are dropped):
 *   proved by a verified head?   no → banned      SHA-1 = the hash log's?   no → corrupt, banned
 *   then it enters the store and becomes ours as a downloaded piece does (markHave: bitfield,
 *   'verified', HAVE to every peer), and our own requests for it are cancelled. A piece whose push
 *   has begun is not requested for PUSH_WAIT_MS, nor while it is being stored (mayRequest).
 */
import { equal } from '../protocol/bytes.js'
import { MAX_PUSH_PIECE_BYTES, PUSH_BLOCK_BYTES } from '../protocol/constants.js'
import type { ErrorCode } from '../protocol/result.js'
import { hashes } from '../crypto/index.js'
import * as patches from '../../patches/index.js'
import type { WireLike } from '../../patches/index.js'
import { FORWARD_EDGE, MAX_WASTED_PUSHES_PER_SECOND, MAX_PUSH_AHEAD, MAX_PUSH_BEHIND, MAX_PUSH_BUFFERED_BYTES, MAX_PUSH_PARTIALS, MAX_PUSH_UNPROVEN, PUSH_STALE_MS, PUSH_WAIT_MS } from './limits.js'
import type { LiveTorrent } from './live-torrent.js'
import type { Peer } from './peer.js'

/**
 * A piece being pushed to us: its bytes so far (null: consumed in order but not kept), since when,
 * and the bytes of it counted against MAX_PUSH_BUFFERED_BYTES.
 */
interface Partial { buf: Uint8Array | null, received: number, beyond: boolean, at: number, held: number }

export class PushSync {
  private readonly live: LiveTorrent
  private partials = new Map<Peer, Map<number, Partial>>()
  /** Whole pushed pieces being verified and stored: not requested meanwhile (mayRequest). */
  private verifying = new Set<number>()
  /** Pieces on their way by push (first block here, not yet checked), since when: not requested for PUSH_WAIT_MS. */
  private coming = new Map<number, number>()
  /** Per wire: whole pushed pieces waiting for the HEADs before them to be checked (≤ MAX_PUSH_UNPROVEN). */
  private unproven = new Map<Peer, number>()
  /** A viewer forwards a piece pushed to it to one neighbour (push.ts forward()). */
  forwarding = true
  /**
   * received: pieces that became ours by push; duplicates: pushed pieces we already had (or got
   * meanwhile); unwanted: pushed pieces we did not want (below our start or window, hash unknown);
   * sent / sentBytes: pieces and bytes we pushed (forwarded: of them, pieces pushed to us that we passed on);
   * unkept: pushes begun past MAX_PUSH_BUFFERED_BYTES (consumed, not kept: pulled instead);
   * bufferedBytes: held now in partly pushed pieces.
   */
  readonly stats = { received: 0, duplicates: 0, unwanted: 0, sent: 0, sentBytes: 0, forwarded: 0, unkept: 0, bufferedBytes: 0 }

  constructor (live: LiveTorrent) {
    this.live = live
  }

  /** Pushes piece `index` to `wire` if that peer accepts pushes; false (nothing sent: HAVE it instead) otherwise. */
  send (wire: WireLike, index: number): boolean {
    const live = this.live
    const peer = live.peerOf(wire)
    const store = live.torrent.store
    const length = live.pieceLength(index)
    if (!peer?.supported || !peer.acceptsPush || wire.destroyed || !store || !live.has(index)) return false
    if (length < 1 || length > MAX_PUSH_PIECE_BYTES || !peer.mayPush() || live.uploads.tooSlow(Math.min(length, PUSH_BLOCK_BYTES))) return false
    live.uploads.reserve(length) // counted as upload from now: fallbacks wait for it (upload-budget.ts)
    store.get(index, (err: Error | null, buf?: Uint8Array) => {
      live.uploads.reserve(-length)
      if (wire.destroyed) return
      if (!err && buf && buf.length >= length) this.sendBlocks(peer, index, buf.subarray(0, length))
      // Then a HAVE, as to any peer: if the push is dropped there (a duplicate, not wanted yet, over a
      // bound), the peer still knows we hold the piece. Behind the blocks, it asks for nothing meanwhile.
      wire.have(index)
    })
    return true
  }

  /** The blocks of one piece, back to back (spec §7.9). */
  private sendBlocks (peer: Peer, index: number, buf: Uint8Array): void {
    for (let begin = 0; begin < buf.length; begin += PUSH_BLOCK_BYTES) {
      peer.send({ type: 'push', index, begin, data: buf.subarray(begin, Math.min(buf.length, begin + PUSH_BLOCK_BYTES)) })
    }
    this.stats.sent++
    this.stats.sentBytes += buf.length
    this.live.emit('push-sent', index, buf.length) // for meters (the lab counts piece bytes up and down)
  }

  /** One PUSH block from `peer` (decoded: index < 2^26, begin a multiple of 16 KiB, 1..16 KiB of data). */
  onPush (peer: Peer, index: number, begin: number, data: Uint8Array): void {
    const live = this.live
    if (!live.acceptsPush) return this.fault(peer, 'BAD_TYPE', 'sent PUSH, which we did not accept in our handshake')
    if (!live.state || live.destroyed) { if (begin === 0) this.waste(peer, 'unwanted'); return } // no metadata yet
    const count = live.count
    if (index >= Math.max(count, peer.claimedCount) + MAX_PUSH_AHEAD) return this.fault(peer, 'TOO_LARGE', `pushed piece ${index}, beyond the edge (${count} pieces)`)
    // Far behind our count: sent when it was new, but our count raced ahead meanwhile (a fast stream,
    // heads from other peers): dropped unbuffered, counted as a push we did not want, never blamed.
    const behind = index + MAX_PUSH_BEHIND < count
    const beyond = index >= count // its head may still be being checked: full length until then
    const length = beyond ? live.torrent.pieceLength : live.pieceLength(index)
    if (length > MAX_PUSH_PIECE_BYTES) return this.fault(peer, 'TOO_LARGE', `pushed piece ${index} of ${length} bytes`)
    let open = this.partials.get(peer)
    if (!open) this.partials.set(peer, open = new Map())
    let p = open.get(index)
    if (!p) {
      if (begin !== 0) return this.fault(peer, 'BAD_FIELD', `pushed piece ${index} from byte ${begin}, not 0`)
      if (open.size >= MAX_PUSH_PARTIALS) return this.fault(peer, 'TOO_LARGE', `more than ${MAX_PUSH_PARTIALS} pieces pushed at once`)
      if (behind) this.waste(peer, 'unwanted')
      const buf = !behind && this.wanted(peer, index, beyond) ? this.allocate(length) : null
      p = { buf, received: 0, beyond, at: Date.now(), held: buf?.length ?? 0 }
      open.set(index, p)
      if (p.buf && !this.coming.has(index)) {
        this.coming.set(index, Date.now())
        // If the push never finishes, the piece is requested once PUSH_WAIT_MS is over: nudge the
        // scheduler then (with no HAVE or block arriving meanwhile, nothing else would, and a
        // stalled pusher at the end of a stream would leave the piece unasked for ever).
        const t = setTimeout(() => { if (!live.destroyed && !live.has(index)) patches.requestUpdate(live.torrent) }, PUSH_WAIT_MS + 50)
        t.unref?.()
      }
    }
    const expect = Math.min(PUSH_BLOCK_BYTES, length - begin)
    // Only a piece its head does not prove yet may turn out shorter (the last piece of an END).
    if (begin !== p.received || begin >= length || data.length > expect || (data.length < expect && !p.beyond)) {
      return this.fault(peer, 'BAD_FIELD', `pushed block ${begin}+${data.length} of piece ${index} out of order or of the wrong length`)
    }
    p.buf?.set(data, begin)
    p.received += data.length
    live.emit('push-block', index, data.length, peer.wire) // for meters: the lab, the page's bytes per peer
    if (p.received < length && data.length === expect) return
    open.delete(index)
    this.release(p)
    if (p.buf) void this.complete(peer, index, p.buf.subarray(0, p.received)).finally(() => this.coming.delete(index))
  }

  /** The partial pieces of a peer that went away. */
  forget (peer: Peer): void {
    this.dropPartials(peer)
    this.unproven.delete(peer)
  }

  private dropPartials (peer: Peer): void {
    for (const [i, p] of this.partials.get(peer) ?? []) { this.coming.delete(i); this.release(p) }
    this.partials.delete(peer)
  }

  /** A buffer for a piece begun, within MAX_PUSH_BUFFERED_BYTES (stale partials dropped first); null: not kept. */
  private allocate (length: number): Uint8Array | null {
    if (this.stats.bufferedBytes + length > MAX_PUSH_BUFFERED_BYTES) {
      const stale = Date.now() - PUSH_STALE_MS
      for (const open of this.partials.values()) {
        for (const [i, p] of open) {
          if (p.buf && p.at < stale) { this.release(p); p.buf = null; this.coming.delete(i) } // consumed on, not kept
        }
      }
    }
    if (this.stats.bufferedBytes + length > MAX_PUSH_BUFFERED_BYTES) { this.stats.unkept++; return null }
    this.stats.bufferedBytes += length
    return new Uint8Array(length)
  }

  /** Frees a partial's share of MAX_PUSH_BUFFERED_BYTES (its buffer, if kept, is then counted no more). */
  private release (p: Partial): void {
    this.stats.bufferedBytes -= p.held
    p.held = 0
  }

  /** Whether piece `index` may be requested now: not while a pushed copy of it is being verified and stored. */
  mayRequest (index: number): boolean {
    if (this.verifying.has(index)) return false
    const t = this.coming.get(index)
    if (t === undefined) return true
    if (Date.now() - t < PUSH_WAIT_MS) return false
    this.coming.delete(index) // a pusher that never finishes delays a piece by PUSH_WAIT_MS, once
    return true
  }

  /** Whether a pushed piece is worth buffering (counted as duplicate or unwanted if not). */
  private wanted (peer: Peer, index: number, beyond: boolean): boolean {
    const live = this.live
    if (live.has(index)) { this.waste(peer, 'duplicates'); return false }
    if (beyond) return true // judged once its head is checked (complete()): our start may not be known yet
    if (index < Math.max(live.startPiece ?? Infinity, live.window.floor) || !live.state?.log.get(index)) {
      this.waste(peer, 'unwanted')
      return false
    }
    return true
  }

  private async complete (peer: Peer, index: number, buf: Uint8Array): Promise<void> {
    const live = this.live
    if (index >= live.count) { // the HEAD that proves it came first on this wire: wait until it is checked
      const n = this.unproven.get(peer) ?? 0
      if (n >= MAX_PUSH_UNPROVEN) { this.waste(peer, 'unwanted'); return }
      this.unproven.set(peer, n + 1)
      await live.idle()
      const left = (this.unproven.get(peer) ?? 1) - 1
      if (left > 0) this.unproven.set(peer, left); else this.unproven.delete(peer)
    }
    if (live.destroyed) return
    const hash = live.state?.log.get(index)
    if (!hash) {
      if (index >= live.count) return this.fault(peer, 'TOO_LARGE', `pushed piece ${index}, which no head of its proves`)
      this.waste(peer, 'unwanted')
      return
    }
    if (buf.length !== live.pieceLength(index)) return this.fault(peer, 'BAD_FIELD', `pushed piece ${index} of ${buf.length} bytes, not ${live.pieceLength(index)}`)
    if (live.has(index)) { this.waste(peer, 'duplicates'); return }
    if (index < Math.max(live.startPiece ?? Infinity, live.window.floor)) { this.waste(peer, 'unwanted'); return }
    if (!equal(hashes.sha1(buf), hash)) {
      live.stats.corruptPieces++
      live.policy.banWire(peer.wire, 'CORRUPT_PIECE', `pushed piece ${index}, which failed SHA-1 verification`, peer.peerId)
      return
    }
    const store = live.torrent.store
    if (!store) return
    if (this.verifying.has(index)) { this.waste(peer, 'duplicates'); return } // pushed by two peers at once
    this.forward(peer, index, buf) // before our HAVEs: the neighbour gets the bytes, not a HAVE to request
    this.verifying.add(index)
    patches.cancelRequests(live.torrent, index) // verified: our requests for it are moot (and not re-sent meanwhile)
    store.put(index, buf, (err: Error | null) => {
      this.verifying.delete(index)
      if (err || live.destroyed) return // a store failure closes the torrent elsewhere (onClose)
      if (!patches.markHave(live.torrent, index)) { this.stats.duplicates++; return }
      this.stats.received++
      patches.checkDone(live.torrent)
      patches.requestUpdate(live.torrent)
    })
  }

  /**
   * A viewer with room in its uplink forwards a piece pushed to it, at the edge, to one neighbour
   * that accepts pushes, holds a head covering it, has not announced it and has not asked us for it
   * (and is not the pusher): the chain of pushes from the broadcaster's first tier goes on, one
   * one-way delay a hop. The first such neighbour in a random order; none: nothing (it pulls).
   */
  private forward (from: Peer, index: number, buf: Uint8Array): void {
    const live = this.live
    if (!this.forwarding || live.role !== 'viewer' || index + FORWARD_EDGE < live.count || live.uploads.full() || live.uploads.tooSlow(Math.min(buf.length, PUSH_BLOCK_BYTES))) return
    const peers = [...live.peers]
    for (let k = peers.length; k > 0; k--) {
      const p = peers.splice(Math.floor(Math.random() * k), 1)[0]!
      const w = p.wire
      if (p === from || !p.supported || !p.acceptsPush || w.destroyed || p.knownCount <= index || !p.mayPush()) continue
      if (w.peerPieces.get(index) || patches.peerRequested(w, index)) continue
      this.stats.forwarded++
      return this.sendBlocks(p, index, buf)
    }
  }

  /**
   * A pushed piece we did not need (we had it, or did not want it): counted, not blamed, as pushes
   * race (two neighbours forward the same piece). PUSH is piece data, outside the per-peer message
   * budget (extension.ts), so a peer that keeps pushing what we do not need is flooding beyond
   * MAX_WASTED_PUSHES_PER_SECOND.
   */
  private waste (peer: Peer, kind: 'duplicates' | 'unwanted'): void {
    this.stats[kind]++
    if (!peer.wastedPush()) this.fault(peer, 'FLOOD', `more than ${MAX_WASTED_PUSHES_PER_SECOND} pushed pieces a second that we had or did not want`)
  }

  private fault (peer: Peer, code: ErrorCode | 'FLOOD', reason: string): void {
    this.dropPartials(peer)
    this.live.onPeerFault(peer, code, reason)
  }
}
