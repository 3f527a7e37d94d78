/**
 * The broadcaster: airs a program into a live torrent. Input in any chunk sizes; every full piece
 * is stored, committed into a new signed head and announced (HEAD to ut_live peers, then HAVE).
 * Only full pieces are published until end(), which publishes the last (possibly short) piece and
 * the signed end naming the final, ordinary torrent.
 */
import type { keepStreamPointer } from './bep46.js'
import { Writable } from 'node:stream'
import bencode from 'bencode'
import { finalTorrent, type FinalTorrent } from './final.js'
import { hashes, randomBytes } from '../crypto/index.js'
import { NONCE_BYTES } from '../protocol/constants.js'
import { equal, fromHex } from '../protocol/bytes.js'
import type { SignedHead } from '../protocol/head.js'
import { createLiveInfo, parseLiveInfo } from '../protocol/info.js'
import { LiveError } from '../protocol/result.js'
import { openBroadcastState, openHashSpill } from '#broadcast-state'
import { persistedHashes, type BroadcastStatePersist, type HashArchive } from './broadcast-state-types.js'
import { enableLive, type LiveView } from './enable.js'
import { createKeyPair, type KeyPair } from './keys.js'
import { Replication, type ReplicationStatus } from './replication.js'
import { RelayPolicy, type RelayOptions } from './relay-policy.js'
import type { ClientLike, StoreLike, TorrentLike, WireLike } from '../../patches/index.js'
import { windowPieces } from './window.js'


/** A torrent enableLive added live: WebTorrent's torrent with its controller. */
export type LiveTorrentLike = TorrentLike & { live: LiveView }

export interface BroadcastOptions {
  name: string
  /** Piece length in bytes: a power of two, 1 KiB … 16 MiB (default 16 KiB: low latency). */
  pieceLength?: number
  keyPair?: KeyPair
  /** 16 random bytes that make this broadcast's infohash unique (default: random). */
  nonce?: Uint8Array
  /** Tracker URLs written into the torrent and magnet link. */
  announce?: string[]
  /** Folder for the stored stream (Node). */
  path?: string
  /**
   * The broadcaster's persisted state: key, live torrent, piece hashes, head and bytes. In Node a
   * folder (broadcast-state.ts); in browsers the name of an IndexedDB database
   * (broadcast-state-idb.ts), which then also holds the stream's bytes. A broadcaster started
   * again with the same state continues the same stream (same infohash; `length` tells how many
   * bytes were already published). `name`, `pieceLength` and `nonce` then come from the state; a
   * `keyPair` must match the stored key.
   */
  state?: string | BroadcastStatePersist
  /**
   * Who hears of each new piece first (relay-policy.ts): by default a first tier, the rest from
   * the swarm, and from the broadcaster only a wire the swarm has not served within `fallbackMs`
   * (1500). `false` announces every piece to every peer at once.
   */
  relay?: RelayOptions | false
  /**
   * An endless stream (window.ts, spec §2 `live.window`): peers keep this much behind the edge and
   * may drop the rest. Pieces (a number), bytes ('512k', '1M', '4G') or a duration ('90s', '10m',
   * '2h'; needs `rate`). Committed in the info dict: a resumed stream keeps the window it aired with.
   */
  window?: number | string
  /** The stream's rate in bytes a second: turns a `window` duration into pieces. */
  rate?: number
  /**
   * Keep every piece (default true: the broadcaster builds and serves the final torrent). With
   * `false` on a windowed stream it keeps the window only, in memory and on disk; the hashes the
   * window forgets go to `state` (or, without one, a temporary spill file in Node) and are read
   * back once, so that the END still names the final torrent (which archive viewers serve).
   */
  archive?: boolean
  /** Any other WebTorrent torrent option. */
  [key: string]: unknown
}

export { finalTorrent, type FinalTorrent } from './final.js'

export const DEFAULT_PIECE_LENGTH = 16 * 1024

export class Broadcaster {
  readonly torrent: LiveTorrentLike
  readonly live: LiveView
  readonly keyPair: KeyPair
  readonly pieceLength: number
  readonly name: string
  private partial: Uint8Array
  private fill = 0
  private published = 0
  private chain: Promise<unknown> = Promise.resolve()
  /**
   * The first failure to store, persist or announce bytes. The bytes it held are gone (taken from
   * the partial piece), so nothing more is published: later writes and end() fail with
   * BROADCAST_FAILED rather than air a stream with a silent gap. With a state, run again to resume
   * at `length`.
   */
  get failure (): Error | null { return this.failed }
  private failed: Error | null = null
  private ending: Promise<FinalTorrent> | null = null
  private persist: BroadcastStatePersist | null
  /** BEP 46: the stream key's DHT pointer, where the client has a DHT (see bep46.ts). */
  pointer: ReturnType<typeof keepStreamPointer> | null = null
  /** Bytes already published when this broadcaster resumed a persisted stream (0 for a new one). */
  readonly resumedLength: number = 0
  /** Who hears of each new piece first (relay-policy.ts): the swarm carries the live edge. */
  readonly relay: RelayPolicy
  /** The final torrent the END named (set as it is signed). */
  private named: FinalTorrent | null = null

