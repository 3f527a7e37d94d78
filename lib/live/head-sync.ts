/**
 * Head sync: steps 2 and 4 of a HEAD's way (see the DEV DOCS in live-torrent.ts). A decoded HEAD
 * from a peer is checked here (StreamState.acceptHead: one signature check per distinct new head,
 * in arrival order), handed to the controller to apply (LiveTorrent.applyHead), and forwarded to
 * the other peers that lack it (send), with the tail of hashes each is missing.
 *
 * Forwarding is bounded (spec §8, "Heads"): in a mesh every neighbour forwards every head, so a
 * viewer with 50 neighbours received and sent 50 HEADs (~180 bytes each) per piece: 60% of a 16 KiB
 * piece stream's rate in control bytes on every uplink, more than a narrow uplink carries. A viewer
 * forwards a new head at once to HEAD_FANOUT peers lacking it, chosen at random, and to every
 * peer lacking it that has gone quiet (no head to or from it, no HAVE from it, for HEAD_QUIET_MS:
 * a peer that depends on us); HEAD_SWEEP_MS after the newest head, if no newer one came, to every
 * peer still lacking it. Where heads come further apart than that (a low bitrate), quiet means
 * silent for two of their average intervals, and the sweep waits one and a half (both at most
 * MAX_PACE_MS). A peer that
 * announced a piece (HAVE) holds a head covering it: it lacks no head up to that piece's. An end
 * goes to every peer at once.
 *
 * The broadcaster's own heads are spread the same way (`spread`), plus to each peer it tells of a
 * new piece, just before it tells it (relay-policy.ts): sent to every peer at once, its HEADs cost
 * it one HEAD per wire per piece, ~180 bytes each, and every viewer connects to it (a tracker hands
 * out its address): 0.55× the stream's rate at 50 viewers, 1.7× at 150 wires, growing with the
 * audience. Viewers carry the head on (HEAD_FANOUT each), as they carry its pieces.
 */
import createDebug from 'debug'
import { MAX_TAIL_HASHES, PIECE_HASH_BYTES } from '../protocol/constants.js'
import { rank, type SignedHead } from '../protocol/head.js'
import type { Tail } from '../protocol/messages.js'
import { LiveError } from '../protocol/result.js'
import { PEER_FAULTS, type Evidence } from '../state/stream-state.js'
import type { WireLike } from '../../patches/index.js'
import type { Peer } from './peer.js'
import type { LiveTorrent } from './live-torrent.js'

const debug = createDebug('webtorrent-live:head')

/** A viewer forwards a new head at once to this many peers lacking it (random), besides quiet ones. */
export const HEAD_FANOUT = 8
/** A peer with no head to or from it, and no HAVE from it, for this long gets each new head at once. */
export const HEAD_QUIET_MS = 1000
/** This long after the newest head (if none newer came), every peer still lacking it gets it. */
export const HEAD_SWEEP_MS = 1000
/** A viewer whose own uplink queue needs this long to drain forwards new heads only to quiet peers (and the sweep). */
export const BUSY_UPLINK_MS = 1000
/** Quiet and the sweep, paced by the stream, wait at most this long. */
export const MAX_PACE_MS = 5000

export class HeadSync {
  /** Heads received before we were ready (the newest per peer). */
  private pending = new Map<Peer, { head: SignedHead, tail: Tail | null }>()
  /** Heads are checked one at a time, in the order they came. */
  private queue: Promise<unknown> = Promise.resolve()
  private sweep: ReturnType<typeof setTimeout> | null = null
  /** When the newest head was forwarded, and the average time between heads (EWMA, ms). */
  private lastAt = 0
  private gap = 0

  constructor (private readonly live: LiveTorrent) {}

  /** A decoded HEAD from `peer`. Its count is a claim until the head verifies. */
  onHead (peer: Peer, head: SignedHead, tail: Tail | null): void {
    peer.heard()
    if (peer.claim(head.count)) this.live.policy.onClaim(peer)
    if (!this.live.ready) { this.pending.set(peer, { head, tail }); return }
    this.enqueue(peer, head, tail)
  }

  /** We are ready: check the heads that came before, and send ours to every peer. */
  onReady (): void {
    for (const [peer, m] of this.pending) this.enqueue(peer, m.head, m.tail)
    this.pending.clear()
    this.announce()
  }

  forget (peer: Peer): void { this.pending.delete(peer) }


  /** Resolves once every head received so far has been checked. */
  idle (): Promise<void> { return this.queue.then(() => {}, () => {}) }

  private enqueue (peer: Peer, head: SignedHead, tail: Tail | null): void {
    this.queue = this.queue.then(() => this.check(peer, head, tail)).catch((err) => this.live.fail(err as Error))
  }

