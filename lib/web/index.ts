/**
 * webtorrent-live/web (Node): what a broadcaster needs to reach browsers — a WebSocket tracker,
 * WebTorrent options for WebRTC in Node, the demo page's server, and an fMP4 test programme.
 * The browser side is webtorrent-live/browser (dist/browser/webtorrent-live.js).
 */
export { startTracker, startWsTracker, webrtcClientOptions, WEBRTC_NODE_CLIENT_OPTS, type LocalTracker, type TrackerOptions, type WsTracker } from './tracker.js'
export { prepareWeb, allowBrowserPeers, ownTrackerUrl, withOwnTrackerUrls, type PrepareWebOptions, type WebSetup } from './attach.js'
export { serveWebPage, ensureBrowserAssets, type WebPage, type WebPageOptions } from './server.js'
export { testCard, testCardArgs, FRAGMENTED_MP4_ARGS, type TestCard, type TestCardOptions, type TestCardRecipe, type TestCardContainer } from './testcard.js'
export { BoxReader, findFragmentStart, mp4Codecs, mp4MimeOf } from './mp4.js'
export { isWebM, webmCodecs, webmMimeOf, webmInitLength, findClusterStart } from './webm.js'
export { containerOf, mimeOf, initLength, findMediaStart, readInit, type Container } from './media.js'