  constructor (torrent: LiveTorrentLike, keyPair: KeyPair, persist: BroadcastStatePersist | null = null, resumed: SignedHead | null = null, relay: RelayOptions | false = {}) {
    this.torrent = torrent
    this.persist = persist
    this.live = torrent.live
    this.keyPair = keyPair
    this.pieceLength = torrent.pieceLength
    this.name = torrent.name
    this.partial = new Uint8Array(this.pieceLength)
    const head = (w: WireLike, i: number): void => this.live.heads.sendCovering(w, i) // a peer told of a piece has a head covering it first
    this.relay = new RelayPolicy(torrent, relay === false ? { enabled: false, head } : { busy: () => this.live.uploads.full(), push: (w, i) => this.live.push.send(w, i), head, ...relay })
    if (this.live.window.windowOnly) {
      // Keeping the window only: the hashes the window forgets live on disk, not in memory.
      const a = persist ? persistedHashes(persist) : openHashSpill()
      this.live.window.hashes = a
      torrent.once('close', () => a.close())
    }
    if (resumed) {
      this.published = resumed.length
      this.resumedLength = resumed.length
      if (resumed.ended) {
        this.relay.stop()
        // A resumed stream that had ended: nothing more to publish; the final torrent as served
        // (or, keeping the window only, as named).
        this.ending = this.archived ? this.nameFinal(resumed) : this.live.whenFinal()
        this.ending.catch(() => {})
      }
    }
    this.replicas() // from the start: every wire's BITFIELD and HAVEs are counted as they come
  }

  /** A window-only broadcaster's hashes outside memory (window.ts `hashes`), or null. */
  private get archived (): HashArchive | null { return this.live.window.hashes }

  /** Whether the broadcast has ended (end() was called, or a resumed stream had ended). */
  get ended (): boolean { return this.live.ended }

  get infoHash (): string { return this.torrent.infoHash }
  get magnetURI (): string { return this.torrent.magnetURI }
  get torrentFile (): Uint8Array { return this.torrent.torrentFile }
  /** Bytes published in signed heads so far. */
  get length (): number { return this.published }

  /** Queues bytes for the stream; resolves once every full piece they complete is announced. */
  write (bytes: Uint8Array): Promise<void> {
    if (this.ending) return Promise.reject(new LiveError('ENDED', 'write after end()'))
    const copy = bytes.slice()
    const p = this.chain.then(() => { this.checkFailure(); return this.ingest(copy) })
    this.chain = p.catch((e: Error) => { if ((e as LiveError).code !== 'DESTROYED') this.failed ??= e }) // closed: DESTROYED again, said as such
    return p
  }

  private checkFailure (): void {
    const f = this.failed
    if (f) throw new LiveError('BROADCAST_FAILED', `nothing is published after byte ${this.published}, where storing the stream failed (${f.message})`)
  }

  /** A Node Writable: pipe a program into it; end() on the writable ends the broadcast. */
  createWriteStream (): Writable {
    return new Writable({
      write: (chunk: Uint8Array, _enc, cb) => { this.write(chunk).then(() => cb(), cb) },
      final: (cb) => { this.end().then(() => cb(), cb) }
    })
  }

  private async ingest (bytes: Uint8Array): Promise<void> {
    const pieces: Uint8Array[] = []
    let off = 0
    while (off < bytes.length) {
      const n = Math.min(this.pieceLength - this.fill, bytes.length - off)
      this.partial.set(bytes.subarray(off, off + n), this.fill)
      this.fill += n
      off += n
      if (this.fill === this.pieceLength) {
        pieces.push(this.partial)
        this.partial = new Uint8Array(this.pieceLength)
        this.fill = 0
      }
    }
    if (pieces.length) await this.publish(pieces, false)
  }

