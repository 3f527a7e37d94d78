/**
 * DEV DOCS
 *
 * LiveTorrent is the per-torrent controller behind `torrent.live`. Roles:
 *  - broadcaster: appends its own pieces, signs heads, announces them (HEAD, then HAVE);
 *  - viewer: accepts verified heads from any peer, grows the torrent, learns piece hashes (from a
 *    head's tail, or pages fetched backwards), selects the pieces it wants, forwards new heads.
 *
 * Flow on a viewer:  HEAD from a wire → decode (extension) → StreamState.acceptHead (one signature
 * check per distinct new head) → patches.grow → hashes readable by WebTorrent from the log → select →
 * WebTorrent downloads and SHA-1-verifies pieces as usual → 'verified' → readers wake.
 * Every wire of a live torrent is adapted in patches/wire.ts; the torrent in patches/torrent.ts.
 * Misbehaving peers are disconnected and banned for BAN_MS; the honest stream goes on.
 */
import { EventEmitter } from 'node:events'
import { equal, toHex, fromHex } from '../protocol/bytes.js'
import { MAX_PAGE_HASHES, MAX_TAIL_HASHES, PIECE_HASH_BYTES, MAX_PIECES } from '../protocol/constants.js'
import { pieceLengthAt, rank, type SignedHead } from '../protocol/head.js'
import { parseLiveInfo, type LiveInfo } from '../protocol/info.js'
import type { Message, Tail } from '../protocol/messages.js'
import { LiveError, type ErrorCode } from '../protocol/result.js'
import { StreamState, PEER_FAULTS, type Evidence } from '../state/stream-state.js'
import { ed25519, hashes } from '../crypto/index.js'
import * as patches from '../../patches/index.js'
import { filterRequests } from '../../patches/torrent.js'
import { utLive, type LiveHost, type LivePeer } from './extension.js'
import { finalTorrent, sharedStore, type FinalTorrent } from './final.js'
import { Redialer, wireAddr } from './redial.js'
import { UploadBudget } from './upload-budget.js'

/* eslint-disable @typescript-eslint/no-explicit-any */

export const BAN_MS = 10 * 60 * 1000
export const PAGE_TIMEOUT_MS = 10_000
/** Hash pages asked for at once per gap (verified backwards as they link up). */
export const PAGES_IN_FLIGHT = 8
/** After a HASH_REJECT, the peer is asked again for those hashes after this long. */
export const PAGE_RETRY_MS = 1000
/** A peer may announce (HAVE) pieces this far beyond our newest head: heads and HAVEs race. */
export const MAX_HAVE_AHEAD = 4096
/** A peer that claims (live_n, or an unverified head) more pieces than it proves in this time is banned. */
export const CLAIM_PROOF_MS = 30_000
/** A restarted viewer checks the pieces on its disk this many bytes at a time between other work. */
export const ADOPT_BYTES_PER_TURN = 16 * 1024 * 1024
/** Memory all unproved claims may take together (an honest 1M-piece stream claims 125 KB a peer). */
export const UNPROVEN_CLAIM_BYTES = 16 * 1024 * 1024
/**
 * A peer that is unchoking us, holds requests of ours and sends not one block for this long is
 * holding them: dropped and banned for TIMEOUT_BAN_MS (WebTorrent's own limit is 30 s).
 */
export const PIECE_TIMEOUT_MS = 10_000
export const TIMEOUT_BAN_MS = 60_000
/** After its requests timed out, a peer that served us before is asked only for what nobody else has, this long. */
export const SLOW_PEER_MS = 10_000
/** After a peer REJECTs a request of ours (its uplink is full), it is not asked again for this long. */
export const REJECTED_BACKOFF_MS = 150
/** How long otherHolder() trusts what it saw. */
const HOLDERS_MEMO_MS = 25
/** Bans remembered at most (peer ids and addresses); the oldest go first. Fresh peer ids are free. */
export const MAX_BANS = 4096
/** Failed pieces whose blocks' digests are kept until the piece verifies (smart ban). */
const MAX_SUSPECT_PIECES = 1024

/** A block received for a piece in flight (data kept until the piece verifies or fails). */
interface Block { wire: any, offset: number, length: number, data: Uint8Array | null, digest: string | null }

export type From = 'start' | 'live'

export interface LiveOptions {
  from?: From
  /** For from: 'live', how many of the newest pieces to start before the edge (default 1: the newest). */
  liveEdgePieces?: number
  /**
   * Also fetch the stream's first N pieces (default 0), whatever `from` is: a container's header
   * (an fMP4 initialisation segment, say) for a viewer that starts at the live edge. Their hashes
   * come by pages verified backwards from the edge (20 bytes a piece of history, no signatures).
   */
  headPieces?: number
}

interface PageRequest { peer: LivePeer, start: number, count: number, timer: ReturnType<typeof setTimeout> }

