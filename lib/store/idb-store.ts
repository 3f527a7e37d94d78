/**
 * A growable chunk store in IndexedDB, for browsers following long programs: the stream's chunks
 * live on disk (one record per chunk, key = index) instead of in the tab's memory. Same contract as
 * MemoryStore: any index, any length ≤ chunkLength. One database per torrent
 * (`webtorrent-live/<infoHash>`); destroy() deletes it.
 *
 * A broadcaster resuming its state (broadcast-state-idb.ts) finds records an earlier session wrote,
 * which nobody has checked since: once checkAdopted() is called, each of those is read whole and
 * checked against its piece's hash on its first read, as FileStore does with the bytes of `--state`.
 */
import BitField from 'bitfield'
import { checkPut, type Callback, type ChunkStore, type StoreOptions } from './types.js'

const OBJECTS = 'chunks'

function req<T> (r: IDBRequest<T>): Promise<T> {
  return new Promise((resolve, reject) => { r.onsuccess = () => resolve(r.result); r.onerror = () => reject(r.error ?? new Error('IndexedDB request failed')) })
}

export interface IdbStoreOptions extends StoreOptions {
  /** Database name (default: webtorrent-live/<infoHash or name>). */
  dbName?: string
  /**
   * IndexedDB write durability: 'strict' flushes to disk before a put calls back (a broadcaster's
   * state needs that); default: the browser's default.
   */
  durability?: 'strict' | 'relaxed' | 'default'
}

export default class IdbStore implements ChunkStore {
  readonly chunkLength: number
  readonly dbName: string
  private db: Promise<IDBDatabase> | null = null
  private closed = false
  private readonly durability: 'strict' | 'relaxed' | 'default'
  /** Chunks written or checked in this session: the others were left by an earlier one. */
  private trusted = new BitField(0, { grow: Infinity })
  /** Chunks found damaged: every read fails (a peer's request is REJECTed) until one is put again. */
  private damaged = new BitField(0, { grow: Infinity })
  /** First reads under way (the blocks of one piece are read at once: they share one check). */
  private checking = new Map<number, Promise<void>>()
  private check: { check: (index: number, buf: Uint8Array) => boolean, damaged: (index: number) => void } | null = null

  /** Whether this environment has IndexedDB. */
  static get supported (): boolean { return typeof globalThis.indexedDB !== 'undefined' }

  constructor (chunkLength: number, opts: IdbStoreOptions = {}) {
    this.chunkLength = Number(chunkLength)
    if (!(this.chunkLength > 0)) throw new Error('First argument must be a chunk length')
    if (!IdbStore.supported) throw new Error('IndexedDB is not available here')
    this.durability = opts.durability ?? 'default'
    this.dbName = opts.dbName ?? `webtorrent-live/${opts.torrent?.infoHash ?? opts.name ?? opts.torrent?.name ?? 'stream'}`
  }

  private open (): Promise<IDBDatabase> {
    // A read still under way when close() ran must not reopen the database (and hold it open).
    if (this.closed) return Promise.reject(new Error('Storage is closed'))
    if (!this.db) {
      this.db = new Promise((resolve, reject) => {
        const r = globalThis.indexedDB.open(this.dbName, 1)
        r.onupgradeneeded = () => { if (!r.result.objectStoreNames.contains(OBJECTS)) r.result.createObjectStore(OBJECTS) }
        r.onsuccess = () => resolve(r.result)
        r.onerror = () => reject(r.error ?? new Error(`cannot open IndexedDB ${this.dbName}`))
        r.onblocked = () => reject(new Error(`IndexedDB ${this.dbName} is blocked by another tab`))
      })
    }
    return this.db
  }

  put (index: number, buf: Uint8Array, cb: Callback = () => {}): void {
    if (this.closed) return queueMicrotask(() => cb(new Error('Storage is closed')))
    const err = checkPut(this.chunkLength, index, buf)
    if (err) return queueMicrotask(() => cb(err))
    const copy = buf.slice()
    this.open().then((db) => new Promise<void>((resolve, reject) => {
      const tx = db.transaction(OBJECTS, 'readwrite', { durability: this.durability })
      tx.objectStore(OBJECTS).put(copy, index)
      tx.oncomplete = () => {
        if (this.check) { this.trusted.set(index, true); this.damaged.set(index, false) } // written: ours (no bits kept for a viewer)
        resolve()
      }
      tx.onerror = () => reject(tx.error ?? new Error('IndexedDB write failed'))
      tx.onabort = () => reject(tx.error ?? new Error('IndexedDB write aborted (quota?)'))
    })).then(() => cb(null), (e: Error) => cb(e))
  }

