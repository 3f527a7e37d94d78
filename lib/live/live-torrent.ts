/**
 * DEV DOCS
 *
 * LiveTorrent is the per-torrent controller behind `torrent.live`. Roles:
 *  - broadcaster: appends its own pieces, signs heads, announces them (HEAD, then HAVE): publish();
 *  - viewer: accepts verified heads from any peer, grows the torrent, learns piece hashes (from a
 *    head's tail, or pages fetched backwards), selects the pieces it wants, forwards new heads.
 *
 * There is one Peer (peer.ts) per wire that speaks ut_live; it owns what we know of that peer.
 * This controller owns the stream (StreamState) and decides; each concern is its own file:
 *
 *   extension.ts   the BEP 10 extension on each wire: rate, size, decode → onPeerMessage
 *   head-sync.ts   HEADs: check (one signature check per new head), then forward to the others
 *   page-sync.ts   hash pages: ask, verify backwards, place; answer others' requests
 *   selection.ts   verified hashes → select wanted pieces; adopt pieces already on disk
 *   peer-policy.ts bans, the claim budget, the TIMEOUT rule;  smart-ban.ts  who sent a bad piece's bytes
 *   final.ts       the end: the final, ordinary torrent, built, checked and served
 *   publish.ts / relay-policy.ts / push.ts  the broadcaster: a head signed, announced; who hears (is pushed) a piece first
 *   upload-budget.ts / request-routing.ts  REJECT beyond our uplink; whom not to ask for a while
 *   window.ts      the sliding window of an endless stream: what is kept, what is dropped
 *   limits.ts      every budget a peer's behaviour can drive, with its reason
 *
 * The way of a HEAD on a viewer:
 *   1. decode   extension.ts UtLive.onMessage → lib/protocol/messages.ts decode → onPeerMessage
 *   2. check    head-sync.ts HeadSync.check → lib/state/stream-state.ts acceptHead (signature,
 *               rank, tail chained into the hash log)
 *   3. apply    live-torrent.ts applyHead → patches.grow (torrent-growth.ts) → selection.ts
 *               learnHashes → select → WebTorrent downloads and SHA-1-verifies pieces as usual
 *               ('verified' → readers wake); page-sync.ts asks for the hashes still missing
 *   4. forward  head-sync.ts HeadSync.send to every other peer that lacks it (with its tail)
 * On the broadcaster, publish() (publish.ts) signs a head and starts at step 3, then sends HAVEs.
 * Every wire of a live torrent is adapted by patches/wire.ts; the torrent by patches/torrent-*.ts.
 * Misbehaving peers are disconnected and banned for BAN_MS (peer-policy.ts); the honest stream goes on.
 */
import { EventEmitter } from 'node:events'
import { toHex, fromHex } from '../protocol/bytes.js'
import { MAX_PIECES } from '../protocol/constants.js'
import { pieceLengthAt, type SignedHead } from '../protocol/head.js'
import { parseLiveInfo, type LiveInfo } from '../protocol/info.js'
import type { Message } from '../protocol/messages.js'
import { LiveError, type ErrorCode } from '../protocol/result.js'
import { StreamState, type Evidence } from '../state/stream-state.js'
import { ed25519, hashes } from '../crypto/index.js'
import * as patches from '../../patches/index.js'
import type { TorrentLike, WireLike } from '../../patches/index.js'
import { utLive, type LiveHost } from './extension.js'
import type { Peer } from './peer.js'
import { PeerPolicy, type Ban, type PolicyHost } from './peer-policy.js'
import { HeadSync } from './head-sync.js'
import { PageSync } from './page-sync.js'
import { PushSync } from './push.js'
import { SmartBan } from './smart-ban.js'
import { learnHashes } from './selection.js'
import { maybeFinish, ownsFinal, whenFinal, type FinalTorrent } from './final.js'
import { Redialer, wireAddr } from './redial.js'
import { publish, resume, type Publication } from './publish.js'
import { RequestRouting } from './request-routing.js'
import { UploadBudget } from './upload-budget.js'
import { OneWirePerPeer } from './one-wire.js'
import { SlidingWindow, type WindowOptions } from './window.js'

export type { Publication }
export * from './limits.js'

export type From = 'start' | 'live'

export interface LiveOptions extends WindowOptions {
  from?: From
  /** For from: 'live', how many of the newest pieces to start before the edge (default 1: the newest). */
  liveEdgePieces?: number
  /** Also fetch the first N pieces (default 0), whatever `from` is (an fMP4 init segment; hashes by pages from the edge). */
  headPieces?: number
  /** A viewer accepts pieces pushed unasked (PUSH, spec §7.9, push.ts); default true. */
  push?: boolean
}

