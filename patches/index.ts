/**
 * The only module that reaches into WebTorrent's private state, one file per object it adapts;
 * each file lists what it relies on (REQUIRES), and check.ts checks those lists at start-up.
 */
export { checkInternals, checkClient, checkTorrentClass, checkReady, PINNED_WEBTORRENT, SUPPORTED_WEBTORRENT } from './check.js'
export type { TorrentLike, WireLike, ClientLike, StoreLike } from './types.js'
export { grow, hashesFrom } from './torrent-growth.js'
export { adaptTorrent, fastDone, selectGrowing, setWantedFrom, setEnded, markHave, trustVerified, checkDone, failedPiece, requestUpdate, forgetPieces, lastResort } from './torrent-progress.js'
export { releasePieces, releasedBelow } from './torrent-release.js'
export { filterPeers, filterRequests, connOf, noDelay } from './torrent-peers.js'
export { adaptWire, sendDontHave, type WireOptions } from './wire.js'
export { retryPendingBitfield, hasPendingBitfield, pendingBitfieldBytes, MAX_PENDING_BITFIELD_BYTES } from './wire-bitfield.js'
export { REQQ, MAX_PEER_REQUESTS, REJECT, emitRequestedPieces } from './wire-requests.js'
export { resendExtendedHandshake } from './wire-handshake.js'
export { rawStore } from './store.js'
export { followFile, type ByteRange } from './file.js'
export { reannounce } from './discovery.js'
export { countPushed, owedBytes, connBytes, wireBuffered, admitRequests, onRequestTimeout, cancelRequests, peerRequested, arriving } from './wire-upload.js'
export { fastMseHandshake } from './handshake.js'
export { shortUploadBurst, uploadLimit } from './client-throttle.js'
