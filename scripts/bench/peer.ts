/**
 * One peer of `npm run bench`, run as a separate process by scripts/bench.ts (child_process.fork,
 * commands and replies over the IPC channel). Roles:
 *   broadcaster | viewer   webtorrent-live (ut_live) over loopback TCP
 *   seeder | leecher       stock WebTorrent, an ordinary v1 torrent (the catch-up reference)
 *   writer | replica       Hypercore 11 (the latency reference), replicating over real TCP sockets
 * Times are wall-clock milliseconds (performance.timeOrigin + performance.now()), comparable across
 * processes on one machine. Data lives in a temporary folder under os.tmpdir(), removed on exit.
 */
import WebTorrent from 'webtorrent'
import Hypercore from 'hypercore'
import net from 'node:net'
import { closeSync, mkdtempSync, openSync, readSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { basename, dirname, join as joinPath } from 'node:path'
import { randomBytes } from 'node:crypto'
import { broadcast, enableLive, type Broadcaster } from '../../lib/index.js'
import { CLIENT_OPTS } from '../../test/support/clients.js'

/* eslint-disable @typescript-eslint/no-explicit-any */

type Role = 'broadcaster' | 'viewer' | 'seeder' | 'leecher' | 'writer' | 'replica'
type Msg = Record<string, any> & { id: number, cmd: string }

const role = process.argv[2] as Role
const now = (): number => performance.timeOrigin + performance.now()
const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms))
const cpuMs = (): number => { const u = process.cpuUsage(); return (u.user + u.system) / 1000 }

let dir: string | null = null
let client: any = null
let bc: Broadcaster | null = null
let torrent: any = null
let core: any = null
let server: net.Server | null = null
const sockets = new Set<net.Socket>()
/** piece/block index → wall-clock ms when it was written (source) or verified (receiver). */
const times = new Map<number, number>()
/** With --trace: when a head covering piece i was accepted, the first HAVE(i) arrived, the first REQUEST for i went out. */
const headAt = new Map<number, number>()
const haveAt = new Map<number, number>()
const requestAt = new Map<number, number>()
const sent: Record<string, number> = {}
let recording = true
let contig = 0
let readBytes = 0
let bans = 0
let joinedAt = 0
let joinedCpu = 0
let background: ReturnType<typeof setInterval> | null = null
const waiters = new Set<() => void>()

function wake (): void { for (const w of [...waiters]) w() }
function waitUntil (pred: () => boolean): Promise<void> {
  return new Promise((resolve) => {
    if (pred()) { resolve(); return }
    const w = (): void => { if (pred()) { waiters.delete(w); resolve() } }
    waiters.add(w)
  })
}

function cleanup (): void {
  if (background) clearInterval(background)
  if (dir) { try { rmSync(dir, { recursive: true, force: true }) } catch {} dir = null }
}

async function shutdown (): Promise<void> {
  if (background) clearInterval(background)
  for (const s of sockets) s.destroy()
  if (server) server.close()
  const tasks: Promise<unknown>[] = []
  if (client) tasks.push(new Promise<void>((resolve) => client.destroy(() => resolve())))
  if (core) tasks.push(core.close().catch(() => {}))
  await Promise.race([Promise.all(tasks), sleep(5000)])
  cleanup()
}

process.on('disconnect', () => { shutdown().finally(() => process.exit(0)) })
process.on('SIGTERM', () => { cleanup(); process.exit(143) })

async function listen (onSocket: (s: net.Socket) => void): Promise<number> {
  server = net.createServer((s) => { sockets.add(s); s.once('close', () => sockets.delete(s)); s.setNoDelay(true); onSocket(s) })
  await new Promise<void>((resolve) => server!.listen(0, '127.0.0.1', () => resolve()))
  return (server.address() as net.AddressInfo).port
}

/** Hypercore replication over a TCP socket (Noise-encrypted, as Hypercore always replicates). */
function replicate (s: net.Socket, initiator: boolean): void {
  const r = core.replicate(initiator)
  r.on('error', () => {})
  s.on('error', () => {})
  s.pipe(r).pipe(s)
}

function trace (t: any): void {
  let known = 0
  t.live.on('head', (h: { count: number }) => { const at = now(); for (let i = known; i < h.count; i++) headAt.set(i, at); known = Math.max(known, h.count) })
  t.on('wire', (w: any) => {
    w.on('have', (i: number) => { if (!haveAt.has(i)) haveAt.set(i, now()) })
    const request = w.request
    w.request = function (this: any, index: number, ...rest: unknown[]) {
      if (!requestAt.has(index)) requestAt.set(index, now())
      return request.call(this, index, ...rest)
    }
    // Count the peer-wire messages this viewer sends, by type (each one a socket write).
    for (const name of ['have', 'interested', 'uninterested', 'choke', 'unchoke', 'request', 'piece', 'cancel', 'extended', 'bitfield', 'keepAlive']) {
      const f = w[name]
      if (typeof f !== 'function') continue
      w[name] = function (this: any, ...args: unknown[]) { sent[name] = (sent[name] ?? 0) + 1; return f.apply(this, args) }
    }
  })
}