export class LiveTorrent extends EventEmitter implements LiveHost, PolicyHost {
  readonly torrent: TorrentLike
  readonly role: 'broadcaster' | 'viewer'
  readonly from: From
  liveEdgePieces: number
  readonly headPieces: number
  state: StreamState | null = null
  info: LiveInfo | null = null
  /** First piece this peer wants (0 from the start; set at the first head for from: 'live'). */
  startPiece: number | null
  ready = false
  destroyed = false
  error: LiveError | null = null
  readonly stats = { invalidMessages: 0, bannedPeers: 0, corruptPieces: 0, pagesReceived: 0, headsAccepted: 0, adoptedPieces: 0, damagedPieces: 0, duplicateWires: 0 }
  /** After the end: the final, ordinary torrent ({ infoHash, magnetURI, torrentFile }), once verified here. */
  final: FinalTorrent | null = null
  /** After the end: the WebTorrent torrent serving the final infohash from this torrent's storage. */
  finalTorrent: TorrentLike | null = null
  /** @internal the final torrent is served here (final.ts) */
  finalServed = false

  /** @internal peers that speak ut_live */
  readonly peers = new Set<Peer>()
  /** @internal */
  readonly policy: PeerPolicy
  /** Steps 2 and 4 of a head's way; the broadcaster spreads its own heads through it (publish.ts, relay-policy.ts). */
  readonly heads: HeadSync
  private readonly pages: PageSync
  private readonly smartBan: SmartBan
  /** Whom not to ask for a while: peers that rejected us, slow peers (request-routing.ts). */
  private readonly routing: RequestRouting
  /** What this peer's uplink can serve soon; requests beyond it are rejected (upload-budget.ts). */
  readonly uploads = new UploadBudget(() => this.role === 'viewer')
  readonly window: SlidingWindow // what this peer keeps of an endless stream (window.ts)
  readonly acceptsPush: boolean // we said live_push: 1 (a viewer, unless push: false)
  readonly push: PushSync = new PushSync(this) // pieces pushed to us, and by us (push.ts)
  private waiters = new Set<() => void>()
  private peerOfWire = new WeakMap<object, Peer>()
  /** Sources that went away are dialled again while the stream is wanted (redial.ts). */
  private redial = new Redialer({
    wanted: () => this.stillWanted(),
    closed: () => this.destroyed,
    dial: (addr) => { try { if (!this.torrent.destroyed) this.torrent.addPeer(addr) } catch {} },
    liveWires: () => this.peers.size,
    reannounce: () => patches.reannounce(this.torrent)
  })

