/**
 * A growable on-disk chunk store for Node: one file, chunk i at offset i × chunkLength, so the file
 * is exactly the stream's bytes and an ordinary torrent can later be served from it as is.
 * Which chunks exist is kept in memory (a written-set), so reads of missing chunks fail cleanly.
 */
import { mkdirSync, openSync, readSync, writeSync, closeSync, statSync, rmSync, fsyncSync } from 'node:fs'
import { join, resolve, sep } from 'node:path'
import { unsafeNameReason } from '../protocol/name.js'
import { tmpdir } from 'node:os'
import BitField from 'bitfield'
import createDebug from 'debug'
import { checkPut, type Callback, type ChunkStore, type StoreOptions } from './types.js'

const debug = createDebug('webtorrent-live:store')

export default class FileStore implements ChunkStore {
  readonly chunkLength: number
  readonly path: string
  private fd: number | null = null
  /** Which chunks exist: a growable bit field (a Set of a million indices costs ~40 MB; this, 125 KB). */
  private written = new BitField(0, { grow: Infinity })
  private lengths = new Map<number, number>()
  private closed = false

  constructor (chunkLength: number, opts: StoreOptions = {}) {
    this.chunkLength = Number(chunkLength)
    if (!(this.chunkLength > 0)) throw new Error('First argument must be a chunk length')
    // <path>/<infoHash>/<name>: the infohash keeps two streams of the same name (WebTorrent's
    // default path is shared by every torrent of a machine) from writing into one file, and stays
    // the same across restarts, so a restarted peer finds its pieces again.
    const base = opts.path ?? join(tmpdir(), 'webtorrent-live')
    const dir = opts.torrent?.infoHash ? join(base, String(opts.torrent.infoHash)) : base
    const name = String(opts.torrent?.name ?? opts.name ?? 'stream')
    // The name comes from a peer's info dict. It is checked before any path is joined, and the
    // joined path must stay inside the folder (defence in depth). An unsafe one makes a store that
    // touches nothing on disk and fails every call: WebTorrent calls this constructor before the
    // live layer has seen the info dict (which it then rejects), and a throw here would crash it.
    const why = unsafeNameReason(name)
    const path = join(dir, name)
    if (why !== null || !resolve(path).startsWith(resolve(dir) + sep)) {
      this.failure = new Error(`refusing to store ${JSON.stringify(name)}: not a safe file name${why ? ` (it ${why})` : ''}`)
      debug('%s', this.failure.message)
      this.path = ''
      this.initialSize = 0
      this.closed = true
      return
    }
    mkdirSync(dir, { recursive: true })
    this.path = path
    let size = 0
    try { size = statSync(this.path).size } catch {}
    this.initialSize = size
    debug('open %s (%d bytes on disk)', path, size)
  }

  private open (): number {
    if (this.failure && this.path === '') throw this.failure
    if (this.fd === null) { closeSync(openSync(this.path, 'a')); this.fd = openSync(this.path, 'r+') }
    return this.fd
  }

  /** Marks chunks already on disk as present (a restarted peer whose pieces were verified before). */
  adopt (index: number, length: number): void {
    this.written.set(index, true)
    if (length !== this.chunkLength) this.lengths.set(index, length)
  }

  /**
   * The bytes at chunk `index` as they are in the file, whether or not this store wrote them (a
   * restarted peer checks them against the piece's hash before adopting them); null past the end.
   */
  peek (index: number, length: number): Uint8Array | null {
    if (this.closed || index * this.chunkLength + length > this.initialSize) return null
    const fd = this.open()
    const out = Buffer.alloc(length)
    let got = 0
    while (got < length) {
      const n = readSync(fd, out, got, length - got, index * this.chunkLength + got)
      if (n === 0) return null
      got += n
    }
    return out
  }

  /** Bytes the file held when this store opened it: what an earlier run left (peek reads only those). */
  readonly initialSize: number

  /** The first write error (ENOSPC, EIO …), kept so the torrent's owner can say why it stopped. */
  failure: Error | null = null

  put (index: number, buf: Uint8Array, cb: Callback = () => {}): void {
    if (this.closed) return process.nextTick(cb, this.failure ?? new Error('Storage is closed'))
    const err = checkPut(this.chunkLength, index, buf)
    if (err) return process.nextTick(cb, err)
    try {
      const fd = this.open()
      let off = 0
      while (off < buf.length) off += writeSync(fd, buf, off, buf.length - off, index * this.chunkLength + off)
      this.written.set(index, true)
      if (buf.length !== this.chunkLength) this.lengths.set(index, buf.length); else this.lengths.delete(index)
      process.nextTick(cb, null)
    } catch (e) {
      this.failure ??= e as Error
      debug('write of chunk %d failed: %s', index, (e as Error).message)
      process.nextTick(cb, e as Error)
    }
  }

  get (index: number, opts: { offset?: number, length?: number } | null | undefined | Callback<Uint8Array>, cb?: Callback<Uint8Array>): void {
    if (typeof opts === 'function') { cb = opts; opts = null }
    const done = cb ?? (() => {})
    if (this.closed) return process.nextTick(done, new Error('Storage is closed'))
    if (!this.written.get(index)) return process.nextTick(done, new Error('Chunk not found'))
    const size = this.lengths.get(index) ?? this.chunkLength
    const offset = opts?.offset ?? 0
    const length = opts?.length ?? size - offset
    if (offset < 0 || length < 0 || offset + length > size) return process.nextTick(done, new Error('Chunk range out of bounds'))
    try {
      const out = Buffer.alloc(length)
      let got = 0
      while (got < length) {
        const n = readSync(this.open(), out, got, length - got, index * this.chunkLength + offset + got)
        if (n === 0) throw new Error('Chunk truncated on disk')
        got += n
      }
      process.nextTick(done, null, out)
    } catch (e) {
      process.nextTick(done, e as Error)
    }
  }

  /** Flushes file data to disk. */
  sync (): void { if (this.fd !== null) fsyncSync(this.fd) }

  close (cb: Callback = () => {}): void {
    this.closed = true
    if (this.fd !== null) { try { closeSync(this.fd) } catch {} this.fd = null }
    process.nextTick(cb, null)
  }

  destroy (cb: Callback = () => {}): void {
    this.close(() => {
      try { if (this.path !== '') rmSync(this.path, { force: true }) } catch {}
      cb(null)
    })
  }
}