function trackVerified (t: any): void {
  t.on('verified', (i: number) => {
    if (recording) times.set(i, now())
    const live = t.live
    if (live) { while (live.has(contig)) contig++ } else { while (t.bitfield?.get(contig)) contig++ }
    wake()
  })
}

/** A pool of random bytes, reused with a counter stamped into each piece (so data generation does not count as broadcaster CPU). */
let pool: Buffer | null = null
let stamp = 0
function poolChunk (bytes: number, pieceLength: number, at: number): Buffer {
  if (!pool) pool = randomBytes(64 * 1024 * 1024)
  const off = at % (pool.length - bytes + 1)
  const chunk = pool.subarray(off - (off % pieceLength), off - (off % pieceLength) + bytes)
  for (let p = 0; p + 8 <= chunk.length; p += pieceLength) chunk.writeDoubleBE(++stamp, p)
  return chunk
}

const handlers: Record<string, (m: Msg) => Promise<Record<string, unknown>>> = {
  async init (m) {
    dir = mkdtempSync(joinPath(tmpdir(), `wtl-bench-${role}-`))
    if (role === 'writer' || role === 'replica') {
      core = new Hypercore(joinPath(dir, 'core'), role === 'replica' ? Buffer.from(m.key, 'hex') : undefined)
      await core.ready()
      if (role === 'replica') core.on('download', (i: number) => { if (recording) times.set(i, now()); contig = core.contiguousLength; wake() })
      const port = await listen((s) => replicate(s, false))
      return { port, key: core.key.toString('hex') }
    }
    // m.tracker: peers come from the torrent's trackers (the bench's tracker-formed swarm), not from --peers.
    client = new WebTorrent({ ...CLIENT_OPTS, utPex: false, ...(m.tracker === true ? { tracker: true } : {}) })
    if (role === 'broadcaster' || role === 'viewer') enableLive(client)
    client.on('error', (err: Error) => process.send!({ event: 'error', message: err.message }))
    if (!client.listening) await new Promise((resolve) => client.once('listening', resolve))
    return { port: client.address().port }
  },

  async broadcast (m) {
    bc = await broadcast(client, { name: 'bench.bin', pieceLength: m.pieceLength, path: dir!, ...(m.announce ? { announce: m.announce } : {}), ...(m.relay === false ? { relay: false } : {}) })
    torrent = bc.torrent
    // Published: the piece is stored, signed into a head and announced (HEAD, then HAVE).
    torrent.on('verified', (i: number) => { if (recording) times.set(i, now()) })
    return { magnet: bc.magnetURI }
  },

  /** Receivers: join the stream / torrent / core and connect to the given 127.0.0.1 ports. */
  async join (m) {
    joinedAt = now()
    joinedCpu = cpuMs()
    recording = m.record !== false
    const peers: number[] = m.peers
    if (role === 'replica') {
      for (const p of peers) {
        const s = net.connect(p, '127.0.0.1')
        sockets.add(s)
        s.setNoDelay(true)
        replicate(s, true)
      }
      core.download({ start: 0, end: -1 })
      return {}
    }
    if (role === 'viewer') {
      torrent = client.add(m.magnet, { live: true, from: m.from ?? 'start', path: dir })
      if (m.trace) trace(torrent)
      torrent.live.on('peer-banned', (b: any) => { bans++; if (bans <= 3) process.send!({ event: 'note', message: `banned ${b.addr}: ${b.code} ${b.reason}` }) })
      if (m.read) {
        const rs = torrent.live.createReadStream()
        rs.on('data', (c: Uint8Array) => { readBytes += c.length; wake() })
        rs.on('error', () => {})
      }
    } else {
      torrent = client.add(Buffer.from(m.torrentFile, 'base64'), { path: dir })
      torrent.on('done', wake)
    }
    torrent.on('error', (err: Error) => process.send!({ event: 'error', message: err.message }))
    trackVerified(torrent)
    const connect = (): void => { for (const p of peers) torrent.addPeer(`127.0.0.1:${p}`) }
    if (torrent.infoHash) connect(); else torrent.once('infoHash', connect)
    return {}
  },

  /** Stock seeders: the first creates the torrent from the file, the others add it over the same file. */
  async seed (m) {
    if (!m.torrentFile) {
      torrent = await new Promise((resolve) => client.seed(m.file, { pieceLength: m.pieceLength, name: basename(m.file) }, resolve))
    } else {
      torrent = client.add(Buffer.from(m.torrentFile, 'base64'), { path: dirname(m.file) })
      await new Promise<void>((resolve) => { if (torrent.done) resolve(); else torrent.once('done', () => resolve()) })
    }
    return { torrentFile: Buffer.from(torrent.torrentFile).toString('base64'), infoHash: torrent.infoHash }
  },

  /** Sources: one piece (block) per write, paced at kbps; returns the write time of each. */
  async air (m) {
    const pieceLength: number = m.pieceLength
    const n: number = m.pieces
    const data = randomBytes(pieceLength * n)
    const interval = 1000 * pieceLength / (m.kbps * 1000 / 8)
    const first = role === 'writer' ? core.length : bc!.live.count
    const written: number[] = []
    const cpu0 = cpuMs()
    const t0 = performance.now()
    for (let k = 0; k < n; k++) {
      const wait = t0 + k * interval - performance.now()
      if (wait > 0) await sleep(wait)
      const block = data.subarray(k * pieceLength, (k + 1) * pieceLength)
      written.push(now())
      if (role === 'writer') await core.append(block); else await bc!.write(block)
    }
    // Let the last announcements go out before reading the publish times.
    await sleep(20)
    const published: (number | null)[] = []
    for (let k = 0; k < n; k++) published.push(role === 'writer' ? null : times.get(first + k) ?? null)
    return { first, written, published, cpuMs: cpuMs() - cpu0 }
  },

  /** Broadcaster: writes bytes as fast as it can (from a file, or from the random pool). */
  async airFast (m) {
    const total: number = m.bytes
    const chunk = 1024 * 1024
    const cpu0 = cpuMs()
    const t0 = now()
    let fd: number | null = m.file ? openSync(m.file, 'r') : null
    const buf = Buffer.alloc(chunk)
    try {
      for (let off = 0; off < total; off += chunk) {
        const n = Math.min(chunk, total - off)
        let bytes: Buffer
        if (fd !== null) { readSync(fd, buf, 0, n, (m.offset ?? 0) + off); bytes = buf.subarray(0, n) } else bytes = poolChunk(n, bc!.pieceLength, bc!.length)
        await bc!.write(bytes)
      }
    } finally { if (fd !== null) { closeSync(fd); fd = null } }
    return { ms: now() - t0, cpuMs: cpuMs() - cpu0, count: bc!.live.count, length: bc!.length }
  },

  /** Broadcaster: keeps airing one piece at a time at kbps until stopBackground. */
  async startBackground (m) {
    const pieceLength = bc!.pieceLength
    const interval = 1000 * pieceLength / (m.kbps * 1000 / 8)
    background = setInterval(() => { bc!.write(randomBytes(pieceLength)).catch(() => {}) }, interval)
    return {}
  },
  async stopBackground () {
    if (background) clearInterval(background)
    background = null
    return {}
  },

  /** Receivers: resolves when pieces [0, count) are all verified here. */
  async waitFor (m) {
    await waitUntil(() => contig >= m.count && (!m.read || readBytes >= m.readBytes))
    return { ms: now() - joinedAt, cpuMs: cpuMs() - joinedCpu, contig }
  },

  async progress (m) {
    if (m.gc && typeof (globalThis as any).gc === 'function') { (globalThis as any).gc(); await sleep(50); (globalThis as any).gc() }
    const mem = process.memoryUsage()
    const live = torrent?.live
    return {
      contig,
      count: live ? live.count : (core ? core.length : 0),
      rss: mem.rss,
      heapUsed: mem.heapUsed,
      external: mem.external,
      arrayBuffers: mem.arrayBuffers,
      uploaded: torrent?.uploaded ?? 0,
      downloaded: torrent?.downloaded ?? 0,
      relay: bc ? { ...bc.relay.stats, tier: bc.relay.tier } : null,
      uploadBudget: live ? { ...live.uploads.stats, rate: Math.round(live.uploads.rate) } : null,
      published: bc ? bc.length : 0,
      readBytes,
      signatureChecks: live?.signatureChecks ?? 0,
      headsAccepted: live?.stats?.headsAccepted ?? 0,
      pagesReceived: live?.stats?.pagesReceived ?? 0,
      wires: torrent?.wires?.length ?? (core ? core.peers.length : 0),
      numPeers: torrent?.numPeers ?? 0,
      bannedPeers: bans,
      hasMetadata: Boolean(torrent?.metadata),
      cpuMs: cpuMs(),
      sinceJoinMs: joinedAt ? now() - joinedAt : 0,
      cpuSinceJoinMs: joinedAt ? cpuMs() - joinedCpu : 0
    }
  },

  /** Recorded times for indices [from, to) (null where none). */
  async times (m) {
    const pick = (map: Map<number, number>): (number | null)[] => { const out: (number | null)[] = []; for (let i = m.from; i < m.to; i++) out.push(map.get(i) ?? null); return out }
    return { times: pick(times), ...(headAt.size ? { head: pick(headAt), have: pick(haveAt), request: pick(requestAt), sent } : {}) }
  },

  async exit () {
    setImmediate(() => { shutdown().finally(() => process.exit(0)) })
    return {}
  }
}

process.on('message', (m: Msg) => {
  const h = handlers[m.cmd]
  if (!h) { process.send!({ id: m.id, ok: false, error: `unknown command ${m.cmd}` }); return }
  h(m).then(
    (r) => process.send!({ id: m.id, ok: true, ...r }),
    (err: unknown) => process.send!({ id: m.id, ok: false, error: err instanceof Error ? err.stack ?? err.message : String(err) })
  )
})
process.send!({ event: 'alive', role })
