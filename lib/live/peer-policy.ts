/**
 * Peer policy: who is banned, what a peer may announce before it proves it, and when a peer that
 * holds our requests is dropped. One per live torrent. The verdicts (a ban: the wire dropped, its
 * address and peer id refused for a while) come from here; the evidence from the extension (a
 * message that does not decode), the syncs (a head or page that does not verify), smart ban (a
 * corrupt block) and the patched wire (a HAVE, BITFIELD or REQUEST out of bounds).
 */
import createDebug from 'debug'
import { MAX_PIECES } from '../protocol/constants.js'
import * as patches from '../../patches/index.js'
import type { TorrentLike, WireLike } from '../../patches/index.js'
import type { Peer } from './peer.js'
import { wireAddr, wireIp } from './redial.js'
import { BAN_MS, CLAIM_PROOF_MS, MAX_BANS, MAX_HAVE_AHEAD, OWN_QUEUE_MS, PIECE_TIMEOUT_MS, TIMEOUT_BAN_MS, UNPROVEN_CLAIM_BYTES } from './limits.js'

const debug = createDebug('webtorrent-live:peer')

/**
 * The key a peer id is banned under: with the peer's IP where the wire has one. A peer id is
 * whatever a handshake claims: banned alone, a third party that claims an honest peer's id (the
 * broadcaster's, say) and misbehaves would get the honest peer refused everywhere. An incoming
 * peer's port is new at every connection, so the id (with its IP) is what a reconnect meets.
 */
export function idBanKey (wire: { remoteAddress?: string }, peerId: string): string {
  const ip = wireIp(wire)
  return ip ? `${ip}/${peerId.toLowerCase()}` : peerId.toLowerCase()
}

export interface Ban { addr: string | null, peerId: string, code: string, reason: string }

/** What the policy needs from its torrent's controller. */
export interface PolicyHost {
  readonly torrent: TorrentLike
  /** Pieces proved by a verified head (our count). */
  readonly count: number
  readonly ready: boolean
  readonly destroyed: boolean
  peerOf (wire: WireLike): Peer | undefined
  banned (ban: Ban): void
}

export class PeerPolicy {
  private bans = new Map<string, number>()
  private bannedWires = new WeakSet<object>()
  private claimTimers = new Map<Peer, ReturnType<typeof setTimeout>>()
  /** Before we are ready: peers whose claims are beyond our reach (their room counts against UNPROVEN_CLAIM_BYTES). */
  private early = new Set<Peer>()
  private lastBlock: { at: number, wire: unknown } = { at: 0, wire: null }

  constructor (private readonly host: PolicyHost) {}

  isBanned (key: string): boolean {
    const until = this.bans.get(key)
    if (until === undefined) return false
    if (until < Date.now()) { this.bans.delete(key); return false }
    return true
  }

  /**
   * The highest piece index a wire may announce now: what we know, or what the peer claims to have
   * (a late joiner knows nothing yet while its peers announce thousands of pieces), plus
   * MAX_HAVE_AHEAD for heads and HAVEs that race. A claim is unverified: a peer that claims more
   * than it proves with a signed head within CLAIM_PROOF_MS is banned (see onClaim).
   */
  haveLimit (wire: WireLike): number {
    const claimed = this.host.peerOf(wire)?.claimedCount ?? 0
    return Math.min(MAX_PIECES, Math.max(this.host.count, claimed) + MAX_HAVE_AHEAD)
  }

  /** A peer's claimed count may have grown: place its kept-aside BITFIELD; hold it to the claim. */
  onClaim (peer: Peer): void {
    const unproven = peer.claimedCount > this.host.count + MAX_HAVE_AHEAD
    // Our count cannot grow before we are ready: claims are judged from onReady. Their room costs
    // memory all the same (haveLimit follows them), so they share the same budget meanwhile.
    const held = this.host.ready ? this.claimTimers.keys() : this.early.values()
    if (unproven && !this.claimTimers.has(peer)) { // (no claim timer exists before we are ready)
      // Room for what peers claim but have not proved costs memory (a bitfield of the claimed
      // length per wire): all such claims together get UNPROVEN_CLAIM_BYTES, no more.
      let used = 0
      for (const p of held) if (p !== peer) used += Math.ceil(p.claimedCount / 8)
      if (used + Math.ceil(peer.claimedCount / 8) > UNPROVEN_CLAIM_BYTES) {
        this.banWire(peer.wire, 'BAD_FIELD', `claims ${peer.claimedCount} pieces, unproved, while unproved claims already hold ${used} bytes`, undefined, CLAIM_PROOF_MS)
        return
      }
    }
    if (!this.host.ready) { if (unproven) this.early.add(peer); return }
    this.early.clear()
    patches.retryPendingBitfield(peer.wire)
    if (patches.hasPendingBitfield(peer.wire)) {
      this.banWire(peer.wire, 'BAD_FIELD', `a bitfield longer than the ${peer.claimedCount} pieces it claims`)
      return
    }
    if (peer.claimedCount <= this.host.count + MAX_HAVE_AHEAD || this.claimTimers.has(peer)) return
    const timer = setTimeout(() => {
      this.claimTimers.delete(peer)
      if (!peer.wire.destroyed && peer.claimedCount > this.host.count + MAX_HAVE_AHEAD) {
        this.banWire(peer.wire, 'BAD_FIELD', `claimed ${peer.claimedCount} pieces and proved ${this.host.count} within ${CLAIM_PROOF_MS} ms`)
      }
    }, CLAIM_PROOF_MS)
    timer.unref?.()
    this.claimTimers.set(peer, timer)
  }

