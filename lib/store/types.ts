/** The abstract-chunk-store interface WebTorrent drives, with growth: any index, any length ≤ chunkLength. */
export type Callback<T = void> = (err: Error | null, value?: T) => void

export interface ChunkStore {
  readonly chunkLength: number
  put (index: number, buf: Uint8Array, cb?: Callback): void
  get (index: number, opts: { offset?: number, length?: number } | null | undefined | Callback<Uint8Array>, cb?: Callback<Uint8Array>): void
  close (cb?: Callback): void
  destroy (cb?: Callback): void
}

export interface StoreOptions {
  /** Folder for the data file (Node). */
  path?: string
  /** File name inside `path` (the torrent's name). */
  name?: string
  /** WebTorrent passes the torrent; used for nothing but naming. */
  torrent?: { name?: string, infoHash?: string }
}

/** Bounds checks shared by every store: reject what WebTorrent must never ask for. */
export function checkPut (chunkLength: number, index: number, buf: Uint8Array): Error | null {
  if (!Number.isInteger(index) || index < 0) return new Error(`invalid chunk index ${index}`)
  if (buf.length === 0 || buf.length > chunkLength) return new Error(`chunk ${index} has ${buf.length} bytes; at most ${chunkLength} allowed`)
  return null
}