export class LiveTorrent extends EventEmitter implements LiveHost {
  readonly torrent: any
  readonly role: 'broadcaster' | 'viewer'
  readonly from: From
  readonly liveEdgePieces: number
  readonly headPieces: number
  state: StreamState | null = null
  info: LiveInfo | null = null
  /** First piece this peer wants (0 from the start; set at the first head for from: 'live'). */
  startPiece: number | null
  ready = false
  destroyed = false
  error: LiveError | null = null
  readonly stats = { invalidMessages: 0, bannedPeers: 0, corruptPieces: 0, pagesReceived: 0, headsAccepted: 0, adoptedPieces: 0 }
  /** After the end: the final, ordinary torrent ({ infoHash, magnetURI, torrentFile }), once verified here. */
  final: FinalTorrent | null = null
  /** After the end: the WebTorrent torrent serving the final infohash from this torrent's storage. */
  finalTorrent: any = null
  private finalServed = false

  private peers = new Set<LivePeer>()
  private bans = new Map<string, number>()
  private pendingHeads = new Map<LivePeer, { head: SignedHead, tail: Tail | null }>()
  private pages = new Map<number, PageRequest>()
  private queue: Promise<unknown> = Promise.resolve()
  private waiters = new Set<() => void>()
  private peerOf = new WeakMap<object, LivePeer>()
  /** Pages received before the page above them: at most PAGES_IN_FLIGHT per gap, 10 KiB each. */
  private earlyPages = new Map<number, { peer: LivePeer, start: number, anchor: Uint8Array, hashes: Uint8Array }>()
  private lastBlock: { at: number, wire: unknown } = { at: 0, wire: null }
  private claimTimers = new Map<LivePeer, ReturnType<typeof setTimeout>>()
  /** Blocks received for pieces in flight, by piece. */
  private blocks = new Map<number, Block[]>()
  /** Pieces that failed with several senders: their blocks' digests, until the piece verifies. */
  private suspects = new Map<number, Block[]>()
  /** Suspect pieces are fetched again from one wire only (null: the next wire that asks). */
  private solo = new Map<number, any>()
  private bannedWires = new WeakSet<any>()
  /** Wires that delivered at least one block we asked for. */
  private servedUs = new WeakSet<any>()
  /** Wires whose requests timed out lately (until when): asked only for pieces no other wire offers. */
  private slowUntil = new WeakMap<any, number>()
  /** Wires that rejected a request lately (until when): not asked at all meanwhile. */
  private rejectedUntil = new WeakMap<any, number>()
  /** otherHolder's memo: per piece, up to two wires we may ask for it, and when that was seen. */
  private holders = new Map<number, { at: number, good: any[] }>()
  /** What this peer's uplink can serve soon; requests beyond it are rejected (upload-budget.ts). */
  readonly uploads = new UploadBudget()
  /** Sources that went away are dialled again while the stream is wanted (redial.ts). */
  private redial = new Redialer({
    wanted: () => this.stillWanted(),
    closed: () => this.destroyed,
    dial: (addr) => { try { if (!this.torrent.destroyed) this.torrent.addPeer(addr) } catch {} },
    liveWires: () => this.peers.size,
    reannounce: () => patches.reannounce(this.torrent)
  })

  constructor (torrent: any, opts: LiveOptions & { role?: 'broadcaster' | 'viewer' } = {}) {
    super()
    this.torrent = torrent
    this.role = opts.role ?? 'viewer'
    this.from = opts.from ?? 'start'
    if (this.from !== 'start' && this.from !== 'live') throw new LiveError('BAD_ARGUMENT', "from must be 'start' or 'live'")
    this.liveEdgePieces = Math.max(1, opts.liveEdgePieces ?? 1)
    this.headPieces = Math.max(0, Math.floor(opts.headPieces ?? 0))
    this.startPiece = this.from === 'start' || this.role === 'broadcaster' ? 0 : null
    patches.adaptTorrent(torrent)
    patches.filterPeers(torrent, (addr) => {
      if (this.isBanned(addr)) return false
      this.redial.noteDialable(addr)
      return true
    })
    filterRequests(torrent, (wire, index) => this.mayRequest(wire, index))
    const Ext = utLive(this)
    torrent.on('wire', (wire: any, addr?: string) => {
      if (addr && this.isBanned(addr)) { wire.destroy(); return }
      patches.adaptWire(wire, () => this.haveLimit(wire), (why) => this.banWire(wire, 'BAD_FIELD', why), () => this.torrent.pieces.length, MAX_PIECES, (i) => this.has(i))
      wire.use(Ext)
      patches.noDelay(torrent, wire)
      patches.emitRequestedPieces(wire)
      wire.on('requested-piece', (index: number, offset: number, data: Uint8Array) => { this.servedUs.add(wire); this.noteBlock(index, offset, data, wire) })
      wire.setTimeout(PIECE_TIMEOUT_MS, true)
      patches.onRequestTimeout(wire, () => this.onRequestTimeout(wire))
      const pushed = patches.countPushed(wire)
      const sent = patches.connSent(torrent, wire)
      if (sent) {
        this.uploads.add(wire, pushed, sent)
        patches.admitRequests(wire, () => this.uploads.admit())
      }
      wire.on('reject', () => this.rejectedUntil.set(wire, Date.now() + REJECTED_BACKOFF_MS))
      wire.on('piece', () => { this.lastBlock.at = Date.now(); this.lastBlock.wire = wire })
      wire.once('close', () => { this.uploads.remove(wire); this.onWireClose(wire) })
    })
    torrent.once('metadata', () => this.onMetadata())
    torrent.once('ready', () => this.onReady())
    torrent.on('verified', (index: number) => {
      this.onPieceVerified(index)
      const ft = this.finalTorrent
      if (ft?.ready && ft._liveOwner === this && patches.markHave(ft, index)) patches.checkDone(ft)
      this.notify()
    })
    torrent.on('warning', (err: Error) => this.onWarning(err))
    torrent.once('close', () => this.onClose())
  }