  /** Our count grew: claims now within reach are proved. */
  onProved (): void {
    for (const [p, t] of this.claimTimers) if (p.claimedCount <= this.host.count + MAX_HAVE_AHEAD) { clearTimeout(t); this.claimTimers.delete(p) }
  }

  /** The peer's wire closed. */
  forget (peer: Peer): void {
    this.early.delete(peer)
    const ct = this.claimTimers.get(peer)
    if (ct) { clearTimeout(ct); this.claimTimers.delete(peer) }
  }

  /**
   * The TIMEOUT rule: our requests to `wire` got not one block for PIECE_TIMEOUT_MS. A peer sending
   * us a block right now is waited for (the timeout starts again: a narrow uplink takes longer than
   * it over one, 16 KiB at 1 KB/s), and again only while what came meanwhile would finish it within
   * one more timeout; a block that stalls or trickles slower is banned (TIMEOUT), whether or not the
   * peer served us before. Otherwise: a peer that unchokes us, never served a block and holds our
   * requests while others deliver is holding them: banned for TIMEOUT_BAN_MS. A peer that served us
   * before is slow, not hostile (a narrow or lossy uplink busy serving others): its requests are
   * cancelled and go to other peers, it keeps its wire, and `onSlow` is told (request-routing.ts
   * asks it only for what nobody else offers). So is any peer while our own uplink queue needs
   * OWN_QUEUE_MS or more to drain (our REQUESTs wait in it). When nobody delivered, we are starved or overloaded
   * ourselves (a busy swarm on a busy machine): WebTorrent's own rule applies (the wire is dropped,
   * nobody is banned).
   */
  watchTimeout (wire: WireLike, onSlow: (wire: WireLike) => void, ownQueueMs: () => number = () => 0): void {
    wire.setTimeout(PIECE_TIMEOUT_MS, true)
    let served = false
    /** The block we waited for at the last timeout: its bytes then (null: none). */
    let waitedAt: number | null = null
    wire.on('requested-piece', () => { served = true; waitedAt = null })
    wire.on('piece', () => { waitedAt = null })
    patches.onRequestTimeout(wire, () => {
      const a = patches.arriving(wire)
      if (a && waitedAt === null) { waitedAt = a.have; return 'wait' }
      if (a && waitedAt !== null) {
        // Waited for it once already: it goes on only if what came since would finish it in one more
        // timeout; a trickle, or bytes that stopped, hold our requests no longer.
        const progress = a.have - waitedAt
        if (progress > 0 && a.need - a.have <= progress) { waitedAt = a.have; return 'wait' }
        this.banWire(wire, 'TIMEOUT', `a block begun and not finished within ${PIECE_TIMEOUT_MS} ms of waiting`, undefined, TIMEOUT_BAN_MS)
        return false
      }
      waitedAt = null
      if (served) { onSlow(wire); return true }
      // Our own uplink queue holds seconds of bytes: our REQUESTs wait in it too, so the peer may
      // have had them for a moment only. Not its fault: slow, not banned (a narrow uplink that
      // blamed its peers banned a dozen each in the lab, 4 KiB pieces at 32 kbit/s).
      if (ownQueueMs() >= OWN_QUEUE_MS) { onSlow(wire); return true }
      const othersDelivered = this.lastBlock.at > Date.now() - PIECE_TIMEOUT_MS && this.lastBlock.wire !== wire
      if (!wire.peerChoking && othersDelivered) this.banWire(wire, 'TIMEOUT', `no block within ${PIECE_TIMEOUT_MS} ms of a request, while other peers delivered`, undefined, TIMEOUT_BAN_MS)
      return false
    })
    wire.on('piece', () => { this.lastBlock.at = Date.now(); this.lastBlock.wire = wire })
  }

  banWire (wire: WireLike, code: string, reason: string, peerId?: string, ms = BAN_MS): void {
    // Once per wire; a wire that already closed can still be banned (blamed after the fact).
    if (this.bannedWires.has(wire) || this.host.destroyed) return
    this.bannedWires.add(wire)
    const until = Date.now() + ms
    const addr = wireAddr(wire) // as addPeer and filterPeers spell it ([::1]:6881 for IPv6)
    if (addr) this.remember(addr, until)
    const id = peerId || (wire.peerId ? String(wire.peerId) : '')
    if (id) this.remember(idBanKey(wire, id), until)
    debug('ban %s %s %s: %s', addr ?? '-', id || '-', code, reason)
    this.host.banned({ addr, peerId: id, code, reason })
    wire.destroy()
    if (addr) { try { this.host.torrent.removePeer(addr) } catch {} }
  }

  /** Bounded: expired bans go first, then the oldest (an attacker can mint peer ids for free). */
  private remember (key: string, until: number): void {
    this.bans.delete(key)
    if (this.bans.size >= MAX_BANS) {
      const now = Date.now()
      for (const [k, t] of this.bans) if (t < now) this.bans.delete(k)
      while (this.bans.size >= MAX_BANS) this.bans.delete(this.bans.keys().next().value as string)
    }
    this.bans.set(key, until)
  }

  close (): void {
    for (const t of this.claimTimers.values()) clearTimeout(t)
    this.claimTimers.clear()
    this.early.clear()
  }
}
