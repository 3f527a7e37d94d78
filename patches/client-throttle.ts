/**
 * P14 The client's upload limit, with a short burst. WebTorrent's `uploadLimit` option (and
 * `client.throttleUpload(rate)`) passes every wire's bytes through one speed-limiter ThrottleGroup:
 * a token bucket that holds a whole second of tokens, so after a pause a second's worth of bytes goes
 * to the sockets at once. On TCP those bytes then wait in the kernel's send buffers (and the modem's
 * queue), where the live layer's upload budget (lib/live/upload-budget.ts) cannot see them: they are
 * the queue the budget exists to keep short. With the limit a little under the host's uplink and
 * the bucket holding BURST_MS of tokens, the queue stays in the process (in the throttle, counted
 * as the wire's unsent bytes: countPushed against connBytes) and the kernel's stays near empty.
 *
 * The bucket is cut into slices of a quarter of it (speed-limiter's slice, a tenth of a second, would
 * need a full bucket each time, and tokens that come while it is full and the waiting slice's timer
 * is late are lost: the rate fell short of the limit on a busy event loop). A client without a limit
 * is untouched (its throttle stays disabled). The group is the client's, so its other torrents get
 * the short burst too.
 */
import type { Requirement } from './types.js'

export const REQUIRES: readonly Requirement[] = [
  { where: 'client', path: 'throttleUpload', is: 'function' },
  { where: 'client', path: 'throttleGroups.up', is: 'object' },
  { where: 'client', path: 'throttleGroups.up.getEnabled', is: 'function' },
  { where: 'client', path: 'throttleGroups.up.getChunksize', is: 'function' },
  { where: 'client', path: 'throttleGroups.up.setChunksize', is: 'function' },
  { where: 'client', path: 'throttleGroups.up.bucket.bucketSize', is: 'number' },
  { where: 'client', path: 'throttleGroups.up.bucket.tokensPerInterval', is: 'number' },
  { where: 'client', path: 'throttleGroups.up.bucket.interval', is: 'number' },
  { where: 'client', path: 'throttleGroups.up.bucket.content', is: 'number' }
]

/** The upload bucket holds at most this long of tokens (WebTorrent's: 1 s). */
export const BURST_MS = 100

interface Bucket { bucketSize: number, tokensPerInterval: number, interval: number, content: number }
interface Group { getEnabled: () => boolean, getChunksize: () => number, setChunksize: (n: number) => void, bucket: Bucket }
interface ThrottlingClient { throttleUpload: (rate: number) => unknown, throttleGroups: { up: Group } }

/** Bounds the burst of `client`'s upload limit to BURST_MS, now and whenever the limit is set again. */
export function shortUploadBurst (client: object): void {
  const c = client as ThrottlingClient
  /** The largest slice a throttle may still be waiting to send (cut before the limit changed). */
  let cut = 0
  const apply = (): void => {
    const group = c.throttleGroups.up
    const b = group.bucket
    if (!group.getEnabled() || !(b.tokensPerInterval > 0)) return
    const size = Math.max(1, Math.ceil(b.tokensPerInterval * BURST_MS / b.interval))
    group.setChunksize(Math.max(1, Math.floor(size / 4)))
    // Never below a slice already cut: speed-limiter asks for a slice's tokens at once, and a
    // request beyond the bucket fails the throttle (and WebTorrent drops the connection).
    b.bucketSize = Math.max(size, cut)
    if (b.content > b.bucketSize) b.content = b.bucketSize
  }
  const throttleUpload = c.throttleUpload
  c.throttleUpload = function (this: unknown, rate: number) {
    cut = Math.max(cut, c.throttleGroups.up.getChunksize())
    const r = throttleUpload.call(this, rate)
    apply()
    return r
  }
  apply()
}

/**
 * The rate `client`'s upload limit lets through now, bytes a second (Infinity: no limit, or not a
 * client this file adapts). Read at each call: the app may change the limit (client.throttleUpload).
 */
export function uploadLimit (client: object | undefined): () => number {
  const group = (client as Partial<ThrottlingClient> | undefined)?.throttleGroups?.up
  if (!group || typeof group.getEnabled !== 'function') return () => Infinity
  return () => {
    const b = group.bucket
    if (!group.getEnabled() || !(b.interval > 0)) return Infinity
    return Math.max(0, b.tokensPerInterval * 1000 / b.interval) // throttleUpload(0): nothing passes
  }
}