  /** Stores pieces, appends their hashes, signs one head over them and announces it (live.publish). */
  private async publish (pieces: Uint8Array[], ended: boolean): Promise<void> {
    const live = this.live
    if (!live.state || live.destroyed) throw new LiveError('DESTROYED', 'the broadcast torrent is closed')
    const first = live.nextPiece
    const pieceHashes = pieces.map((p) => hashes.sha1(p))
    for (let k = 0; k < pieces.length; k++) await put(this.torrent.store, first + k, pieces[k]!)
    if (this.persist) {
      // Write-ahead: bytes and hashes durable before the head that commits to them…
      await this.persist.syncData(this.torrent)
      await this.persist.appendHashes(pieceHashes)
    }
    this.archived?.append(pieceHashes)
    const length = this.published + pieces.reduce((a, p) => a + p.length, 0)
    await live.publish({
      pieceHashes,
      length,
      ended,
      secretKey: this.keyPair.secretKey,
      finalInfoHash: (all) => {
        this.named = finalTorrent(this.name, this.pieceLength, length, all, this.torrent.announce ?? [])
        return fromHex(this.named.infoHash)
      },
      beforeAnnounce: async (head) => {
        // …and the head durable before anyone sees it.
        if (this.persist) await this.persist.writeHead(head)
        this.published = length
        if (ended) this.relay.stop() // from the end on, a plain seeder: HAVE to everyone
      },
      tell: (i) => this.relay.announce(i)
    })
  }

  /**
   * Ends the broadcast: publishes the buffered remainder as the last (possibly short) piece and
   * a signed end. Resolves with the final, ordinary torrent. Calling it again returns the same.
   */
  end (): Promise<FinalTorrent> {
    if (this.ending) return this.ending
    this.ending = this.chain.then(async () => {
      this.checkFailure()
      const rest = this.fill > 0 ? [this.partial.slice(0, this.fill)] : []
      this.fill = 0
      // Keeping the window only, it cannot serve the final torrent: it names it (archive viewers serve it).
      const served = this.archived ? null : this.live.whenFinal()
      served?.catch(() => {}) // observed below; a failed publish must not leave it unhandled
      await this.publish(rest, true)
      return served ? await served : this.named!
    })
    return this.ending
  }

  /** Stops persisting (closes the state files). The torrent itself is closed with its client. */
  close (): void {
    this.persist?.close()
  }

  /** A resumed, ended, window-only stream: the final torrent its END named, from the archived hashes. */
  private async nameFinal (head: SignedHead): Promise<FinalTorrent> {
    const f = finalTorrent(this.name, this.pieceLength, head.length, await this.archived!.read(head.count), this.torrent.announce ?? [])
    if (!head.finalInfoHash || !equal(fromHex(f.infoHash), head.finalInfoHash)) throw new LiveError('BAD_STATE', 'the persisted hashes do not give the final infohash the persisted end names')
    return f
  }

  private replication: Replication | null = null

  /** Which pieces other connected peers hold (watched from the start; see replication.ts). */
  private replicas (): Replication {
    if (!this.replication) {
      // A resumed stream's earlier pieces reached the swarm in the run that published them.
      const before = this.resumedLength > 0 ? Math.ceil(this.resumedLength / this.pieceLength) : 0
      // A window-only broadcaster's goodbye guarantees the window (what every peer must still serve):
      // the pieces below it are dropped by window-only peers by design.
      const floor = (): number => this.archived ? this.live.window.start : 0
      const r = this.replication = new Replication(() => this.live.count, before, floor)
      r.on('change', (missing: number) => this.live.emit('replication', { missing, count: this.live.count }))
      r.watch(this.torrent)
      if (this.live.finalTorrent) r.watch(this.live.finalTorrent)
      this.live.on('final', () => r.watch(this.live.finalTorrent))
    }
    return this.replication
  }

  /** Pieces of the stream that exist only here (no connected peer holds them; with nobody connected, none ever did). */
  get piecesOnlyHere (): number {
    return this.replicas().missing
  }

  /**
   * The goodbye: resolves once no piece exists only here, or after `timeout` ms (default 30 s;
   * Infinity waits for ever), or when the torrent is destroyed, with `{ complete, missing }`. A
   * piece is safe when a peer connected now holds it (it announced it by BITFIELD, HAVE or
   * HAVE_ALL, on the live or the final infohash), or, with nobody connected, when some peer held
   * it before (see replication.ts). Call it after end() and before destroying the client, so no piece
   * leaves with the broadcaster. Progress: `live.on('replication', ({ missing, count }) => …)`,
   * fired when `piecesOnlyHere` changes.
   */
  async whenReplicated (opts: { timeout?: number } = {}): Promise<ReplicationStatus> {
    const r = this.replicas()
    if (this.torrent.destroyed) return { complete: r.missing === 0, missing: r.missing }
    let onClose: (() => void) | null = null
    const closed = new Promise<ReplicationStatus>((resolve) => {
      onClose = () => resolve({ complete: r.missing === 0, missing: r.missing })
      this.torrent.once('close', onClose)
    })
    try {
      return await Promise.race([r.whenComplete(opts.timeout ?? 30_000), closed])
    } finally {
      if (onClose) this.torrent.removeListener('close', onClose)
    }
  }
}