  // ---- public state -----------------------------------------------------------------------

  get count (): number { return this.state?.count ?? 0 }
  get length (): number { return this.state?.head?.length ?? 0 }
  get head (): SignedHead | null { return this.state?.head ?? null }
  get ended (): boolean { return this.state?.ended === true }
  get publicKey (): Uint8Array | null { return this.info?.publicKey ?? null }
  get evidence (): Evidence[] { return this.state?.evidence ?? [] }
  get signatureChecks (): number { return this.state?.signatureChecks ?? 0 }
  /** Resolves with the final torrent once it is served here (at once if it already is). */
  whenFinal (): Promise<FinalTorrent> {
    if (this.final && this.finalServed) return Promise.resolve(this.final)
    if (this.error) return Promise.reject(this.error)
    if (this.destroyed) return Promise.reject(new LiveError('DESTROYED', 'the torrent closed before the final torrent was ready'))
    return new Promise((resolve, reject) => {
      const onFinal = (f: FinalTorrent): void => { cleanup(); resolve(f) }
      const onFailed = (e: Error): void => { cleanup(); reject(e) }
      const onClose = (): void => { cleanup(); reject(this.error ?? new LiveError('DESTROYED', 'the torrent closed before the final torrent was ready')) }
      const cleanup = (): void => { this.removeListener('final', onFinal); this.removeListener('failed', onFailed); this.removeListener('close', onClose) }
      this.once('final', onFinal)
      this.once('failed', onFailed)
      this.once('close', onClose)
    })
  }

  get peerCount (): number { let n = 0; for (const p of this.peers) if (p.supported) n++; return n }

  /** Whether piece i is verified and stored here. */
  has (i: number): boolean {
    return i >= 0 && i < this.torrent.pieces.length && this.torrent.bitfield.get(i) === true
  }

  /** Length of piece i under the current head. */
  pieceLength (i: number): number {
    const h = this.state?.head
    return h ? pieceLengthAt(h, i, this.torrent.pieceLength) : 0
  }

  /** Resolves on the next change (a piece verified, a head, the end, an error or close). */
  changed (): Promise<void> {
    return new Promise((resolve) => { this.waiters.add(resolve) })
  }

  private notify (): void {
    const ws = [...this.waiters]
    this.waiters.clear()
    for (const w of ws) w()
  }

  // ---- lifecycle --------------------------------------------------------------------------

  private onMetadata (): void {
    const r = parseLiveInfo(this.torrent.info)
    if (!r.ok) {
      this.fail(new LiveError('NOT_LIVE', `${this.torrent.infoHash} is not a ut_live torrent: ${r.reason}`))
      this.torrent.destroy()
      return
    }
    this.info = r.value
  }

  private async onReady (): Promise<void> {
    if (this.destroyed || !this.info) return
    try {
      patches.checkReady(this.torrent)
    } catch (err) {
      this.fail(err as Error)
      this.torrent.destroy()
      return
    }
    const state = this.state = new StreamState({ infoHash: fromHex(this.torrent.infoHash), info: this.info, hashes, ed25519: await ed25519() })
    patches.hashesFrom(this.torrent, (i) => { const h = state.log.get(i); return h ? toHex(h) : '' })
    this.ready = true
    this.emit('ready')
    for (const p of this.peers) this.onClaim(p)
    for (const [peer, m] of this.pendingHeads) this.enqueueHead(peer, m.head, m.tail)
    this.pendingHeads.clear()
    for (const p of this.peers) this.sendHead(p)
    // Peers that met us before we had the metadata were told we had none: tell them again.
    for (const wire of this.torrent.wires) patches.resendExtendedHandshake(wire, { live_n: this.count })
  }

  private onClose (): void {
    const failure = patches.rawStore(this.torrent)?.failure
    if (failure && !this.error) this.fail(new LiveError('STORE_FAILED', `storage failed, the torrent stopped: ${failure.message}`))
    this.destroyed = true
    this.redial.close()
    this.uploads.close()
    for (const t of this.claimTimers.values()) clearTimeout(t)
    this.claimTimers.clear()
    const ft = this.finalTorrent
    // The final torrent reads this torrent's storage: it goes with it. (Not while the client is
    // being destroyed: the client destroys it itself, and a torrent destroyed twice never calls back.)
    if (ft && ft._liveOwner === this && !ft.destroyed && ft.client && !ft.client.destroyed) ft.destroy()
    for (const r of this.pages.values()) clearTimeout(r.timer)
    this.pages.clear()
    this.earlyPages.clear()
    this.notify()
    this.emit('close')
  }

