/**
 * The shapes patches/ (and the live layer) see of WebTorrent's objects: the public members they
 * read, and the private ones patches/ adapts (each also listed in the REQUIRES of the file that
 * uses it, and checked at start-up by check.ts). Not WebTorrent's full API: only what is used.
 */
import type BitField from 'bitfield'
import type Piece from 'torrent-piece'

type Listener = (...args: any[]) => void // eslint-disable-line @typescript-eslint/no-explicit-any

export interface EmitterLike {
  on (event: string, fn: Listener): unknown
  once (event: string, fn: Listener): unknown
  prependListener (event: string, fn: Listener): unknown
  removeListener (event: string, fn: Listener): unknown
  emit (event: string, ...args: unknown[]): boolean
}

/** A request pending on a wire (ours in `requests`, the peer's in `peerRequests`). */
export interface RequestLike {
  piece: number
  offset: number
  length: number
  callback?: (err: unknown, buffer?: Uint8Array) => void
}

/** A bittorrent-protocol Wire. */
export interface WireLike extends EmitterLike {
  destroyed: boolean
  peerId?: string
  type?: string
  remoteAddress?: string
  remotePort?: number
  peerPieces: BitField
  peerChoking: boolean
  amChoking: boolean
  amInterested: boolean
  isSeeder?: boolean
  hasFast: boolean
  allowedFastSet: number[]
  /** Our requests to the peer not yet answered (bittorrent-protocol's public field), and piece bytes it sent us. */
  requests: RequestLike[]
  downloaded: number
  peerRequests: RequestLike[]
  extendedHandshake: Record<string, unknown>
  peerExtendedHandshake?: Record<string, unknown>
  peerExtensions?: { extended?: boolean }
  ut_metadata?: { _metadataComplete?: boolean }
  lt_donthave?: EmitterLike
  _extendedHandshakeSent?: boolean
  have (index: number): void
  downloadSpeed (): number
  interested (): void
  uninterested (): void
  reject (index: number, offset: number, length: number): void
  piece (index: number, offset: number, buffer: Uint8Array): void
  destroy (): void
  use (extension: unknown): void
  extended (ext: string | number, payload: Uint8Array): void
  setTimeout (ms: number, unref?: boolean): void
  _onBitField (buffer: Uint8Array): void
  _onHave (index: number): void
  _onRequest (index: number, offset: number, length: number): void
  _onTimeout (): void
  /** Reads a message's 4-byte length prefix, then waits for its body (bittorrent-protocol internals: wire-requests.ts boundMessages). */
  _onMessageLength (buffer: Uint8Array): void
  _parse (size: number, parser: (buffer: Uint8Array) => void): void
  _parser: (buffer: Uint8Array) => void
  _parserSize: number
  cancel (index: number, offset: number, length: number): void
  push (chunk: unknown, ...rest: unknown[]): boolean
  _onPiece (index: number, offset: number, buffer: Uint8Array): void
  _message (id: number, numbers: number[], data: Uint8Array | null): void
  _sendExtendedHandshake (): void
}

/** A chunk store (abstract-chunk-store), possibly wrapped by WebTorrent (`.store` inside). */
export interface StoreLike {
  store?: StoreLike
  get (index: number, opts: { offset?: number, length?: number } | null | StoreCallback, cb?: StoreCallback): void
  put (index: number, buf: Uint8Array, cb?: (err: Error | null) => void): void
  // this package's own stores (lib/store/) add these; other stores lack them
  path?: string
  failure?: Error | null
  initialSize?: number
  peek? (index: number, length: number): Uint8Array | null
  adopt? (index: number, length: number, unchecked?: boolean): void
  checkAdopted? (check: (index: number, buf: Uint8Array) => boolean, damaged: (index: number) => void): void
  sync? (): void
  truncate? (count: number, cb: (err: Error | null) => void): void
}

type StoreCallback = (err: Error | null, buf?: Uint8Array) => void

export interface FileLike extends EmitterLike {
  offset: number
  length: number
  size: number
  done: boolean
  _endPiece: number
}

export interface SelectionLike { from: number, to: number, offset: number, isStreamSelection?: boolean }

