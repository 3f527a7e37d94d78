// `process` for the browser build, as WebTorrent's own webpack build provides it.
import * as process from 'webtorrent/polyfills/process-fast.js'
export { process }
