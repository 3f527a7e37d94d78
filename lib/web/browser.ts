/**
 * The browser entry of webtorrent-live (built into dist/browser/webtorrent-live.js by
 * scripts/build-browser.mjs): viewers and broadcasters, the browser stores, the broadcaster's
 * state in IndexedDB and the MSE player. WebTorrent itself is not in the bundle: the app brings
 * its own (`import WebTorrent from 'webtorrent'`). BEP 46 pointers and file stores are Node-only
 * and not exported here.
 */
export { broadcast, Broadcaster, finalTorrent, DEFAULT_PIECE_LENGTH, type BroadcastOptions, type FinalTorrent } from '../live/broadcaster.js'
export { BroadcastStateIdb, STATE_DB_PREFIX } from '../live/broadcast-state-idb.js'
export type { BroadcastStatePersist } from '../live/broadcast-state-types.js'
export { magnetFor } from '../live/final.js'
export { enableLive, type EnableOptions, type AddLiveOptions, type LiveView } from '../live/enable.js'
export { createKeyPair, keyPairFromSeed, encodeKeyFile, decodeKeyFile, type KeyPair } from '../live/keys.js'
export { LiveTorrent, type From, type LiveOptions } from '../live/live-torrent.js'
export { createReadStream, createWebStream, livePieces, type ReadOptions } from '../live/reader.js'
export { LiveError } from '../protocol/result.js'
export { EXTENSION_NAME, PROTOCOL_VERSION } from '../protocol/constants.js'
export type { SignedHead, Head } from '../protocol/head.js'
export type { Evidence } from '../state/stream-state.js'
export { default as MemoryStore } from '../store/memory-store.js'
export { default as IdbStore, type IdbStoreOptions } from '../store/idb-store.js'
export { ed25519, nativeEd25519, ellipticEd25519, type Ed25519 } from '../crypto/index.js'
export { MediaFeeder, type MediaFeederOptions, type FeedStats, type LiveSource } from './mse.js'
export { BoxReader, findFragmentStart, mp4Codecs, mp4MimeOf } from './mp4.js'
export { isWebM, webmCodecs, webmMimeOf, webmInitLength, findClusterStart } from './webm.js'
export { containerOf, mimeOf, initLength, findMediaStart, readInit, type Container } from './media.js'