/** A WebTorrent Torrent. */
export interface TorrentLike extends EmitterLike {
  destroyed: boolean
  ready: boolean
  done: boolean
  infoHash: string
  name: string
  info?: unknown
  metadata?: Uint8Array | null
  pieceLength: number
  lastPieceLength: number
  length: number
  announce?: string[]
  private?: boolean
  magnetURI: string
  torrentFile: Uint8Array
  progress: number
  uploaded: number
  downloaded: number
  uploadSpeed: number
  downloadSpeed: number
  numPeers: number
  pieces: Array<Piece | null>
  bitfield: BitField
  files: FileLike[]
  wires: WireLike[]
  store: StoreLike | null
  client?: ClientLike
  discovery?: {
    destroyed?: boolean
    complete?: () => void
    tracker?: { update?: () => void }
    dht?: { destroyed?: boolean, lookup?: (infoHash: string, cb: () => void) => unknown, announce?: (infoHash: string, port: number, cb: () => void) => unknown } | false
  }
  alwaysChokeSeeders: boolean
  _hashes: string[]
  _reservations: unknown[][]
  _selections?: { _items: SelectionLike[] }
  _critical: boolean[]
  _rarityMap?: RarityMapLike
  _peers: Map<string, { wire?: WireLike | null, conn?: unknown }>
  addPeer (peer: unknown, source?: unknown): boolean
  removePeer (peer: string): void
  _addPeer (peer: unknown, type?: unknown, source?: unknown): unknown
  select (from: number, to: number, priority?: number): void
  destroy (cb?: (err?: Error) => void): void
  _hasAllPieces (): boolean
  _checkDone (): boolean
  _gcSelections (): void
  _markVerified (index: number): void
  _update (): void
  _updateWireWrapper (): void
  _updateWire (wire: WireLike): unknown
  _markUnverified (index: number): void
  _updateWireInterest (wire: WireLike): void
  _verifyPieces (cb: (err: Error | null) => void): void
  _request (wire: WireLike, index: number, hotswap?: boolean): boolean
  _select (start?: number, end?: number, priority?: number, notify?: () => void, isStreamSelection?: boolean): void
}

/** WebTorrent's RarityMap (lib/rarity-map.js): how many peers have each piece. */
export interface RarityMapLike {
  destroyed?: boolean
  _numPieces: number
  _pieces: number[]
  _onWireHave: (index: number) => void
  _onWireBitfield: () => void
  _initWire (wire: WireLike): void
  _cleanupWireEvents (wire: WireLike): void
  recalculate (): void
  getRarestPiece (filter?: (i: number) => boolean): number
}

export interface ClientLike extends EmitterLike {
  destroyed: boolean
  /** This client's peer id (hex), as it sends it in handshakes. */
  peerId?: string
  torrents: TorrentLike[]
  listening?: boolean
  add (torrentId: unknown, opts?: Record<string, unknown>): TorrentLike
  address? (): { port: number } | null
  destroy (cb?: (err?: Error) => void): void
}

/**
 * A private member (or a fact about WebTorrent's code) a patch relies on, checked by check.ts:
 *  - where: the object it lives on. '*.prototype': the class (checked on load); 'torrent': a live
 *    torrent once ready; 'client': the client given to enableLive; 'wire': a fresh Wire; 'peWire': a fresh Wire with protocol encryption; 'Piece' / 'BitField': a fresh instance;
 *  - path: the member, dotted ('files.0._endPiece');
 *  - is: what it must be; 'source' means the code of the function at `path` matches `match` (for
 *    flags it sets and texts it emits that no type can show; written to match minified bundles too,
 *    where parameters are renamed and 0x10 is written 16).
 */
export interface Requirement {
  where: 'Torrent.prototype' | 'Wire.prototype' | 'File.prototype' | 'ut_metadata' | 'torrent' | 'wire' | 'peWire' | 'Piece' | 'BitField' | 'client'
  path: string
  is: 'function' | 'array' | 'number' | 'boolean' | 'object' | 'map' | 'bytes' | 'source'
  match?: RegExp
}
