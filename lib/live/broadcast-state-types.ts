/**
 * What a broadcaster needs from its persisted state, wherever it lives: a folder in Node
 * (broadcast-state.ts) or IndexedDB in a browser tab (broadcast-state-idb.ts). `#broadcast-state`
 * (package.json "imports") picks one; both export `openBroadcastState(name)`.
 *
 * The broadcaster keeps the write-ahead rule through this interface, whatever the medium: piece
 * bytes durable (syncData) → their hashes durable (appendHashes) → the head durable (writeHead) →
 * only then announced. On resume the persisted head is re-applied as is; hashes and bytes beyond
 * it were never announced and are dropped (takeHashes, restoreData).
 */
import type { SignedHead } from '../protocol/head.js'
import type { KeyPair } from './keys.js'
import type { TorrentLike } from '../../patches/index.js'


export interface BroadcastStatePersist {
  /** Where the state lives, for messages (a folder, or an IndexedDB database name). */
  readonly label: string
  /** Resolves once the state is open (and, in a browser, held by this tab alone). */
  open (): Promise<void>
  /** The persisted live .torrent, or null for a new stream. */
  readTorrent (): Promise<Uint8Array | null>
  writeTorrent (bytes: Uint8Array): Promise<void>
  readKey (): Promise<KeyPair | null>
  writeKey (kp: KeyPair): Promise<void>
  /** The persisted head, or null when none was ever written. */
  readHead (): Promise<SignedHead | null>
  writeHead (h: SignedHead): Promise<void>
  /** The first `count` persisted piece hashes; discards any beyond them. */
  takeHashes (count: number): Promise<Uint8Array[]>
  /** Appends piece hashes (after those takeHashes kept) and makes them durable. */
  appendHashes (pieceHashes: Uint8Array[]): Promise<void>
  /** The first `count` persisted piece hashes, flat (a window-only broadcaster's END reads them back). */
  readHashes (count: number): Promise<Uint8Array>
  /** WebTorrent torrent options that put the stream's bytes in this state (path or store). */
  torrentOptions (): Record<string, unknown>
  /** Makes the pieces already put into the torrent's store durable. */
  syncData (torrent: TorrentLike): Promise<void>
  /**
   * Drops stored bytes beyond `head` (never announced) and makes the pieces it commits to
   * readable from the torrent's store again. `head` null: a new stream, no bytes.
   */
  restoreData (torrent: TorrentLike, head: SignedHead | null): Promise<void>
  /** Releases the state (files, database, the tab's lock). */
  close (): void
}

/**
 * Where a window-only broadcaster (a windowed stream aired with `archive: false`) keeps the piece
 * hashes its window took out of memory: its END names the final torrent over every piece, so it
 * needs them once more, at the end. The persisted state already holds them (readHashes); without
 * one, `#broadcast-state` opens a spill (openHashSpill: a temporary file in Node).
 */
export interface HashArchive {
  /** Appends the hashes of the next pieces (before the head that commits to them is applied). */
  append (pieceHashes: Uint8Array[]): void
  /** The first `count` hashes, flat (20 bytes each). */
  read (count: number): Promise<Uint8Array>
  /** Frees what it holds (a spill file is deleted). */
  close (): void
}

/** The persisted state as a HashArchive: it appends its hashes itself (write-ahead), so append is a no-op. */
export function persistedHashes (persist: BroadcastStatePersist): HashArchive {
  return { append () {}, read: (count) => persist.readHashes(count), close () {} }
}
