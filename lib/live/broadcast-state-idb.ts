/**
 * A broadcaster's state in a browser tab (`broadcast(client, { state: NAME })` in the browser
 * bundle; `#broadcast-state` there), so that a reload or a crash of the tab continues the same
 * stream: same infohash, no gap, never two different signed heads for the same pieces. The same
 * write-ahead rule as the Node folder (broadcast-state.ts), in IndexedDB:
 *
 *   database  webtorrent-live-broadcast/NAME
 *     kv        'torrent' → the live .torrent, 'key' → the key file (keys.ts: encodeKeyFile),
 *               'head' → 77-byte head body then 64-byte signature
 *     hashes    piece index → its SHA-1 (may run ahead of the head after a crash)
 *   database  webtorrent-live-broadcast/NAME/data   the stream's bytes (an IdbStore, one record per piece)
 *
 * Every write is a 'strict' transaction (flushed before it completes), in the order piece bytes →
 * hashes → head → only then announced. One tab at a time: the state is held with a Web Lock
 * (navigator.locks) for as long as it is open, so a second tab cannot sign a second head.
 */
import { decodeHeadBody, encodeHeadBody, HEAD_BODY_BYTES, type SignedHead } from '../protocol/head.js'
import { PIECE_HASH_BYTES, SIGNATURE_BYTES } from '../protocol/constants.js'
import { LiveError } from '../protocol/result.js'
import IdbStore from '../store/idb-store.js'
import * as patches from '../../patches/index.js'
import type { TorrentLike } from '../../patches/index.js'
import type { BroadcastStatePersist, HashArchive } from './broadcast-state-types.js'
import { decodeKeyFile, encodeKeyFile, type KeyPair } from './keys.js'


const KV = 'kv'
const HASHES = 'hashes'
const HEAD_RECORD_BYTES = HEAD_BODY_BYTES + SIGNATURE_BYTES
export const STATE_DB_PREFIX = 'webtorrent-live-broadcast/'

/** `#broadcast-state` in browsers: the state named `name`, in IndexedDB. */
export function openBroadcastState (name: string): BroadcastStatePersist {
  return new BroadcastStateIdb(name)
}

/**
 * `#broadcast-state` in browsers: a window-only broadcaster without a state keeps the hashes its
 * window forgets here, in memory (20 bytes a piece); give it a `state` to keep them in IndexedDB.
 */
export function openHashSpill (): HashArchive {
  let kept: Uint8Array[] = []
  return {
    append (pieceHashes) { for (const h of pieceHashes) kept.push(h.slice()) },
    async read (count) { return flatten(kept.slice(0, count)) },
    close () { kept = [] }
  }
}

function flatten (hs: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(hs.length * PIECE_HASH_BYTES)
  hs.forEach((h, i) => out.set(h, i * PIECE_HASH_BYTES))
  return out
}

function done (tx: IDBTransaction): Promise<void> {
  return new Promise((resolve, reject) => {
    tx.oncomplete = () => resolve()
    tx.onerror = () => reject(tx.error ?? new Error('IndexedDB transaction failed'))
    tx.onabort = () => reject(tx.error ?? new Error('IndexedDB transaction aborted (quota?)'))
  })
}

function req<T> (r: IDBRequest<T>): Promise<T> {
  return new Promise((resolve, reject) => { r.onsuccess = () => resolve(r.result); r.onerror = () => reject(r.error ?? new Error('IndexedDB request failed')) })
}

export class BroadcastStateIdb implements BroadcastStatePersist {
  readonly name: string
  readonly dbName: string
  readonly dataDbName: string
  private db: IDBDatabase | null = null
  private nextHash = 0
  private release: (() => void) | null = null

  constructor (name: string) {
    if (typeof name !== 'string' || name.length === 0) throw new LiveError('BAD_OPTION', 'state must be a non-empty name (the IndexedDB database of the broadcast)')
    if (typeof globalThis.indexedDB === 'undefined') throw new LiveError('BAD_OPTION', 'state needs IndexedDB, which this environment does not have')
    this.name = name
    this.dbName = STATE_DB_PREFIX + name
    this.dataDbName = `${this.dbName}/data`
  }

  get label (): string { return `IndexedDB ${this.dbName}` }

  async open (): Promise<void> {
    if (this.db) return
    await this.lock()
    this.db = await new Promise<IDBDatabase>((resolve, reject) => {
      const r = globalThis.indexedDB.open(this.dbName, 1)
      r.onupgradeneeded = () => {
        for (const s of [KV, HASHES]) if (!r.result.objectStoreNames.contains(s)) r.result.createObjectStore(s)
      }
      r.onsuccess = () => resolve(r.result)
      r.onerror = () => reject(r.error ?? new Error(`cannot open ${this.label}`))
      r.onblocked = () => reject(new LiveError('STATE_BUSY', `${this.label} is blocked by another tab`))
    })
  }

  /** Holds the state for this tab (Web Locks, where the browser has them) until close(). */
  private async lock (): Promise<void> {
    const locks = (globalThis.navigator as Navigator | undefined)?.locks
    if (!locks?.request) return
    await new Promise<void>((resolve, reject) => {
      locks.request(this.dbName, { ifAvailable: true }, (lock: unknown) => {
        if (!lock) { reject(new LiveError('STATE_BUSY', `${this.label} is in use by another tab: one broadcaster per state`)); return }
        resolve()
        return new Promise<void>((release) => { this.release = release })
      }).catch(reject)
    })
  }

