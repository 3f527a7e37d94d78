/** The only module that reaches into WebTorrent's private state. See check.ts for what it relies on. */
export { checkInternals, checkClient, checkTorrentClass, PINNED_WEBTORRENT, SUPPORTED_WEBTORRENT } from './check.js'
export { adaptTorrent, checkReady, filterPeers, grow, markHave, fastDone, selectGrowing, trustVerified, setWantedFrom, setEnded, hashesFrom, checkDone, connOf, rawStore } from './torrent.js'
export { REQQ, MAX_PEER_REQUESTS, adaptWire, emitRequestedPieces, onRequestTimeout, countPushed, connSent, admitRequests, retryPendingBitfield, hasPendingBitfield, noDelay, resendExtendedHandshake } from './wire.js'
export { followFile, type ByteRange } from './file.js'
export { reannounce } from './discovery.js'
export { fastMseHandshake, MseDiffieHellman } from './handshake.js'
