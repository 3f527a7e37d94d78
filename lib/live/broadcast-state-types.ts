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
