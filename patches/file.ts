/**
 * A live torrent's file, as WebTorrent's public File API sees it. WebTorrent's File reads a
 * snapshot: its iterator (behind `file.createReadStream()`, `for await (const c of file)`,
 * `file.arrayBuffer()` …) fixes `file.length` when it starts. For a live torrent the iterator
 * follows the growing stream instead (waits at the edge, ends when the broadcast ends), so apps that
 * read a torrent's file get the whole program. WebTorrent's HTTP server (`client.createServer()`)
 * sets Content-Length from `file.length` and then asks for that range, or passes `null` for a
 * request without Range: both read the snapshot it announced (null → [0, file.length − 1]).
 *
 * Members used: File.prototype[Symbol.asyncIterator] (the instance's is replaced).
 */
import type { FileLike, Requirement, TorrentLike } from './types.js'


export const REQUIRES: readonly Requirement[] = [
  { where: 'File.prototype', path: '@@asyncIterator', is: 'function' },
  { where: 'File.prototype', path: 'createReadStream', is: 'function' }
]

export type ByteRange = { start?: number, end?: number }

/** Makes torrent.files[0] read through `read` (called with the caller's { start, end }, end inclusive). */
export function followFile (torrent: TorrentLike, read: (range: ByteRange) => AsyncGenerator<Uint8Array>): void {
  const f = torrent.files?.[0] as (FileLike & { [Symbol.asyncIterator]?: (opts?: ByteRange | null) => AsyncGenerator<Uint8Array> }) | undefined
  if (!f) return
  f[Symbol.asyncIterator] = function (this: FileLike, opts?: ByteRange | null) {
    if (opts === null) return read({ start: 0, end: this.length - 1 }) // WebTorrent's server: the length it sent
    return read({ ...(opts?.start !== undefined ? { start: opts.start } : {}), ...(opts?.end !== undefined ? { end: opts.end } : {}) })
  }
}
