/**
 * A broadcaster's state on disk (`broadcast(client, { state: DIR })`, CLI `--state DIR`), so that a
 * broadcaster restarted with the same folder — even after SIGKILL or a power cut — continues the
 * same stream: same infohash, no gap, and never two different signed heads for the same pieces.
 *
 *   DIR/live.torrent   the live .torrent (its info dict holds the key and nonce: the infohash)
 *   DIR/key.json       the stream key, when none is given (mode 0600)
 *   DIR/hashes         piece SHA-1s, 20 bytes each, appended (may run ahead of the head after a crash)
 *   DIR/head           the newest signed head: 77-byte body then 64-byte signature, replaced atomically
 *   DIR/data/NAME      the stream's bytes (the broadcaster's file store)
 *   DIR/lock           the pid of the broadcaster holding the folder (state-lock.ts)
 *
 * Write-ahead order for every head: piece data (fsync) → hashes (fsync) → head (temporary file,
 * fsync, rename, fsync of the folder) → only then is the head announced. On restart the persisted
 * head is re-applied as is (same signature); hashes and bytes beyond it were never announced and
 * are discarded, so whatever comes next is signed over a history nobody has seen a different
 * version of.
 */
import { closeSync, existsSync, fsyncSync, mkdirSync, mkdtempSync, openSync, readFileSync, readSync, readdirSync, renameSync, rmSync, statSync, truncateSync, writeSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import * as patches from '../../patches/index.js'
import type { StoreLike, TorrentLike } from '../../patches/index.js'
import type { BroadcastStatePersist, HashArchive } from './broadcast-state-types.js'
import { decodeHeadBody, encodeHeadBody, HEAD_BODY_BYTES, type SignedHead } from '../protocol/head.js'
import { PIECE_HASH_BYTES, SIGNATURE_BYTES } from '../protocol/constants.js'
import { LiveError } from '../protocol/result.js'
import { decodeKeyFile, encodeKeyFile, type KeyPair } from './keys.js'
import { lockStateFolder } from './state-lock.js'

export const HEAD_FILE_BYTES = HEAD_BODY_BYTES + SIGNATURE_BYTES

function fsyncPath (path: string): void {
  let fd: number | null = null
  try { fd = openSync(path, 'r'); fsyncSync(fd) } catch {} finally { if (fd !== null) closeSync(fd) }
}

/** Writes a file durably: temporary file, fsync, rename over the old one, fsync of the folder. */
export function writeFileDurable (path: string, bytes: Uint8Array | string, mode = 0o644): void {
  const tmp = `${path}.tmp`
  const fd = openSync(tmp, 'w', mode)
  try {
    const b = typeof bytes === 'string' ? Buffer.from(bytes) : bytes
    let off = 0
    while (off < b.length) off += writeSync(fd, b, off, b.length - off)
    fsyncSync(fd)
  } finally { closeSync(fd) }
  renameSync(tmp, path)
  fsyncPath(join(path, '..'))
}


/** `#broadcast-state` in Node: the state folder. */
export function openBroadcastState (dir: string): BroadcastStatePersist {
  return new BroadcastStateDir(dir)
}

/** What a state folder holds (and the `.tmp` of each, written then renamed): nothing else. */
const STATE_ENTRIES = new Set(['live.torrent', 'key.json', 'hashes', 'head', 'data', 'lock', 'lock.takeover', 'cli.json'])

export class BroadcastStateDir implements BroadcastStatePersist {
  readonly dir: string
  readonly torrentPath: string
  readonly keyPath: string
  readonly hashesPath: string
  readonly headPath: string
  readonly dataDir: string
  private hashesFd: number | null = null
  private unlock: (() => void) | null = null

  get label (): string { return this.dir }

  /** Holds the folder (DIR/lock, state-lock.ts) until close(): one broadcaster per folder. */
  async open (): Promise<void> {
    if (!this.unlock) this.unlock = lockStateFolder(this.dir)
  }

  constructor (dir: string) {
    this.dir = dir
    // A folder with other files and no stream in it is not taken for a state (`--state .` or
    // `--state ~`, a typo): its files would be overwritten (hashes, head) and truncated. One that
    // holds a stream (its live torrent or key) is a state, whatever else was put beside it.
    const entries = existsSync(dir) ? readdirSync(dir) : []
    const foreign = entries.includes('live.torrent') || entries.includes('key.json') ? [] : entries.filter((e) => !e.startsWith('.') && !STATE_ENTRIES.has(e.replace(/\.tmp$/, '')))
    if (foreign.length > 0) {
      throw new LiveError('BAD_STATE', `${dir} holds files that are not a broadcaster's state (${foreign.slice(0, 3).join(', ')}${foreign.length > 3 ? ', …' : ''}): give a new or empty folder`)
    }
    mkdirSync(dir, { recursive: true })
    this.torrentPath = join(dir, 'live.torrent')
    this.keyPath = join(dir, 'key.json')
    this.hashesPath = join(dir, 'hashes')
    this.headPath = join(dir, 'head')
    this.dataDir = join(dir, 'data')
  }

  /** The persisted live .torrent, or null for a new stream. */
  async readTorrent (): Promise<Uint8Array | null> {
    return existsSync(this.torrentPath) ? readFileSync(this.torrentPath) : null
  }

  async writeTorrent (bytes: Uint8Array): Promise<void> { writeFileDurable(this.torrentPath, bytes) }

  async readKey (): Promise<KeyPair | null> {
    if (!existsSync(this.keyPath)) return null
    return await decodeKeyFile(readFileSync(this.keyPath, 'utf8'))
  }

  async writeKey (kp: KeyPair): Promise<void> { writeFileDurable(this.keyPath, encodeKeyFile(kp), 0o600) }

  /** The persisted head, or null when none was ever written. */
  async readHead (): Promise<SignedHead | null> {
    if (!existsSync(this.headPath)) return null
    const b = new Uint8Array(readFileSync(this.headPath))
    if (b.length !== HEAD_FILE_BYTES) throw new LiveError('BAD_STATE', `${this.headPath} is ${b.length} bytes, expected ${HEAD_FILE_BYTES}`)
    const r = decodeHeadBody(b.subarray(0, HEAD_BODY_BYTES))
    if (!r.ok) throw new LiveError('BAD_STATE', `${this.headPath}: ${r.reason}`)
    return { ...r.value, signature: b.slice(HEAD_BODY_BYTES) }
  }

  async writeHead (h: SignedHead): Promise<void> {
    const b = new Uint8Array(HEAD_FILE_BYTES)
    b.set(encodeHeadBody(h), 0)
    b.set(h.signature, HEAD_BODY_BYTES)
    writeFileDurable(this.headPath, b)
  }

  /** The first `count` persisted piece hashes (20 bytes each); discards any beyond them. */
  async takeHashes (count: number): Promise<Uint8Array[]> {
    const need = count * PIECE_HASH_BYTES
    const size = existsSync(this.hashesPath) ? statSync(this.hashesPath).size : 0
    if (size < need) throw new LiveError('BAD_STATE', `${this.hashesPath} holds ${Math.floor(size / PIECE_HASH_BYTES)} piece hashes, the persisted head needs ${count}`)
    const flat = readPrefix(this.hashesPath, need)
    if (size > need) { truncateSync(this.hashesPath, need); fsyncPath(this.hashesPath) }
    const out: Uint8Array[] = []
    for (let i = 0; i < count; i++) out.push(flat.subarray(i * PIECE_HASH_BYTES, (i + 1) * PIECE_HASH_BYTES))
    return out
  }

  /** The first `count` piece hashes, flat. */
  async readHashes (count: number): Promise<Uint8Array> {
    return readPrefix(this.hashesPath, count * PIECE_HASH_BYTES)
  }

  /** Appends piece hashes and makes them durable. */
  async appendHashes (pieceHashes: Uint8Array[]): Promise<void> {
    if (pieceHashes.length === 0) return
    if (this.hashesFd === null) this.hashesFd = openSync(this.hashesPath, 'a')
    const b = Buffer.concat(pieceHashes)
    let off = 0
    while (off < b.length) off += writeSync(this.hashesFd, b, off, b.length - off)
    fsyncSync(this.hashesFd)
  }

  torrentOptions (): Record<string, unknown> { return { path: this.dataDir } }

  async syncData (torrent: TorrentLike): Promise<void> {
    const s = patches.rawStore(torrent)
    if (typeof s?.sync === 'function') s.sync()
  }

  async restoreData (torrent: TorrentLike, head: SignedHead | null): Promise<void> {
    const length = head?.length ?? 0
    const store = patches.rawStore(torrent) as (StoreLike & { segment?: number | null, firstOnDisk?: number, truncate?: (n: number) => void }) | null
    // Bytes beyond the head were never announced: drop them. (A window-only broadcaster's store
    // keeps segment files, file-store.ts: those beyond go, and the pieces below the oldest one left
    // were dropped by the window.)
    const segments = typeof store?.segment === 'number' && typeof store.truncate === 'function'
    if (segments) store.truncate!(length); else truncateData(torrent, length)
    if (!head) return
    if (typeof store?.adopt !== 'function') throw new LiveError('BAD_STATE', 'resuming a broadcast needs the file store')
    const pl = torrent.pieceLength
    // Unchecked: each is checked against its hash when first read (publish.ts resume()).
    for (let i = segments ? store.firstOnDisk ?? 0 : 0; i < head.count; i++) store.adopt(i, i === head.count - 1 ? head.length - i * pl : pl, true)
  }

  close (): void {
    if (this.hashesFd !== null) { try { closeSync(this.hashesFd) } catch {} this.hashesFd = null }
    this.unlock?.()
    this.unlock = null
  }
}

/** The first `n` bytes of a file (BAD_STATE if it is shorter). */
function readPrefix (path: string, n: number): Uint8Array {
  const out = new Uint8Array(n)
  if (n === 0) return out
  const fd = openSync(path, 'r')
  try {
    let got = 0
    while (got < n) {
      const k = readSync(fd, out, got, n - got, got)
      if (k === 0) throw new LiveError('BAD_STATE', `${path} holds ${got} bytes of piece hashes, ${n} are needed`)
      got += k
    }
  } finally { closeSync(fd) }
  return out
}

/**
 * `#broadcast-state` in Node: a window-only broadcaster without a state folder spills the piece
 * hashes its window forgets to a temporary file (20 bytes a piece, not fsynced: nothing resumes
 * from it), deleted on close; its END reads them back once.
 */
export function openHashSpill (): HashArchive {
  const dir = mkdtempSync(join(tmpdir(), 'webtorrent-live-hashes-'))
  const path = join(dir, 'hashes')
  let fd: number | null = openSync(path, 'w')
  return {
    append (pieceHashes) {
      if (fd === null) return
      const b = Buffer.concat(pieceHashes)
      let off = 0
      while (off < b.length) off += writeSync(fd, b, off, b.length - off)
    },
    async read (count) { return readPrefix(path, count * PIECE_HASH_BYTES) },
    close () {
      if (fd !== null) { try { closeSync(fd) } catch {} fd = null }
      try { rmSync(dir, { recursive: true, force: true }) } catch {}
    }
  }
}

function truncateData (torrent: TorrentLike, length: number): void {
  const path = patches.rawStore(torrent)?.path
  if (typeof path !== 'string') return
  let size = 0
  try { size = statSync(path).size } catch { return }
  if (size < length) throw new LiveError('BAD_STATE', `${path} holds ${size} bytes, the persisted head needs ${length}`)
  if (size > length) truncateSync(path, length)
}
