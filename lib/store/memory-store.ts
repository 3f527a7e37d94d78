/** A growable in-memory chunk store (browsers, tests). Accepts any index; chunks may be short. */
import { checkPut, type Callback, type ChunkStore, type StoreOptions } from './types.js'

export default class MemoryStore implements ChunkStore {
  readonly chunkLength: number
  private chunks = new Map<number, Uint8Array>()
  private closed = false

  constructor (chunkLength: number, _opts: StoreOptions = {}) {
    this.chunkLength = Number(chunkLength)
    if (!(this.chunkLength > 0)) throw new Error('First argument must be a chunk length')
  }

  put (index: number, buf: Uint8Array, cb: Callback = () => {}): void {
    if (this.closed) return queueMicrotask(() => cb(new Error('Storage is closed')))
    const err = checkPut(this.chunkLength, index, buf)
    if (err) return queueMicrotask(() => cb(err))
    this.chunks.set(index, buf.slice())
    queueMicrotask(() => cb(null))
  }

  get (index: number, opts: { offset?: number, length?: number } | null | undefined | Callback<Uint8Array>, cb?: Callback<Uint8Array>): void {
    if (typeof opts === 'function') { cb = opts; opts = null }
    const done = cb ?? (() => {})
    if (this.closed) return queueMicrotask(() => done(new Error('Storage is closed')))
    const chunk = this.chunks.get(index)
    if (!chunk) return queueMicrotask(() => done(new Error('Chunk not found')))
    const offset = opts?.offset ?? 0
    const length = opts?.length ?? chunk.length - offset
    if (offset < 0 || length < 0 || offset + length > chunk.length) return queueMicrotask(() => done(new Error('Chunk range out of bounds')))
    queueMicrotask(() => done(null, chunk.subarray(offset, offset + length)))
  }

  /** The sliding window dropped this chunk (lib/live/window.ts). */
  delete (index: number): void { this.chunks.delete(index) }

  close (cb: Callback = () => {}): void { this.closed = true; queueMicrotask(() => cb(null)) }
  destroy (cb: Callback = () => {}): void { this.closed = true; this.chunks.clear(); queueMicrotask(() => cb(null)) }
}