  private fail (err: Error): void {
    const e = err instanceof LiveError ? err : new LiveError((err as { code?: string }).code ?? 'ERROR', err.message)
    this.error = e
    this.notify()
    this.emit('failed', e) // internal: settles whenFinal()
    if (this.listenerCount('error') > 0) this.emit('error', e)
  }

  // ---- peers ------------------------------------------------------------------------------

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
  private haveLimit (wire: any): number {
    const claimed = this.peerOf.get(wire)?.claimedCount ?? 0
    return Math.min(MAX_PIECES, Math.max(this.count, claimed) + MAX_HAVE_AHEAD)
  }

  onPeerReady (peer: LivePeer): void {
    if (this.role === 'viewer') this.redial.onLiveWire(wireAddr(peer.wire))
    this.peers.add(peer)
    this.peerOf.set(peer.wire, peer)
    this.onClaim(peer)
    if (this.ready) { this.sendHead(peer); this.requestPages() }
  }

  /** A peer's claimed count may have grown: place its kept-aside BITFIELD; hold it to the claim. */
  private onClaim (peer: LivePeer): void {
    if (!this.ready) return // our count cannot grow before we are ready: judged from onReady
    const unproven = peer.claimedCount > this.count + MAX_HAVE_AHEAD
    if (unproven && !this.claimTimers.has(peer)) {
      // Room for what peers claim but have not proved costs memory (a bitfield of the claimed
      // length per wire): all such claims together get UNPROVEN_CLAIM_BYTES, no more.
      let used = 0
      for (const p of this.claimTimers.keys()) used += Math.ceil(p.claimedCount / 8)
      if (used + Math.ceil(peer.claimedCount / 8) > UNPROVEN_CLAIM_BYTES) {
        this.banWire(peer.wire, 'BAD_FIELD', `claims ${peer.claimedCount} pieces, unproved, while unproved claims already hold ${used} bytes`, undefined, CLAIM_PROOF_MS)
        return
      }
    }
    patches.retryPendingBitfield(peer.wire)
    if (patches.hasPendingBitfield(peer.wire)) {
      this.banWire(peer.wire, 'BAD_FIELD', `a bitfield longer than the ${peer.claimedCount} pieces it claims`)
      return
    }
    if (peer.claimedCount <= this.count + MAX_HAVE_AHEAD || this.claimTimers.has(peer)) return
    const timer = setTimeout(() => {
      this.claimTimers.delete(peer)
      if (!peer.wire.destroyed && peer.claimedCount > this.count + MAX_HAVE_AHEAD) {
        this.banWire(peer.wire, 'BAD_FIELD', `claimed ${peer.claimedCount} pieces and proved ${this.count} within ${CLAIM_PROOF_MS} ms`)
      }
    }, CLAIM_PROOF_MS)
    timer.unref?.()
    this.claimTimers.set(peer, timer)
  }

  private onWireClose (wire: any): void {
    let wasLive = false
    for (const p of this.peers) {
      if (p.wire !== wire) continue
      wasLive = true
      this.peers.delete(p)
      this.pendingHeads.delete(p)
      const ct = this.claimTimers.get(p)
      if (ct) { clearTimeout(ct); this.claimTimers.delete(p) }
      for (const [end, r] of this.pages) if (r.peer === p) { clearTimeout(r.timer); this.pages.delete(end) }
    }
    if (!this.destroyed) this.redial.onWireClose(wireAddr(wire), wasLive)
    if (!this.destroyed && wasLive && this.role === 'viewer' && this.peers.size === 0) this.redial.onLiveWireClosed()
    if (this.ready) this.requestPages()
  }

  /** Whether this viewer still wants the stream (re-dial): live, or ended with pieces missing here. */
  private stillWanted (): boolean {
    if (this.destroyed || this.error) return false
    if (!this.ended) return true
    for (let i = this.startPiece ?? 0; i < this.count; i++) if (!this.has(i)) return true
    return false
  }

  /**
   * Our requests to `wire` got not one block for PIECE_TIMEOUT_MS. A peer that unchokes us, never
   * served a block and holds our requests while others deliver is holding them: banned for
   * TIMEOUT_BAN_MS. A peer that served us before is slow, not hostile (a narrow or lossy uplink
   * busy serving others): its requests are cancelled and go to other peers, it keeps its wire,
   * and for SLOW_PEER_MS it is asked only for pieces nobody else offers. When nobody delivered,
   * we are starved or overloaded ourselves: WebTorrent's own rule (drop the wire) applies.
   * Returns whether the wire stays.
   */
  private onRequestTimeout (wire: any): boolean {
    const othersDelivered = this.lastBlock.at > Date.now() - PIECE_TIMEOUT_MS && this.lastBlock.wire !== wire
    if (this.servedUs.has(wire)) {
      this.slowUntil.set(wire, Date.now() + SLOW_PEER_MS)
      return true
    }
    if (!wire.peerChoking && othersDelivered) this.banWire(wire, 'TIMEOUT', `no block within ${PIECE_TIMEOUT_MS} ms of a request, while other peers delivered`, undefined, TIMEOUT_BAN_MS)
    return false
  }

