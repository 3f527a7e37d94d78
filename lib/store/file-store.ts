/**
 * A growable on-disk chunk store for Node: one file, chunk i at offset i × chunkLength, so the file
 * is exactly the stream's bytes and an ordinary torrent can later be served from it as is.
 *
 * A window-only viewer of an endless stream (lib/live/window.ts; `storeOpts.windowOnly` and an info
 * dict with `live.window`) instead keeps a file per segment of SEGMENT pieces,
 * `<dir>/<name>.segments/<k>` (segmentFolderName), chunk i in segment ⌊i / SEGMENT⌋ at offset
 * (i mod SEGMENT) × chunkLength; release(below) deletes the segments wholly below `below`, so the disk holds the
 * window, its slack and at most one more segment. A restart finds the segments by their names.
 * Which chunks exist is kept in memory (a written-set), so reads of missing chunks fail cleanly.
 */
import { mkdirSync, openSync, readSync, readdirSync, writeSync, closeSync, statSync, rmSync, fsyncSync, truncateSync } from 'node:fs'
import { join, resolve, sep } from 'node:path'
import { unsafeNameReason } from '../protocol/name.js'
import { tmpdir } from 'node:os'
import { createHash } from 'node:crypto'
import BitField from 'bitfield'
import createDebug from 'debug'
import { checkPut, type Callback, type ChunkStore, type StoreOptions } from './types.js'

const debug = createDebug('webtorrent-live:store')

/** Pieces in one segment file of a window-only store: a sixty-fourth of the window, at least 16 (so the disk holds at most window + slack + one segment: window + 4.7% for a large window). */
export function segmentPieces (window: number): number {
  return Math.max(16, Math.ceil(window / 64))
}

/** The longest file name most file systems take (ext4, APFS, NTFS: 255 bytes or UTF-16 units). */
const MAX_NAME_BYTES = 255

/**
 * The folder of a window-only store's segments: `<name>.segments`, unless that is too long for one
 * file name (a valid name may take all 255 bytes): then a prefix of the name and a digest of all of
 * it, so that every name gets a folder of its own and a restart finds it again.
 */
export function segmentFolderName (name: string): string {
  const plain = `${name}.segments`
  if (Buffer.byteLength(plain) <= MAX_NAME_BYTES) return plain
  const digest = createHash('sha1').update(name).digest('hex').slice(0, 16)
  const chars = Array.from(name) // whole code points: a cut never splits a character
  while (Buffer.byteLength(chars.join('')) > 128) chars.pop()
  return `${chars.join('')}.${digest}.segments`
}

/** `live.window` of a (decoded) info dict, if it is a positive integer. */
function windowOf (info: unknown): number | null {
  const w = (info as { live?: { window?: unknown } } | undefined)?.live?.window
  return typeof w === 'number' && Number.isInteger(w) && w > 0 ? w : null
}

export default class FileStore implements ChunkStore {
  readonly chunkLength: number
  readonly path: string
  private fd: number | null = null
  /** Which chunks exist: a growable bit field (a Set of a million indices costs ~40 MB; this, 125 KB). */
  private written = new BitField(0, { grow: Infinity })
  private lengths = new Map<number, number>()
  private closed = false
  /** Pieces a segment file holds (window-only stores), or null: one file. */
  readonly segment: number | null = null
  private segFds = new Map<number, number>()

  constructor (chunkLength: number, opts: StoreOptions & { windowOnly?: boolean } = {}) {
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
    const window = opts.windowOnly === true ? windowOf((opts.torrent as { info?: unknown } | undefined)?.info) : null
    let size = 0
    if (window !== null) {
      this.segment = segmentPieces(window)
      this.path = join(dir, segmentFolderName(name))
      mkdirSync(this.path, { recursive: true })
      for (const k of this.segments()) size = Math.max(size, k * this.segment * this.chunkLength + statSync(join(this.path, String(k))).size)
    } else {
      this.path = path
      try { size = statSync(this.path).size } catch {}
    }
    this.initialSize = size
    debug('open %s (%d bytes on disk)', path, size)
  }

  private open (): number {
    if (this.failure && this.path === '') throw this.failure
    if (this.fd === null) { closeSync(openSync(this.path, 'a')); this.fd = openSync(this.path, 'r+') }
    return this.fd
  }

  /** The file and offset of byte `offset` of chunk `index`; `create` false: null if its segment file is gone. */
  private locate (index: number, offset: number, create = true): [number, number] | null {
    const n = this.segment
    if (n === null) return [this.open(), index * this.chunkLength + offset]
    const k = Math.floor(index / n)
    let fd = this.segFds.get(k)
    if (fd === undefined) {
      const f = join(this.path, String(k))
      if (!create) { try { statSync(f) } catch { return null } }
      closeSync(openSync(f, 'a'))
      fd = openSync(f, 'r+')
      this.segFds.set(k, fd)
    }
    return [fd, (index % n) * this.chunkLength + offset]
  }

  /** The sliding window dropped this chunk (lib/live/window.ts): reads of it fail from now on. */
  delete (index: number): void {
    this.written.set(index, false)
    this.lengths.delete(index)
  }

  /** The sliding window dropped every chunk below `below`: their segment files are deleted. */
  release (below: number): void {
    const n = this.segment
    if (n === null || this.closed) return
    for (const k of this.segments()) if ((k + 1) * n <= below) this.removeSegment(k)
  }