  constructor (torrent: TorrentLike, opts: LiveOptions & { role?: 'broadcaster' | 'viewer' } = {}) {
    super()
    this.torrent = torrent
    this.role = opts.role ?? 'viewer'
    this.from = opts.from ?? 'start'
    if (this.from !== 'start' && this.from !== 'live') throw new LiveError('BAD_ARGUMENT', "from must be 'start' or 'live'")
    this.liveEdgePieces = Math.max(1, opts.liveEdgePieces ?? 1)
    this.headPieces = Math.max(0, Math.floor(opts.headPieces ?? 0))
    this.acceptsPush = this.role === 'viewer' && opts.push !== false
    this.startPiece = this.role === 'broadcaster' ? 0 : null // from: 'start' at the metadata (window.ts)
    this.window = new SlidingWindow(this, opts)
    this.policy = new PeerPolicy(this)
    this.routing = new RequestRouting(torrent)
    this.heads = new HeadSync(this)
    this.pages = new PageSync(this)
    this.smartBan = new SmartBan({ torrent, corrupt: () => { this.stats.corruptPieces++ }, ban: (wire, code, reason) => this.policy.banWire(wire, code, reason) })
    patches.adaptTorrent(torrent)
    const oneWire = new OneWirePerPeer(torrent, this.stats) // its 'wire' listener first: a duplicate is closed before the one below sees it
    patches.filterPeers(torrent, (addr) => {
      if (this.isBanned(addr) || oneWire.connectedElsewhere(addr)) return false
      this.redial.noteDialable(addr)
      return true
    })
    patches.filterRequests(torrent, (wire, index) => this.mayRequest(wire, index))
    const Ext = utLive(this)
    torrent.on('wire', (wire: WireLike, addr?: string) => {
      if (oneWire.isDropped(wire) || (addr && this.isBanned(addr))) { wire.destroy(); return }
      patches.adaptWire(wire, {
        limit: () => this.policy.haveLimit(wire),
        onAbuse: (why) => this.policy.banWire(wire, 'BAD_FIELD', why),
        pieces: () => this.torrent.pieces.length, hardLimit: MAX_PIECES,
        has: (i) => this.has(i) || i < this.window.floor, // a dropped piece may still be asked for: not abuse
        quietHave: (i) => { const p = this.peerOf(wire); p?.heard(); p?.holds(i); return this.role === 'viewer' && this.has(i) } // the broadcaster's replication counts every HAVE
      })
      wire.use(Ext)
      patches.noDelay(torrent, wire)
      patches.emitRequestedPieces(wire)
      wire.on('requested-piece', (index: number, offset: number, data: Uint8Array) => this.smartBan.noteBlock(index, offset, data, wire))
      this.policy.watchTimeout(wire, (w) => this.routing.slow(w), () => this.uploads.queuedMs())
      this.uploads.watch(torrent, wire)
      wire.on('reject', () => this.routing.rejected(wire))
      wire.once('close', () => this.onWireClose(wire))
    })
    torrent.once('metadata', () => this.onMetadata())
    torrent.once('ready', () => this.onReady())
    torrent.on('verified', (index: number) => {
      this.smartBan.onVerified(index)
      const ft = this.finalTorrent
      if (ft?.ready && ownsFinal(this, ft) && patches.markHave(ft, index)) patches.checkDone(ft)
      this.notify()
    })
    torrent.on('warning', (err: Error) => this.smartBan.onWarning(err))
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
  get peerCount (): number { let n = 0; for (const p of this.peers) if (p.supported) n++; return n }
  /** Resolves with the final torrent once it is served here (at once if it already is). */
  whenFinal (): Promise<FinalTorrent> { return whenFinal(this) }

  /** Whether piece i is verified and stored here. */
  has (i: number): boolean { return i >= 0 && i < this.torrent.pieces.length && this.torrent.bitfield.get(i) === true }

  /** Length of piece i under the current head. */
  pieceLength (i: number): number {
    const h = this.state?.head
    return h ? pieceLengthAt(h, i, this.torrent.pieceLength) : 0
  }

  /** Resolves on the next change (a piece verified, a head, the end, an error or close). */
  changed (): Promise<void> { return new Promise((resolve) => { this.waiters.add(resolve) }) }

  /** @internal wakes changed() */
  notify (): void {
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
    this.window.onInfo() // from: 'start' is piece 0, or a window-only viewer's window start
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
    for (const p of this.peers) this.policy.onClaim(p)
    this.heads.onReady()
    // Peers that met us before we had the metadata were told we had none: tell them again.
    for (const wire of this.torrent.wires) patches.resendExtendedHandshake(wire, { live_n: this.count })
  }

  private onClose (): void {
    const failure = patches.rawStore(this.torrent)?.failure
    if (failure && !this.error) this.fail(new LiveError('STORE_FAILED', `storage failed, the torrent stopped: ${failure.message}`))
    this.destroyed = true
    this.redial.close()
    this.uploads.close()
    this.policy.close()
    const ft = this.finalTorrent
    // The final torrent reads this torrent's storage: it goes with it. (Not while the client is
    // being destroyed: the client destroys it itself, and a torrent destroyed twice never calls back.)
    if (ownsFinal(this, ft) && !ft.destroyed && ft.client && !ft.client.destroyed) ft.destroy()
    this.pages.close()
    this.notify()
    this.emit('close')
  }

  /** @internal */
  fail (err: Error): void {
    const e = err instanceof LiveError ? err : new LiveError((err as { code?: string }).code ?? 'ERROR', err.message)
    this.error = e
    this.notify()
    this.emit('failed', e) // internal: settles whenFinal()
    if (this.listenerCount('error') > 0) this.emit('error', e)
  }

  // ---- peers ------------------------------------------------------------------------------

  isBanned (key: string): boolean { return this.policy.isBanned(key) }

  /** @internal the Peer on a wire (peer-policy.ts) */
  peerOf (wire: WireLike): Peer | undefined { return this.peerOfWire.get(wire) }

  /** @internal a ban was decided (peer-policy.ts) */
  banned (ban: Ban): void {
    this.stats.bannedPeers++
    this.emit('peer-banned', ban)
  }

  onPeerReady (peer: Peer): void {
    if (this.role === 'viewer') this.redial.onLiveWire(wireAddr(peer.wire))
    this.peers.add(peer)
    this.peerOfWire.set(peer.wire, peer)
    this.policy.onClaim(peer)
    this.routing.setLastResort(peer.wire, this.role === 'viewer' && peer.isSourceGuess) // the broadcaster is asked last
    if (this.ready) { this.heads.send(peer); this.pages.request() }
  }

  /** Step 1 done (decoded): hand each message to its sync. */
  onPeerMessage (peer: Peer, msg: Message): void {
    switch (msg.type) {
      case 'head': return this.heads.onHead(peer, msg.head, msg.tail)
      case 'hash-request': return this.pages.onRequest(peer, msg.start, msg.count)
      case 'hashes': return this.pages.onHashes(peer, msg.start, msg.anchor, msg.hashes)
      case 'hash-reject': return this.pages.onReject(peer, msg.start, msg.count)
      case 'push': return this.push.onPush(peer, msg.index, msg.begin, msg.data)
    }
  }

  onPeerFault (peer: Peer, code: ErrorCode | 'FLOOD', reason: string): void {
    this.stats.invalidMessages++
    this.policy.banWire(peer.wire, code, reason, peer.peerId)
  }

  /**
   * Whether WebTorrent may ask `wire` for a block of piece `index` (patches.filterRequests): see
   * request-routing.ts; and a piece under suspicion comes from one wire only (smart-ban.ts).
   */
  private mayRequest (wire: WireLike, index: number): boolean {
    return this.routing.mayRequest(wire, index) && this.smartBan.mayRequest(wire, index) && this.push.mayRequest(index)
  }

  private onWireClose (wire: WireLike): void {
    let wasLive = false
    for (const p of this.peers) {
      if (p.wire !== wire) continue
      wasLive = true
      this.peers.delete(p)
      this.heads.forget(p)
      this.policy.forget(p)
      this.pages.forget(p)
      this.push.forget(p)
    }
    if (!this.destroyed) this.redial.onWireClose(wireAddr(wire), wasLive)
    if (!this.destroyed && wasLive && this.role === 'viewer' && this.peers.size === 0) this.redial.onLiveWireClosed()
    if (this.ready) this.pages.request()
  }

  /** Whether this viewer still wants the stream (re-dial): live, or ended with pieces missing here. */
  private stillWanted (): boolean {
    if (this.destroyed || this.error) return false
    if (!this.ended) return true
    for (let i = Math.max(this.startPiece ?? 0, this.window.heldFrom); i < this.count; i++) if (!this.has(i)) return true
    return false
  }

  // ---- heads ------------------------------------------------------------------------------

  /**
   * Step 3 (apply), after a head is accepted (head-sync.ts) or signed here (publish): grow, learn
   * hashes [knownFrom, knownTo), select, wake readers, ask for missing pages.
   * @internal
   */
  applyHead (head: SignedHead, knownFrom: number, knownTo: number): void {
    patches.grow(this.torrent, head.count, head.length)
    if (this.startPiece === null) {
      this.startPiece = Math.max(0, head.count - this.liveEdgePieces)
      patches.setWantedFrom(this.torrent, this.headPieces > 0 ? 0 : this.startPiece)
    }
    this.learnHashes(knownFrom, knownTo)
    for (const p of this.peers) patches.retryPendingBitfield(p.wire)
    this.policy.onProved()
    this.emit('head', head)
    if (head.ended) {
      patches.setWantedFrom(this.torrent, 0) // after the end an app may want the whole recording
      patches.setEnded(this.torrent)
      this.emit('ended', head)
    }
    this.window.onHead(head)
    this.notify()
    this.pages.request()
    this.maybeFinish()
  }

  /** Sends the current head to every peer that lacks it. */
  announce (): void { this.heads.announce() }

  /** Resolves once every head received so far is checked (applied or refused): a barrier (tests, push.ts). */
  idle (): Promise<void> { return this.heads.idle() }

  /** @internal */
  onEquivocation (reason: string, evidence?: Evidence): void {
    this.fail(new LiveError('EQUIVOCATION', `the broadcaster signed two histories: ${reason}`, evidence))
  }

  /** @internal hashes [from, to) are verified (selection.ts) */
  learnHashes (from: number, to: number): void { learnHashes(this, from, to) }

  /** @internal once ended and every hash is known: the final torrent (final.ts) */
  maybeFinish (): void { maybeFinish(this) }

  // ---- the broadcaster's side ---------------------------------------------------------------

  /** Broadcaster: the index the next published piece gets. */
  get nextPiece (): number { return this.state?.log.end ?? 0 }

  /**
   * Broadcaster: publishes pieces already stored at nextPiece…: one new signed head over them,
   * applied, announced (HEAD), then HAVEs. The one way the broadcaster changes the stream (publish.ts).
   */
  publish (p: Publication): Promise<SignedHead> { return publish(this, p) }

  /** Broadcaster: resumes a persisted stream from its hashes and head (publish.ts). */
  resume (head: SignedHead, pieceHashes: Uint8Array[], label: string, restoreData: () => Promise<void>): Promise<void> {
    return resume(this, head, pieceHashes, label, restoreData)
  }
}