  /** A wire we may ask for piece `index` now, other than `but` (not choking us, not backed off). */
  private otherHolder (but: any, index: number): boolean {
    // WebTorrent asks about the same pieces for every wire on every update: the first two good
    // holders of a piece are remembered for HOLDERS_MEMO_MS.
    const now = Date.now()
    let m = this.holders.get(index)
    if (!m || m.at < now - HOLDERS_MEMO_MS) {
      const good: any[] = []
      for (const w of this.torrent.wires) {
        if (w.destroyed || w.peerChoking || !w.peerPieces.get(index)) continue
        if ((this.slowUntil.get(w) ?? 0) > now || (this.rejectedUntil.get(w) ?? 0) > now) continue
        good.push(w)
        if (good.length === 2) break
      }
      if (this.holders.size >= 4096) this.holders.clear()
      m = { at: now, good }
      this.holders.set(index, m)
    }
    return m.good.length === 2 || (m.good.length === 1 && m.good[0] !== but)
  }

  onPeerFault (peer: LivePeer, code: ErrorCode | 'FLOOD', reason: string): void {
    this.stats.invalidMessages++
    this.banWire(peer.wire, code, reason, peer.peerId)
  }

  private banWire (wire: any, code: string, reason: string, peerId?: string, ms = BAN_MS): void {
    // Once per wire; a wire that already closed can still be banned (blamed after the fact).
    if (this.bannedWires.has(wire) || this.destroyed) return
    this.bannedWires.add(wire)
    const until = Date.now() + ms
    const addr = wire.remoteAddress && wire.remotePort ? `${wire.remoteAddress}:${wire.remotePort}` : null
    if (addr) this.remember(addr, until)
    const id = peerId || (wire.peerId ? String(wire.peerId) : '')
    if (id) this.remember(id, until)
    this.stats.bannedPeers++
    this.emit('peer-banned', { addr, peerId: id, code, reason })
    wire.destroy()
    if (addr) { try { this.torrent.removePeer(addr) } catch {} }
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

  onPeerMessage (peer: LivePeer, msg: Message): void {
    switch (msg.type) {
      case 'head':
        if (msg.head.count > peer.claimedCount) { peer.claimedCount = Math.min(msg.head.count, MAX_PIECES); this.onClaim(peer) }
        if (!this.ready) { this.pendingHeads.set(peer, { head: msg.head, tail: msg.tail }); return }
        this.enqueueHead(peer, msg.head, msg.tail)
        return
      case 'hash-request': return this.onHashRequest(peer, msg.start, msg.count)
      case 'hashes': return this.onHashes(peer, msg.start, msg.anchor, msg.hashes)
      case 'hash-reject': return this.onHashReject(peer, msg.start, msg.count)
    }
  }

  // ---- heads ------------------------------------------------------------------------------

  private enqueueHead (peer: LivePeer, head: SignedHead, tail: Tail | null): void {
    this.queue = this.queue.then(() => this.onHead(peer, head, tail)).catch((err) => this.fail(err as Error))
  }

  private async onHead (peer: LivePeer, head: SignedHead, tail: Tail | null): Promise<void> {
    const state = this.state
    if (!state || this.destroyed || peer.wire.destroyed) return
    if (this.role === 'broadcaster') {
      // The source trusts only itself; a head it did not sign is a forgery or equivocation evidence.
      if (state.head && rank(head) <= rank(state.head)) { peer.knownRank = Math.max(peer.knownRank, rank(head)); return }
      // Newer than anything it signed: never adopted. Forged → the sender's fault; validly signed →
      // the key is used elsewhere (a warning with the evidence; the broadcast goes on, the relay is not blamed).
      if (!await state.verifySignature(head)) return this.onPeerFault(peer, 'BAD_SIGNATURE', 'head is not signed by the stream key')
      const ev: Evidence = { heads: [state.head ?? head, head], position: Math.min(state.count, head.count), detail: 'a head this broadcaster did not sign carries its signature' }
      this.emit('warning', new LiveError('EQUIVOCATION', `the stream key signed a head elsewhere: ${ev.detail}`, ev))
      return
    }
    const v = await state.acceptHead(head, tail)
    if (this.destroyed) return
    if (!v.ok) {
      if (v.code === 'EQUIVOCATION') return this.onEquivocation(v.reason, v.evidence)
      if (PEER_FAULTS.has(v.code)) return this.onPeerFault(peer, v.code, v.reason)
      return
    }
    peer.knownCount = Math.max(peer.knownCount, head.count)
    peer.knownRank = Math.max(peer.knownRank, rank(head))
    if (v.status !== 'accepted') return
    this.stats.headsAccepted++
    const n = tail ? tail.hashes.length / PIECE_HASH_BYTES : 0
    this.applyHead(head, head.count - n, head.count)
    for (const p of this.peers) if (p !== peer) this.sendHead(p)
  }

  /** After a head is accepted (or signed here): grow, learn hashes, select, wake readers. */
  applyHead (head: SignedHead, knownFrom: number, knownTo: number): void {
    patches.grow(this.torrent, head.count, head.length)
    if (this.startPiece === null) {
      this.startPiece = Math.max(0, head.count - this.liveEdgePieces)
      patches.setWantedFrom(this.torrent, this.headPieces > 0 ? 0 : this.startPiece)
    }
    this.learnHashes(knownFrom, knownTo)
    for (const p of this.peers) patches.retryPendingBitfield(p.wire)
    for (const [p, t] of this.claimTimers) if (p.claimedCount <= this.count + MAX_HAVE_AHEAD) { clearTimeout(t); this.claimTimers.delete(p) } // proved
    this.emit('head', head)
    if (head.ended) {
      patches.setWantedFrom(this.torrent, 0) // after the end an app may want the whole recording
      patches.setEnded(this.torrent)
      this.emit('ended', head)
    }
    this.notify()
    this.requestPages()
    this.maybeFinish()
  }

  sendHead (peer: LivePeer): void {
    const state = this.state
    const h = state?.head
    if (!state || !h || !peer.supported || peer.knownRank >= rank(h)) return
    peer.send({ type: 'head', head: h, tail: state.tailFor(peer.knownCount, MAX_TAIL_HASHES) })
    peer.knownRank = rank(h)
    peer.knownCount = Math.max(peer.knownCount, h.count)
  }

  /** Sends the current head to every peer that lacks it. */
  announce (): void {
    for (const p of this.peers) this.sendHead(p)
  }

  private onEquivocation (reason: string, evidence?: Evidence): void {
    this.fail(new LiveError('EQUIVOCATION', `the broadcaster signed two histories: ${reason}`, evidence))
  }

  // ---- hashes -----------------------------------------------------------------------------

  /**
   * Hashes [from, to) are verified: WebTorrent reads them straight from the log (patches.hashesFrom);
   * select the wanted ones.
   */
  private learnHashes (from: number, to: number): void {
    const state = this.state
    if (!state || from >= to) return
    this.adoptFromDisk(from, to)
    if (this.role === 'viewer' && this.startPiece !== null) {
      const lo = Math.max(from, this.startPiece)
      if (lo < to) patches.selectGrowing(this.torrent, lo, to - 1)
      const headEnd = Math.min(to, this.headPieces, this.startPiece)
      if (from < headEnd) patches.selectGrowing(this.torrent, from, headEnd - 1)
    }
  }

  /**
   * A peer restarted on its store (same path) finds verified pieces already on disk: each one whose
   * bytes hash to the verified hash is adopted, not downloaded again. Only stores that can show
   * their bytes (FileStore.peek) take part; reads stop at the end of the file.
   */
  private adoptFromDisk (from: number, to: number): void {
    const raw = patches.rawStore(this.torrent)
    const state = this.state
    if (!state || this.role !== 'viewer' || typeof raw?.peek !== 'function' || typeof raw.adopt !== 'function') return
    if (raw.initialSize === 0) return // nothing on disk from an earlier run: no read on the hot path
    let adopted = 0
    let read = 0
    let i = Math.max(from, this.startPiece ?? 0)
    try {
      for (; i < to; i++) {
        if (read >= ADOPT_BYTES_PER_TURN) break // the rest on the next turn of the event loop
        if (this.has(i)) continue
        const expected = state.log.get(i)
        if (!expected) continue
        const len = this.pieceLength(i)
        const bytes = raw.peek(i, len)
        if (!bytes) { i = to; break } // past the end of the file
        read += len
        if (!equal(hashes.sha1(bytes), expected)) continue
        raw.adopt(i, len)
        patches.markHave(this.torrent, i)
        adopted++
      }
    } catch (err) {
      this.fail(new LiveError('STORE_FAILED', `storage failed, the torrent stopped: ${(err as Error).message}`))
      this.torrent.destroy()
      return
    }
    if (i < to) { const next = i; setImmediate(() => { if (!this.destroyed) this.adoptFromDisk(next, to) }) }
    if (adopted > 0) {
      this.stats.adoptedPieces += adopted
      patches.checkDone(this.torrent)
      this.notify()
    }
  }

  private requestPages (): void {
    const state = this.state
    if (!state || this.role !== 'viewer' || this.destroyed || this.startPiece === null || state.evidence.length > 0) return
    // While live, only the hashes this viewer will download; after the end, all of them: the
    // final info dict is built from every piece hash, and then checked against the signed end.
    const floor = state.ended || this.headPieces > 0 ? 0 : this.startPiece
    // Pages are verified backwards (each must end where verified hashes begin), but several are
    // asked for at once, from different peers: a reply that cannot be placed yet waits in
    // `earlyPages` until the page above it is in. One page per round trip was the catch-up limit
    // (a HASHES reply queues behind the piece data the same peer is sending us).
    for (const [a, b] of state.log.gaps(state.count)) {
      if (b <= floor) continue
      let end = b
      for (let k = 0; k < PAGES_IN_FLIGHT && end > a && end > floor; k++) {
        const start = Math.max(a, end - MAX_PAGE_HASHES)
        if (!this.pages.has(end) && !this.earlyPages.has(end)) {
          const need = end
          const candidates = [...this.peers].filter((p) => p.supported && p.knownCount >= need && !p.wire.destroyed)
          if (candidates.length === 0) break
          const peer = candidates[Math.floor(Math.random() * candidates.length)]!
          const timer = setTimeout(() => this.onPageTimeout(peer, need, start), PAGE_TIMEOUT_MS)
          this.pages.set(end, { peer, start, count: end - start, timer })
          peer.send({ type: 'hash-request', start, count: end - start })
        }
        end = start
      }
    }
  }

  private onHashRequest (peer: LivePeer, start: number, count: number): void {
    const state = this.state
    const hashes = state?.log.range(start, start + count) ?? null
    const anchor = hashes ? state!.log.chainAt(start) : null
    if (!hashes || !anchor) return peer.send({ type: 'hash-reject', start, count })
    peer.send({ type: 'hashes', start, anchor, hashes })
  }

  private onHashes (peer: LivePeer, start: number, anchor: Uint8Array, hashesFlat: Uint8Array): void {
    const count = hashesFlat.length / PIECE_HASH_BYTES
    const end = start + count
    const req = this.pages.get(end)
    if (!req || req.peer !== peer || req.start !== start) return this.onPeerFault(peer, 'BAD_FIELD', 'unsolicited hash page')
    clearTimeout(req.timer)
    this.pages.delete(end)
    this.earlyPages.set(end, { peer, start, anchor, hashes: hashesFlat })
    this.placePages()
    this.requestPages()
    this.maybeFinish()
  }

  /**
   * A page not answered in time: ask the others first, but not forever — a busy peer (its reply
   * queued behind the piece data it sends us) is asked again after PAGE_RETRY_MS. Without that, a
   * stream that stops growing left a viewer whose only peer timed out once without those hashes.
   */
  private onPageTimeout (peer: LivePeer, end: number, start: number): void {
    this.pages.delete(end)
    this.askOthersFirst(peer, start)
  }

  /** Pages below `start` go to other peers for now; `peer` is asked again after PAGE_RETRY_MS. */
  private askOthersFirst (peer: LivePeer, start: number): void {
    const had = peer.knownCount
    peer.knownCount = Math.min(peer.knownCount, start)
    const retry = setTimeout(() => {
      if (this.destroyed || peer.wire.destroyed) return
      peer.knownCount = Math.max(peer.knownCount, had)
      this.requestPages()
    }, PAGE_RETRY_MS)
    retry.unref?.()
    this.requestPages()
  }

  /** Applies every received page that now ends where verified hashes begin (newest first). */
  private placePages (): void {
    const state = this.state
    if (!state) return
    for (let progress = true; progress && this.earlyPages.size > 0;) {
      progress = false
      for (const [end, pg] of this.earlyPages) {
        if (!state.log.intervals.some((iv) => iv.start === end)) continue // not placeable yet
        this.earlyPages.delete(end)
        const v = state.acceptPage(pg.start, pg.anchor, pg.hashes)
        if (!v.ok) {
          if (v.code === 'EQUIVOCATION') { this.earlyPages.clear(); this.onEquivocation(v.reason, v.evidence); return }
          if (v.code === 'BAD_CHAIN') this.onPeerFault(pg.peer, v.code, v.reason)
          continue
        }
        this.stats.pagesReceived++
        this.learnHashes(pg.start, end)
        this.notify()
        progress = true
      }
    }
  }

  private onHashReject (peer: LivePeer, start: number, count: number): void {
    const req = this.pages.get(start + count)
    if (!req || req.peer !== peer) return
    clearTimeout(req.timer)
    this.pages.delete(start + count)
    // Not from this peer for now; but a peer that is itself catching up will hold these hashes
    // soon, and it sends no newer head once the stream has ended: ask it again after a while.
    this.askOthersFirst(peer, start)
  }

  // ---- the end: the final torrent --------------------------------------------------------

  /** Once ended and every piece hash is known: build the final torrent, check it, serve it. */
  private maybeFinish (): void {
    const state = this.state
    const head = state?.head
    if (!state || !head?.ended || this.final || this.destroyed || this.error) return
    if (state.log.gaps(head.count).length > 0) return // pages still coming (requestPages)
    const pieceHashes = head.count === 0 ? new Uint8Array(0) : state.log.range(0, head.count)
    if (!pieceHashes) return
    const f = finalTorrent(this.torrent.name, this.torrent.pieceLength, head.length, pieceHashes, this.torrent.announce ?? [])
    if (!head.finalInfoHash || f.infoHash !== toHex(head.finalInfoHash)) {
      this.fail(new LiveError('BAD_FINAL', `the signed end names final infohash ${head.finalInfoHash ? toHex(head.finalInfoHash) : '(none)'}, but the stream's pieces give ${f.infoHash}`))
      return
    }
    this.final = f
    this.seedFinal(f)
  }

  private seedFinal (f: FinalTorrent): void {
    const client = this.torrent.client
    const existing = client.torrents.find((t: any) => t.infoHash === f.infoHash && !t.destroyed)
    if (existing) {
      // Someone added the final torrent to this client already, with its own storage: it serves
      // it as it will; nothing of ours is mirrored into it (it does not hold our pieces).
      this.finalTorrent = existing
      const done = (): void => { existing.removeListener('close', gone); this.finalServed = true; this.emit('final', f) }
      const gone = (): void => { existing.removeListener('ready', done); this.emit('failed', new LiveError('DESTROYED', 'the final torrent added to this client closed')) }
      if (existing.ready) queueMicrotask(done); else { existing.once('ready', done); existing.once('close', gone) }
      return
    }
    const ft = client.add(f.torrentFile, {
      preloadedStore: sharedStore(this.torrent),
      storeCacheSlots: 0,
      deselect: true,
      announce: this.torrent.announce ?? [],
      private: this.torrent.private === true
    })
    ft._liveOwner = this
    this.finalTorrent = ft
    patches.trustVerified(ft, (i) => this.has(i))
    ft.on('error', (err: Error) => { this.emit('warning', err); if (!this.finalServed) this.emit('failed', new LiveError('FINAL_FAILED', `the final torrent failed: ${err.message}`)) })
    patches.fastDone(ft) // WebTorrent's own done and interest checks scan every piece, per piece
    ft.on('verified', (index: number) => {
      // Downloaded on the final infohash (from a peer that only speaks plain BitTorrent).
      if (patches.markHave(this.torrent, index)) patches.checkDone(this.torrent)
    })
    ft.once('ready', () => {
      if (this.destroyed) return
      // Pieces verified on the live infohash between the add and now.
      for (let i = 0; i < this.count; i++) if (this.has(i)) patches.markHave(ft, i)
      patches.checkDone(ft)
      // Nothing is selected on the final torrent: what this viewer still wants comes on the live
      // infohash (selecting on both fetched many pieces twice) and is mirrored into it.
      this.finalServed = true
      this.emit('final', f)
    })
  }

  // ---- corrupt pieces ---------------------------------------------------------------------

  // A piece that fails with a single sender convicts it. One that fails with several is kept as a
  // suspect (each block's digest), fetched again from a single wire, and when it verifies every
  // sender whose block differs from the verified bytes is banned ("smart ban"): a corrupter cannot
  // get an honest peer that served other blocks of the same pieces banned.

  private noteBlock (index: number, offset: number, data: Uint8Array, wire: any): void {
    if (!(data instanceof Uint8Array)) return
    let list = this.blocks.get(index)
    if (!list) { list = []; this.blocks.set(index, list) }
    if (list.length < 1024) list.push({ wire, offset, length: data.length, data, digest: null })
  }

  private mayRequest (wire: any, index: number): boolean {
    const rejected = this.rejectedUntil.get(wire)
    if (rejected !== undefined) {
      if (rejected > Date.now()) return false
      this.rejectedUntil.delete(wire)
    }
    const slow = this.slowUntil.get(wire)
    if (slow !== undefined) {
      if (slow < Date.now()) this.slowUntil.delete(wire)
      else if (this.otherHolder(wire, index)) return false
    }
    if (!this.solo.has(index)) return true
    const d = this.solo.get(index)
    if (d === wire) return true
    if (d && !d.destroyed && !d.peerChoking && d.peerPieces.get(index)) return false
    this.solo.set(index, wire)
    return true
  }

  private onWarning (err: Error): void {
    const m = /^Piece (\d+) failed verification/.exec(err?.message ?? '')
    if (!m) return
    const index = Number(m[1])
    this.stats.corruptPieces++
    const blocks = this.blocks.get(index) ?? []
    this.blocks.delete(index)
    const who = new Set(blocks.map((b) => b.wire))
    if (who.size === 0) return
    if (who.size === 1) {
      this.solo.delete(index)
      for (const wire of who) this.banWire(wire, 'CORRUPT_PIECE', `sent data for piece ${index} that failed SHA-1 verification`)
      return
    }
    const kept = this.suspects.get(index) ?? []
    for (const b of blocks) {
      if (kept.length >= 1024) break
      kept.push({ wire: b.wire, offset: b.offset, length: b.length, data: null, digest: toHex(hashes.sha1(b.data!)) })
    }
    this.suspects.delete(index)
    while (this.suspects.size >= MAX_SUSPECT_PIECES) this.suspects.delete(this.suspects.keys().next().value as number)
    this.suspects.set(index, kept)
    this.solo.set(index, null)
  }

  private onPieceVerified (index: number): void {
    this.blocks.delete(index)
    this.solo.delete(index)
    const kept = this.suspects.get(index)
    if (!kept) return
    this.suspects.delete(index)
    const length = this.torrent.pieces.length > index ? (index === this.torrent.pieces.length - 1 ? this.torrent.lastPieceLength : this.torrent.pieceLength) : 0
    this.torrent.store.get(index, { offset: 0, length }, (err: Error | null, good?: Uint8Array) => {
      if (err || !good) return
      for (const b of kept) {
        if (b.offset + b.length > good.length) continue
        if (toHex(hashes.sha1(good.subarray(b.offset, b.offset + b.length))) === b.digest) continue
        this.banWire(b.wire, 'CORRUPT_PIECE', `sent a block of piece ${index} that differs from the verified piece`)
      }
    })
  }
}