function put (store: StoreLike | null, index: number, buf: Uint8Array): Promise<void> {
  if (!store) return Promise.reject(new LiveError('DESTROYED', 'the broadcast torrent is closed'))
  return new Promise((resolve, reject) => store.put(index, buf, (err: Error | null) => err ? reject(err) : resolve()))
}

/** Starts a broadcast on a WebTorrent client; resolves when the stream is ready for peers. */
export async function broadcast (client: unknown, opts: BroadcastOptions): Promise<Broadcaster> {
  const c = enableLive(client) as ClientLike & { dht?: unknown }
  const { pieceLength = DEFAULT_PIECE_LENGTH, state: stateDir, window: win, rate } = opts
  const window = win === undefined ? undefined : windowPieces(win, pieceLength, rate)
  const persist = typeof stateDir === 'string' ? openBroadcastState(stateDir) : stateDir ?? null
  if (persist) await persist.open()
  try {
    return await start(c, opts, persist, window)
  } catch (err) {
    // A state opened here is released here (its lock too); one the caller opened is the caller's.
    if (persist && typeof stateDir === 'string') persist.close()
    throw err
  }
}

/** broadcast() once its state (if any) is open: a new stream, or the persisted one resumed. */
async function start (c: ClientLike & { dht?: unknown }, opts: BroadcastOptions, persist: BroadcastStatePersist | null, window: number | undefined): Promise<Broadcaster> {
  const { name, pieceLength = DEFAULT_PIECE_LENGTH, keyPair: kp, nonce: n, announce = [], state: _state, relay, window: _window, rate: _rate, archive = true, ...rest } = opts
  let keyPair = kp ?? null
  let torrentBytes = await persist?.readTorrent() ?? null
  let head: SignedHead | null = null
  if (persist && torrentBytes) {
    // A stream that aired before: same info dict, so the same infohash.
    const parsed = parseLiveInfo(bencode.decode(torrentBytes)?.info)
    if (!parsed.ok) throw new LiveError('BAD_STATE', `${persist.label} does not hold a live torrent: ${parsed.reason}`)
    const stored = await persist.readKey()
    keyPair = keyPair ?? stored
    if (!keyPair) throw new LiveError('BAD_STATE', `${persist.label} holds a stream but no key: give the key it was aired with`)
    if (!equal(keyPair.publicKey, parsed.value.publicKey)) throw new LiveError('KEY_MISMATCH', `the key does not match the stream in ${persist.label}`)
    head = await persist.readHead()
  } else {
    if (!keyPair && persist) keyPair = await persist.readKey()
    if (!keyPair) {
      keyPair = await createKeyPair()
      if (persist) await persist.writeKey(keyPair)
    }
    const nonce = n ?? randomBytes(NONCE_BYTES)
    const info = createLiveInfo({ name, pieceLength, publicKey: keyPair.publicKey, nonce, ...(window !== undefined ? { window } : {}) })
    const file: Record<string, unknown> = { info, 'creation date': Math.floor(Date.now() / 1000) }
    if (announce.length) { file.announce = announce[0]; file['announce-list'] = announce.map((a) => [a]) }
    torrentBytes = bencode.encode(file)
    if (persist) await persist.writeTorrent(torrentBytes)
  }
  const addOpts: Record<string, unknown> = { ...rest, live: true, role: 'broadcaster', archive, announce, skipVerify: true }
  if (persist) Object.assign(addOpts, persist.torrentOptions())
  const torrent = c.add(torrentBytes, addOpts) as LiveTorrentLike
  await new Promise<void>((resolve, reject) => {
    const onErr = (err: Error): void => reject(err)
    torrent.once('error', onErr)
    torrent.live.once('ready', () => { torrent.removeListener('error', onErr); resolve() })
  })
  try {
    if (persist && head) await restore(torrent, persist, head)
    else if (persist) { await persist.takeHashes(0); await persist.restoreData(torrent, null) }
  } catch (err) {
    // Not left in the client: a second broadcast() (after mending the state) adds it again.
    if (!torrent.destroyed) await new Promise<void>((resolve) => torrent.destroy(() => resolve())) // (a destroyed one never calls back)
    throw err
  }
  const bc = new Broadcaster(torrent, keyPair, persist, head, relay)
  // BEP 46: where the client has a DHT, point the stream's key at it (optional, never required).
  // Imported lazily: BEP 46 is Node-only, and the browser bundle replaces bep46.js with nothing.
  if (c.dht && opts.dhtPointer !== false) bc.pointer = (await import('./bep46.js')).keepStreamPointer(bc)
  return bc
}

/** Re-applies a persisted head: its hashes, its pieces on disk, the head itself (same signature). */
async function restore (torrent: LiveTorrentLike, persist: BroadcastStatePersist, head: SignedHead): Promise<void> {
  const live = torrent.live
  await live.resume(head, await persist.takeHashes(head.count), persist.label, () => persist.restoreData(torrent, head))
}