  private get(key: string): Promise<unknown> {
    return req(this.need().transaction(KV, 'readonly').objectStore(KV).get(key))
  }

  private async put (key: string, value: unknown): Promise<void> {
    const tx = this.need().transaction(KV, 'readwrite', { durability: 'strict' })
    tx.objectStore(KV).put(value, key)
    await done(tx)
  }

  private need (): IDBDatabase {
    if (!this.db) throw new LiveError('DESTROYED', `${this.label} is not open`)
    return this.db
  }

  async readTorrent (): Promise<Uint8Array | null> {
    const v = await this.get('torrent')
    return v instanceof Uint8Array ? v : null
  }

  async writeTorrent (bytes: Uint8Array): Promise<void> { await this.put('torrent', bytes.slice()) }

  async readKey (): Promise<KeyPair | null> {
    const v = await this.get('key')
    return typeof v === 'string' ? await decodeKeyFile(v) : null
  }

  async writeKey (kp: KeyPair): Promise<void> { await this.put('key', encodeKeyFile(kp)) }

  async readHead (): Promise<SignedHead | null> {
    const b = await this.get('head')
    if (b === undefined) return null
    if (!(b instanceof Uint8Array) || b.length !== HEAD_RECORD_BYTES) throw new LiveError('BAD_STATE', `the head in ${this.label} is not ${HEAD_RECORD_BYTES} bytes`)
    const r = decodeHeadBody(b.subarray(0, HEAD_BODY_BYTES))
    if (!r.ok) throw new LiveError('BAD_STATE', `the head in ${this.label}: ${r.reason}`)
    return { ...r.value, signature: b.slice(HEAD_BODY_BYTES) }
  }

  async writeHead (h: SignedHead): Promise<void> {
    const b = new Uint8Array(HEAD_RECORD_BYTES)
    b.set(encodeHeadBody(h), 0)
    b.set(h.signature, HEAD_BODY_BYTES)
    await this.put('head', b)
  }

  async takeHashes (count: number): Promise<Uint8Array[]> {
    const flat = await this.readHashes(count)
    const s = this.need().transaction(HASHES, 'readwrite', { durability: 'strict' }).objectStore(HASHES)
    s.delete(IDBKeyRange.lowerBound(count))
    await done(s.transaction)
    this.nextHash = count
    return Array.from({ length: count }, (_, i) => flat.subarray(i * PIECE_HASH_BYTES, (i + 1) * PIECE_HASH_BYTES))
  }

  async readHashes (count: number): Promise<Uint8Array> {
    const s = this.need().transaction(HASHES, 'readonly').objectStore(HASHES)
    const all = count > 0 ? await req(s.getAll(IDBKeyRange.bound(0, count, false, true))) as Uint8Array[] : []
    if (all.length < count || all.some((h) => !(h instanceof Uint8Array) || h.length !== PIECE_HASH_BYTES)) throw new LiveError('BAD_STATE', `${this.label} does not hold ${count} piece hashes of ${PIECE_HASH_BYTES} bytes`)
    return flatten(all)
  }

  async appendHashes (pieceHashes: Uint8Array[]): Promise<void> {
    if (pieceHashes.length === 0) return
    const tx = this.need().transaction(HASHES, 'readwrite', { durability: 'strict' })
    const s = tx.objectStore(HASHES)
    pieceHashes.forEach((h, k) => s.put(h.slice(), this.nextHash + k))
    await done(tx)
    this.nextHash += pieceHashes.length
  }

  torrentOptions (): Record<string, unknown> {
    return { store: IdbStore, storeOpts: { dbName: this.dataDbName, durability: 'strict' } }
  }

  /** IdbStore puts call back once their strict transaction is complete: nothing more to flush. */
  async syncData (): Promise<void> {}

  async restoreData (torrent: TorrentLike, head: SignedHead | null): Promise<void> {
    const truncate = patches.rawStore(torrent)?.truncate?.bind(patches.rawStore(torrent))
    if (typeof truncate !== 'function') throw new LiveError('BAD_STATE', 'a broadcaster state in IndexedDB needs its IdbStore')
    // Pieces beyond the head were never announced: drop them.
    await new Promise<void>((resolve, reject) => truncate(head?.count ?? 0, (err: Error | null) => err ? reject(err) : resolve()))
  }

  close (): void {
    this.db?.close()
    this.db = null
    this.release?.()
    this.release = null
  }

  /** Deletes a state (and its bytes): the stream cannot be resumed afterwards. */
  static async remove (name: string): Promise<void> {
    for (const n of [STATE_DB_PREFIX + name, `${STATE_DB_PREFIX}${name}/data`]) {
      await new Promise<void>((resolve, reject) => {
        const r = globalThis.indexedDB.deleteDatabase(n)
        r.onsuccess = () => resolve(); r.onblocked = () => resolve()
        r.onerror = () => reject(r.error ?? new Error(`cannot delete ${n}`))
      })
    }
  }
}