  /** The segment numbers on disk (files named by a number), in no particular order. */
  private segments (): number[] {
    return readdirSync(this.path).filter((f) => /^\d+$/.test(f)).map(Number)
  }

  private removeSegment (k: number): void {
    const fd = this.segFds.get(k)
    if (fd !== undefined) { try { closeSync(fd) } catch {} this.segFds.delete(k) }
    try { rmSync(join(this.path, String(k)), { force: true }) } catch {}
  }

  /**
   * Cuts the stored stream at `length` bytes (a resuming broadcaster drops bytes it never
   * announced): the one file is truncated; in a segment store the segments beyond go and the last
   * one is cut.
   */
  truncate (length: number): void {
    if (this.closed) return
    if (this.segment === null) {
      try { if (statSync(this.path).size > length) truncateSync(this.path, length) } catch {}
      return
    }
    const bytes = this.segment * this.chunkLength
    for (const k of this.segments()) {
      const keep = length - k * bytes
      const f = join(this.path, String(k))
      if (keep <= 0) this.removeSegment(k)
      else if (keep < bytes) { try { if (statSync(f).size > keep) truncateSync(f, keep) } catch {} }
    }
  }

  /** The first chunk whose bytes may still be on disk: 0 for one file, else the oldest segment's first. */
  get firstOnDisk (): number {
    if (this.segment === null || this.closed) return 0
    const k = Math.min(...this.segments())
    return k === Infinity ? 0 : k * this.segment
  }

  /**
   * Marks chunks already on disk as present: a restarted peer whose pieces were verified before
   * (`unchecked` false), or a resumed broadcaster's, whose bytes no one has checked since they were
   * written (`unchecked`: each is checked whole on its first read, once checkAdopted() is called).
   */
  adopt (index: number, length: number, unchecked = false): void {
    this.written.set(index, true)
    if (length !== this.chunkLength) this.lengths.set(index, length)
    if (unchecked) this.unchecked.set(index, true)
  }

  /**
   * From now on the first read of each unchecked adopted chunk reads it whole and passes it to
   * `check`: if that fails, the chunk is dropped (`damaged(index)`, and the read fails, so a peer's
   * request is REJECTed rather than answered with bytes that fail its hash check).
   */
  checkAdopted (check: (index: number, buf: Uint8Array) => boolean, damaged: (index: number) => void): void {
    this.check = { check, damaged }
  }

  /** Adopted chunks not read since they were adopted (checked on first read: checkAdopted). */
  private unchecked = new BitField(0, { grow: Infinity })
  private check: { check: (index: number, buf: Uint8Array) => boolean, damaged: (index: number) => void } | null = null

  /**
   * The bytes at chunk `index` as they are in the file, whether or not this store wrote them (a
   * restarted peer checks them against the piece's hash before adopting them); null past the end.
   */
  peek (index: number, length: number): Uint8Array | null {
    if (this.closed || index * this.chunkLength + length > this.initialSize) return null
    const at = this.locate(index, 0, false)
    if (!at) return new Uint8Array(length) // a segment deleted earlier: bytes that match no hash
    const [fd, pos] = at
    const out = Buffer.alloc(length)
    let got = 0
    while (got < length) {
      const n = readSync(fd, out, got, length - got, pos + got)
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
      const [fd, pos] = this.locate(index, 0)!
      let off = 0
      while (off < buf.length) off += writeSync(fd, buf, off, buf.length - off, pos + off)
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
    if (this.check && this.unchecked.get(index)) {
      // First read since adopted unchecked: the whole chunk, against its hash, once.
      this.unchecked.set(index, false)
      let whole: Uint8Array | null = null
      try { whole = this.read(index, 0, size) } catch {}
      if (!whole || !this.check.check(index, whole)) {
        this.written.set(index, false)
        this.check.damaged(index)
        return process.nextTick(done, new Error(`Chunk ${index} damaged on disk`))
      }
      return process.nextTick(done, null, Buffer.from(whole.buffer, whole.byteOffset + offset, length))
    }
    try {
      process.nextTick(done, null, this.read(index, offset, length))
    } catch (e) {
      process.nextTick(done, e as Error)
    }
  }

  /** `length` bytes of chunk `index` from `offset`, as they are on disk (throws if the file is short). */
  private read (index: number, offset: number, length: number): Buffer {
    const out = Buffer.alloc(length)
    const [fd, pos] = this.locate(index, offset)!
    let got = 0
    while (got < length) {
      const n = readSync(fd, out, got, length - got, pos + got)
      if (n === 0) throw new Error('Chunk truncated on disk')
      got += n
    }
    return out
  }

  /** Flushes file data to disk. */
  sync (): void { if (this.fd !== null) fsyncSync(this.fd); for (const fd of this.segFds.values()) fsyncSync(fd) }

  close (cb: Callback = () => {}): void {
    this.closed = true
    if (this.fd !== null) { try { closeSync(this.fd) } catch {} this.fd = null }
    for (const fd of this.segFds.values()) { try { closeSync(fd) } catch {} }
    this.segFds.clear()
    process.nextTick(cb, null)
  }

  destroy (cb: Callback = () => {}): void {
    this.close(() => {
      try { if (this.path !== '') rmSync(this.path, { force: true, recursive: this.segment !== null }) } catch {}
      cb(null)
    })
  }
}