  get (index: number, opts: { offset?: number, length?: number } | null | undefined | Callback<Uint8Array>, cb?: Callback<Uint8Array>): void {
    if (typeof opts === 'function') { cb = opts; opts = null }
    const done = cb ?? (() => {})
    if (this.closed) return queueMicrotask(() => done(new Error('Storage is closed')))
    const o = opts
    this.firstRead(index)
      .then(() => this.open())
      .then((db) => req<unknown>(db.transaction(OBJECTS, 'readonly').objectStore(OBJECTS).get(index)))
      .then((v) => {
        if (this.damaged.get(index)) return done(new Error(`Chunk ${index} damaged in IndexedDB`))
        if (!(v instanceof Uint8Array)) return done(new Error('Chunk not found'))
        const offset = o?.offset ?? 0
        const length = o?.length ?? v.length - offset
        if (offset < 0 || length < 0 || offset + length > v.length) return done(new Error('Chunk range out of bounds'))
        done(null, v.subarray(offset, offset + length))
      }, (e: Error) => done(e))
  }

  /**
   * From now on the first read of each chunk an earlier session wrote reads it whole and passes it
   * to `check`: if that fails, the chunk is refused (`damaged(index)`, and every read of it fails,
   * so a peer's request is REJECTed rather than answered with bytes that fail its hash check).
   */
  checkAdopted (check: (index: number, buf: Uint8Array) => boolean, damaged: (index: number) => void): void {
    this.check = { check, damaged }
  }

  /** Resolves once `index` may be read: checked now if it is an earlier session's, unchecked. */
  private firstRead (index: number): Promise<void> {
    const c = this.check
    if (!c || this.trusted.get(index) || this.damaged.get(index)) return Promise.resolve()
    let p = this.checking.get(index)
    if (!p) {
      p = this.open()
        .then((db) => req<unknown>(db.transaction(OBJECTS, 'readonly').objectStore(OBJECTS).get(index)))
        .then((v) => {
          if (this.trusted.get(index) || !(v instanceof Uint8Array)) return // put meanwhile, or absent
          if (c.check(index, v)) { this.trusted.set(index, true); return }
          this.damaged.set(index, true)
          c.damaged(index)
        })
        .finally(() => this.checking.delete(index))
      this.checking.set(index, p)
    }
    return p
  }

  /** Drops every chunk from `index` on (a broadcaster resuming drops what it never announced). */
  truncate (index: number, cb: Callback = () => {}): void {
    this.open().then((db) => new Promise<void>((resolve, reject) => {
      const tx = db.transaction(OBJECTS, 'readwrite', { durability: this.durability })
      tx.objectStore(OBJECTS).delete(IDBKeyRange.lowerBound(index))
      tx.oncomplete = () => resolve()
      tx.onerror = () => reject(tx.error ?? new Error('IndexedDB delete failed'))
      tx.onabort = () => reject(tx.error ?? new Error('IndexedDB delete aborted'))
    })).then(() => cb(null), (e: Error) => cb(e))
  }

  /** The sliding window dropped every chunk below `below` (lib/live/window.ts): their records go. */
  release (below: number): void {
    if (this.closed || below <= 0) return
    this.open().then((db) => {
      db.transaction(OBJECTS, 'readwrite', { durability: this.durability }).objectStore(OBJECTS).delete(IDBKeyRange.upperBound(below, true))
    }).catch(() => {}) // best effort: a record left behind costs space, never a wrong byte (the bit is gone)
  }

  close (cb: Callback = () => {}): void {
    this.closed = true
    const db = this.db
    this.db = null
    if (!db) return queueMicrotask(() => cb(null))
    db.then((d) => d.close(), () => {}).then(() => cb(null))
  }

  destroy (cb: Callback = () => {}): void {
    this.close(() => {
      const r = globalThis.indexedDB.deleteDatabase(this.dbName)
      r.onsuccess = () => cb(null)
      r.onerror = () => cb(r.error ?? new Error('cannot delete the IndexedDB database'))
      r.onblocked = () => cb(null)
    })
  }
}