  /** Step 2: check. Then apply (step 3, the controller) and forward (step 4). */
  private async check (peer: Peer, head: SignedHead, tail: Tail | null): Promise<void> {
    const live = this.live
    const state = live.state
    if (!state || live.destroyed || peer.wire.destroyed) return
    if (live.role === 'broadcaster') {
      // The source trusts only itself; a head it did not sign is a forgery or equivocation evidence.
      if (state.head && rank(head) <= rank(state.head)) { peer.knows(0, rank(head)); return }
      // Newer than anything it signed: never adopted. Forged → the sender's fault; validly signed →
      // the key is used elsewhere (a warning with the evidence; the broadcast goes on, the relay is not blamed).
      if (!await state.verifySignature(head)) return live.onPeerFault(peer, 'BAD_SIGNATURE', 'head is not signed by the stream key')
      const ev: Evidence = { heads: [state.head ?? head, head], position: Math.min(state.count, head.count), detail: 'a head this broadcaster did not sign carries its signature' }
      live.emit('warning', new LiveError('EQUIVOCATION', `the stream key signed a head elsewhere: ${ev.detail}`, ev))
      return
    }
    const v = await state.acceptHead(head, tail)
    if (live.destroyed) return
    if (!v.ok) {
      debug('head %d from %s refused: %s %s', head.count, peer.peerId, v.code, v.reason)
      if (v.code === 'EQUIVOCATION') return live.onEquivocation(v.reason, v.evidence)
      if (PEER_FAULTS.has(v.code)) return live.onPeerFault(peer, v.code, v.reason)
      return
    }
    peer.knows(head.count, rank(head))
    if (v.status !== 'accepted') return
    debug('head %d (%d bytes%s) from %s accepted', head.count, head.length, head.ended ? ', ended' : '', peer.peerId)
    live.stats.headsAccepted++
    const n = tail ? tail.hashes.length / PIECE_HASH_BYTES : 0
    live.applyHead(head, head.count - n, head.count)
    this.forward(head)
  }

  /** Step 4 for a head accepted from a peer (or signed here): at once to some peers, to the rest a little later. */
  private forward (head: SignedHead): void {
    const live = this.live
    const r = rank(head)
    const lacking = [...live.peers].filter((p) => p.supported && p.knownRank < r)
    const now = Date.now()
    // One long pause (an encoder restarting) must not stretch the pace for long: a sample counts at
    // most twice the average and a second.
    if (this.lastAt > 0) this.gap = this.gap === 0 ? Math.min(now - this.lastAt, MAX_PACE_MS) : 0.8 * this.gap + 0.2 * Math.min(now - this.lastAt, 2 * this.gap + 1000)
    this.lastAt = now
    if (head.ended || lacking.length <= HEAD_FANOUT) { for (const p of lacking) this.send(p); return }
    // Quiet and sweep are measured against the stream's own pace: where heads come seconds apart
    // (a low bitrate), every peer has been silent for a second before each, and each head went to
    // every peer at once (at 32 kbit/s in 16 KiB pieces, control bytes were 0.97× the piece bytes).
    const quietMs = Math.min(MAX_PACE_MS, Math.max(HEAD_QUIET_MS, 2 * this.gap))
    const others: Peer[] = []
    for (const p of lacking) { if (now - p.heardAt >= quietMs) this.send(p); else others.push(p) }
    // A viewer whose own uplink queue already holds a second or more (a narrow uplink) would put
    // these heads before everything else it sends, its own REQUESTs included: the quiet peers and
    // the sweep still get the head; its neighbours' fanout carries it to the rest.
    const fanout = live.role === 'viewer' && live.uploads.queuedMs() >= BUSY_UPLINK_MS ? 0 : HEAD_FANOUT
    for (let k = 0; k < fanout && k < others.length; k++) { // a partial Fisher-Yates shuffle
      const j = k + Math.floor(Math.random() * (others.length - k))
      const p = others[j]!
      others[j] = others[k]!
      this.send(p)
    }
    if (this.sweep) clearTimeout(this.sweep)
    this.sweep = setTimeout(() => {
      this.sweep = null
      if (!live.destroyed && live.state?.head && rank(live.state.head) === r) this.announce()
    }, Math.min(MAX_PACE_MS, Math.max(HEAD_SWEEP_MS, 1.5 * this.gap)))
    this.sweep.unref?.()
  }

  /** Step 4: forward. Sends the current head to `peer` if it lacks it, with the hashes it is missing. */
  send (peer: Peer): void {
    const state = this.live.state
    const h = state?.head
    if (!state || !h || !peer.supported || peer.knownRank >= rank(h)) return
    peer.send({ type: 'head', head: h, tail: state.tailFor(peer.knownCount, MAX_TAIL_HASHES) })
    peer.knows(h.count, rank(h))
    peer.heard()
  }

  /** Sends the current head to `wire`'s peer if it knows no head covering piece `index` (before it is told of the piece). */
  sendCovering (wire: WireLike, index: number): void {
    const p = this.live.peerOf(wire)
    if (p && p.knownCount <= index) this.send(p)
  }

  /** The broadcaster's new head: at once to a few peers lacking it, to the others as it spreads (see above). */
  spread (): void {
    const h = this.live.state?.head
    if (h) this.forward(h)
  }

  /** Sends the current head to every peer that lacks it. */
  announce (): void {
    for (const p of this.live.peers) this.send(p)
  }
}
