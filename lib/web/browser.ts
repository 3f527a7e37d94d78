/**
 * The browser entry of webtorrent-live (built into dist/browser/webtorrent-live.js by
 * scripts/build-browser.mjs): the whole library, plus the browser stores. WebTorrent itself is
 * not in the bundle: the app brings its own (`import WebTorrent from 'webtorrent'`).
 */
export * from '../index.js'
export { default as MemoryStore } from '../store/memory-store.js'
export { default as IdbStore, type IdbStoreOptions } from '../store/idb-store.js'
export { ed25519, nativeEd25519 } from '../crypto/index.js'
export { MediaFeeder, type MediaFeederOptions, type FeedStats } from './mse.js'
