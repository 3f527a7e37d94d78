/**
 * `npm run bench`: live latency, source offload, catch-up and cost at scale, each measured against
 * its reference in the same run (Hypercore for latency, a stock WebTorrent torrent for catch-up).
 *
 *   node dist/scripts/bench.js [--quick] [--json] [--seed N] [--only latency,tracker,catchup,scale]
 *        [--tracker-viewers 12,50]  (the tracker-formed swarm: quick 12, full 12 and 50)
 *        [--tracker-kbps 1000]  (its stream rate: 13 processes in a full mesh saturate 2 cores at 4 Mbit/s)
 *        [--no-relay]   (the broadcaster announces every piece to every peer: the relay policy off)
 *        [--profile DIR]   (every peer process runs with node --cpu-prof, profiles written to DIR)
 *
 * Every peer is a separate Node process (scripts/bench/peer.ts) on loopback TCP; data goes to
 * temporary folders under os.tmpdir(), removed afterwards. Progress goes to stderr; stdout gets the
 * table and, with --json, one JSON object as its last line. Targets are printed, never asserted.
 */
import { appendFileSync, closeSync, mkdtempSync, openSync, rmSync, statfsSync, writeSync } from 'node:fs'
import { cpus, loadavg, tmpdir } from 'node:os'
import { join as joinPath } from 'node:path'
import { randomBytes } from 'node:crypto'
import { harness, Peer, pct, poll, randomTopology, round, spawn, stopAll, type Topology } from './bench/harness.js'
import { startTracker } from '../lib/cli/tracker.js'

/* eslint-disable @typescript-eslint/no-explicit-any */

const argv = process.argv.slice(2)
const flag = (name: string): boolean => argv.includes(`--${name}`)
const opt = (name: string): string | null => { const i = argv.indexOf(`--${name}`); return i >= 0 ? argv[i + 1] ?? null : null }
const QUICK = flag('quick')
const JSON_OUT = flag('json')
const SEED = Number(opt('seed') ?? 7)
const ONLY = new Set((opt('only') ?? 'latency,catchup,scale').split(','))
harness.profileDir = opt('profile')

const MiB = 1024 * 1024
const GiB = 1024 * MiB
const KBPS = 4000
const cfg = QUICK
  ? { viewers: [10], trackerViewers: [12], pieceLengths: [16384, 65536], seconds: 10, catchupBytes: 64 * MiB, catchupPieceLengths: [16384], scaleCheckpoints: [64 * MiB, 256 * MiB, 1 * GiB] }
  : { viewers: [10, 50], trackerViewers: [12, 50], pieceLengths: [16384, 65536], seconds: 20, catchupBytes: 512 * MiB, catchupPieceLengths: [16384, 262144], scaleCheckpoints: [1 * GiB, 4 * GiB, 16 * GiB] }
if (opt('viewers')) cfg.viewers = opt('viewers')!.split(',').map(Number)
if (opt('tracker-viewers')) cfg.trackerViewers = opt('tracker-viewers')!.split(',').map(Number)
if (opt('piece-lengths')) cfg.pieceLengths = opt('piece-lengths')!.split(',').map(Number)
if (opt('seconds')) cfg.seconds = Number(opt('seconds'))
if (opt('catchup-mib')) cfg.catchupBytes = Number(opt('catchup-mib')) * MiB
if (opt('scale-mib')) cfg.scaleCheckpoints = opt('scale-mib')!.split(',').map((x) => Number(x) * MiB)
const SCALE_PIECE = Number(opt('scale-piece-length') ?? 16384)
// Catch-up at 16 KiB pieces (the full run also at 256 KiB). Before 957a454 a late viewer banned every
// peer whose BITFIELD covered more than 4096 pieces; the bench then reports the viewer as stalled.
if (opt('catchup-piece-length')) cfg.catchupPieceLengths = opt('catchup-piece-length')!.split(',').map(Number)

const tempDirs = new Set<string>()
for (const sig of ['SIGINT', 'SIGTERM'] as const) process.on(sig, () => { for (const d of tempDirs) rmSync(d, { recursive: true, force: true }); process.exit(130) })

const log = (s: string): void => { process.stderr.write(`[bench ${new Date().toISOString().slice(11, 19)}] ${s}\n`) }

// ---- 1 + 2: live latency and source offload -------------------------------------------------------

interface LatencyRun {
  system: 'webtorrent-live' | 'hypercore'
  viewers: number
  pieceLength: number
  pieces: number
  samples: number
  missing: number
  p50: number
  p95: number
  p99: number
  max: number
  maxHops: number
  byHop: Array<{ hops: number, viewers: number, p50: number, p95: number }>
  sourceUploadRatio?: number
  viewerUpload?: { min: number, p50: number, max: number, zero: number }
  signatureChecksPerHead?: number
  signatureChecks?: number
  headsAccepted?: number
  viewerRssMiB?: number
  sourceCpuMs?: number
  /** Source: input → published (stored, signed, announced), p95 ms. */
  publishP95?: number
  /** Median viewer (replica) CPU while airing, in % of one core. */
  viewerCpuPct?: number
  /** --trace: p50/p95 of each stage, ms (write → published at the source, → head accepted, → first HAVE, → REQUEST sent, → verified). */
  trace?: Record<string, [number, number]>
  error?: string
  /** 1-minute load average when the run started (other work on the machine shows here). */
  load?: number
}

/** Runs one latency run; a run that fails is reported as such (with NaN figures), not fatal. */
async function attempt (system: LatencyRun['system'], n: number, pieceLength: number, topo: Topology, f: () => Promise<LatencyRun>): Promise<LatencyRun> {
  try { return await f() } catch (err) {
    const error = (err as Error).message.split('\n')[0]!
    log(`  ${system} run failed: ${error}`)
    return { system, viewers: n, pieceLength, pieces: 0, samples: 0, missing: 0, p50: NaN, p95: NaN, p99: NaN, max: NaN, maxHops: Math.max(...topo.hops), byHop: [], error }
  }
}

function decompose (air: { written: number[], published: (number | null)[] }, replies: any[]): Record<string, [number, number]> {
  const st: Record<string, number[]> = { 'write→published': [], 'write→head': [], 'write→have': [], 'have→request': [], 'request→verified': [], 'head→have': [] }
  air.published.forEach((t, i) => { if (t !== null) st['write→published']!.push(t - air.written[i]!) })
  for (const x of replies) {
    x.times.forEach((v: number | null, i: number) => {
      const w = air.written[i]!; const h = x.head?.[i]; const hv = x.have?.[i]; const rq = x.request?.[i]
      if (h != null) st['write→head']!.push(h - w)
      if (hv != null) st['write→have']!.push(hv - w)
      if (h != null && hv != null) st['head→have']!.push(hv - h)
      if (hv != null && rq != null) st['have→request']!.push(rq - hv)
      if (rq != null && v != null) st['request→verified']!.push(v - rq)
    })
  }
  const out: Record<string, [number, number]> = Object.fromEntries(Object.entries(st).map(([k, xs]) => [k, [round(pct(xs, 50)), round(pct(xs, 95))]]))
  // Calls of each Wire message method per viewer per piece (p50 and max over viewers), over the
  // viewer's whole life. A call is a socket write, except that bittorrent-protocol drops repeated
  // interested()/uninterested() calls: those send at most one message per state change.
  const types = new Set(replies.flatMap((x) => Object.keys(x.sent ?? {})))
  const pieces = air.written.length + WARM
  for (const t of types) { const xs = replies.map((x) => (x.sent?.[t] ?? 0) / pieces); out[`calls ${t}/piece`] = [round(pct(xs, 50)), round(Math.max(...xs))] }
  return out
}

function topologyFor (n: number): Topology {
  // The source has a few neighbours (2 for 10 viewers, 3 for 50); most viewers are ≥ 2 hops away.
  return randomTopology(n, { sourceDegree: n >= 30 ? 3 : 2, maxDegree: 5, meanDegree: 3, seed: SEED + n })
}

function summarize (system: LatencyRun['system'], topo: Topology, pieceLength: number, written: number[], perViewer: Array<(number | null)[]>): LatencyRun {
  const all: number[] = []
  let missing = 0
  const hopLat = new Map<number, number[]>()
  const hopViewers = new Map<number, number>()
  perViewer.forEach((ts, k) => {
    const h = topo.hops[k + 1]!
    hopViewers.set(h, (hopViewers.get(h) ?? 0) + 1)
    const arr = hopLat.get(h) ?? []
    hopLat.set(h, arr)
    ts.forEach((t, i) => {
      // A piece never verified counts as infinitely late, so percentiles cannot hide it.
      if (t === null) { missing++; all.push(Infinity); arr.push(Infinity); return }
      const d = t - written[i]!
      all.push(d); arr.push(d)
    })
  })
  return {
    system,
    viewers: topo.n,
    pieceLength,
    pieces: written.length,
    samples: all.length,
    missing,
    p50: round(pct(all, 50)),
    p95: round(pct(all, 95)),
    p99: round(pct(all, 99)),
    max: round(Math.max(...all.filter(Number.isFinite))),
    maxHops: Math.max(...topo.hops),
    byHop: [...hopLat.keys()].sort((a, b) => a - b).map((h) => ({ hops: h, viewers: hopViewers.get(h)!, p50: round(pct(hopLat.get(h)!, 50)), p95: round(pct(hopLat.get(h)!, 95)) }))
  }
}

const WARM = 8
const DUMP = opt('dump')
const TRACE = flag('trace')

/** --dump FILE: appends every latency sample (system, viewers, piece length, viewer, hops, piece, ms) as JSON lines. */
function dump (system: string, topo: Topology, pieceLength: number, written: number[], perViewer: Array<(number | null)[]>): void {
  if (!DUMP) return
  const lines: string[] = []
  perViewer.forEach((ts, k) => ts.forEach((t, i) => lines.push(JSON.stringify({ system, viewers: topo.n, pieceLength, viewer: k + 1, hops: topo.hops[k + 1], piece: i, at: round(written[i]! - written[0]!, 1), ms: t === null ? null : round(t - written[i]!, 2) }))))
  appendFileSync(DUMP, lines.join('\n') + '\n')
}

async function liveRun (n: number, pieceLength: number, topo: Topology): Promise<LatencyRun> {
  const src = await new Peer('broadcaster').init()
  const viewers = await spawn('viewer', n)
  const all = [src, ...viewers]
  try {
    const { magnet } = await src.call('broadcast', { pieceLength })
    // Viewers do not read the stream here (Hypercore replicas do not either): latency is to verified.
    await Promise.all(viewers.map((v, k) => v.call('join', { magnet, from: 'start', read: false, trace: TRACE, peers: topo.dial[k + 1]!.map((i) => all[i]!.port) })))
    await src.call('air', { pieceLength, pieces: WARM, kbps: KBPS })
    await poll(async () => (await Promise.all(viewers.map((v) => v.call('progress')))).every((p) => p.contig >= WARM), 90_000, `all ${n} viewers warmed up`, 250)
    const pieces = Math.max(10, Math.round(cfg.seconds * KBPS * 1000 / 8 / pieceLength))
    const cpuBefore = await Promise.all(viewers.map((v) => v.call('progress')))
    const air = await src.call('air', { pieceLength, pieces, kbps: KBPS }, (cfg.seconds + 120) * 1000)
    const cpuAfter = await Promise.all(viewers.map((v) => v.call('progress')))
    const airMs = air.written.at(-1) - air.written[0] + 1
    const end = air.first + pieces
    try {
      await poll(async () => (await Promise.all(viewers.map((v) => v.call('progress')))).every((p) => p.contig >= end), 30_000, 'all viewers have every piece', 200)
    } catch (err) { log(`  ${(err as Error).message}; counting the rest as missing`) }
    const replies = await Promise.all(viewers.map((v) => v.call('times', { from: air.first, to: end })))
    const perViewer = replies.map((x) => x.times)
    const r = summarize('webtorrent-live', topo, pieceLength, air.written, perViewer)
    if (TRACE) r.trace = decompose(air, replies)
    dump('webtorrent-live', topo, pieceLength, air.written, perViewer)
    const sp = await src.call('progress')
    const vp = await Promise.all(viewers.map((v) => v.call('progress')))
    const ups = vp.map((p) => p.uploaded / sp.published)
    r.sourceUploadRatio = round(sp.uploaded / sp.published, 3)
    r.viewerUpload = { min: round(Math.min(...ups), 3), p50: round(pct(ups, 50), 3), max: round(Math.max(...ups), 3), zero: ups.filter((u) => u < 0.01).length }
    r.signatureChecks = vp.reduce((a, p) => a + p.signatureChecks, 0)
    r.headsAccepted = vp.reduce((a, p) => a + p.headsAccepted, 0)
    r.signatureChecksPerHead = round(Math.max(...vp.map((p) => p.signatureChecks / Math.max(1, p.headsAccepted))), 3)
    r.viewerRssMiB = round(pct(vp.map((p) => p.rss / MiB), 50), 1)
    r.sourceCpuMs = round(air.cpuMs, 1)
    r.publishP95 = round(pct(air.published.flatMap((t: number | null, k: number) => t === null ? [] : [t - air.written[k]]), 95))
    r.viewerCpuPct = round(pct(cpuAfter.map((p, k) => 100 * (p.cpuMs - cpuBefore[k].cpuMs) / airMs), 50), 1)
    return r
  } finally { await stopAll(all) }
}

/**
 * The same airing in a swarm formed as users form one: every viewer is told only a local
 * bittorrent-tracker, which hands each of them the broadcaster and the other viewers, and WebTorrent
 * connects as it likes (up to 55 peers). No hand-drawn graph: the relay policy decides how much the
 * broadcaster uploads. Hops are not known here (reported as 1).
 */
/** The tracker phase's rate: 13 processes in a full mesh saturate 2 cores at 4 Mbit/s (latency became CPU queueing). */
const TRACKER_KBPS = Number(opt('tracker-kbps') ?? 1000)

/** A tracker-formed swarm has no drawn graph: every viewer is reported at one hop. */
function trackerTopology (n: number): Topology {
  return { n, hops: [0, ...Array.from({ length: n }, () => 1)], dial: [], edges: [], degree: [] } as unknown as Topology
}

async function trackerRun (n: number, pieceLength: number): Promise<LatencyRun> {
  const tracker = await startTracker(0, '127.0.0.1')
  const src = await new Peer('broadcaster').init({ tracker: true })
  const viewers = await spawn('viewer', n, { tracker: true })
  const all = [src, ...viewers]
  const topo = trackerTopology(n)
  try {
    const { magnet } = await src.call('broadcast', { pieceLength, announce: [tracker.announce[0]], relay: !flag('no-relay') })
    await Promise.all(viewers.map((v) => v.call('join', { magnet, from: 'start', read: false, peers: [] })))
    await src.call('air', { pieceLength, pieces: WARM, kbps: TRACKER_KBPS })
    await poll(async () => (await Promise.all(viewers.map((v) => v.call('progress')))).every((p) => p.contig >= WARM), 90_000, `all ${n} viewers found the stream through the tracker`, 250)
    const pieces = Math.max(10, Math.round(cfg.seconds * TRACKER_KBPS * 1000 / 8 / pieceLength))
    const up0 = (await src.call('progress')).uploaded
    const air = await src.call('air', { pieceLength, pieces, kbps: TRACKER_KBPS }, (cfg.seconds + 120) * 1000)
    const end = air.first + pieces
    try {
      await poll(async () => (await Promise.all(viewers.map((v) => v.call('progress')))).every((p) => p.contig >= end), 30_000, 'all viewers have every piece', 200)
    } catch (err) { log(`  ${(err as Error).message}; counting the rest as missing`) }
    const replies = await Promise.all(viewers.map((v) => v.call('times', { from: air.first, to: end })))
    const r = summarize('webtorrent-live', topo, pieceLength, air.written, replies.map((x) => x.times))
    r.byHop = []
    const sp = await src.call('progress')
    const vp = await Promise.all(viewers.map((v) => v.call('progress')))
    // What the broadcaster uploaded while these pieces aired, over their bytes (warm-up excluded).
    r.sourceUploadRatio = round((sp.uploaded - up0) / (pieces * pieceLength), 3)
    const ups = vp.map((p) => p.uploaded / sp.published)
    r.viewerUpload = { min: round(Math.min(...ups), 3), p50: round(pct(ups, 50), 3), max: round(Math.max(...ups), 3), zero: ups.filter((u) => u < 0.01).length }
    r.signatureChecksPerHead = round(Math.max(...vp.map((p) => p.signatureChecks / Math.max(1, p.headsAccepted))), 3)
    log(`  relay ${JSON.stringify(sp.relay)}; source upload budget ${JSON.stringify(sp.uploadBudget)}; viewers rejected ${vp.reduce((a, p) => a + (p.uploadBudget?.rejected ?? 0), 0)} of ${vp.reduce((a, p) => a + (p.uploadBudget?.rejected ?? 0) + (p.uploadBudget?.admitted ?? 0), 0)} requests`)
    return r
  } finally { await stopAll(all); await tracker.close() }
}

async function hypercoreRun (n: number, pieceLength: number, topo: Topology): Promise<LatencyRun> {
  const writer = await new Peer('writer').init()
  const all: Peer[] = [writer]
  try {
    return await hypercoreRunWith(writer, writer.info.key, n, pieceLength, topo, all)
  } finally { await stopAll(all) }
}

async function hypercoreRunWith (writer: Peer, key: string, n: number, pieceLength: number, topo: Topology, all: Peer[]): Promise<LatencyRun> {
  const replicas = await spawn('replica', n, { key })
  all.push(...replicas)
  const nodes = [writer, ...replicas]
  await Promise.all(replicas.map((v, k) => v.call('join', { peers: topo.dial[k + 1]!.map((i) => nodes[i]!.port) })))
  await writer.call('air', { pieceLength, pieces: WARM, kbps: KBPS })
  await poll(async () => (await Promise.all(replicas.map((v) => v.call('progress')))).every((p) => p.contig >= WARM), 90_000, `all ${n} replicas warmed up`, 250)
  const pieces = Math.max(10, Math.round(cfg.seconds * KBPS * 1000 / 8 / pieceLength))
  const cpuBefore = await Promise.all(replicas.map((v) => v.call('progress')))
  const air = await writer.call('air', { pieceLength, pieces, kbps: KBPS }, (cfg.seconds + 120) * 1000)
  const cpuAfter = await Promise.all(replicas.map((v) => v.call('progress')))
  const airMs = air.written.at(-1) - air.written[0] + 1
  const end = air.first + pieces
  try {
    await poll(async () => (await Promise.all(replicas.map((v) => v.call('progress')))).every((p) => p.contig >= end), 30_000, 'all replicas have every block', 200)
  } catch (err) { log(`  ${(err as Error).message}; counting the rest as missing`) }
  const perViewer = await Promise.all(replicas.map(async (v) => (await v.call('times', { from: air.first, to: end })).times))
  const r = summarize('hypercore', topo, pieceLength, air.written, perViewer)
  dump('hypercore', topo, pieceLength, air.written, perViewer)
  const vp = await Promise.all(replicas.map((v) => v.call('progress')))
  r.viewerRssMiB = round(pct(vp.map((p) => p.rss / MiB), 50), 1)
  r.sourceCpuMs = round(air.cpuMs, 1)
  r.viewerCpuPct = round(pct(cpuAfter.map((p, k) => 100 * (p.cpuMs - cpuBefore[k].cpuMs) / airMs), 50), 1)
  return r
}

let scaleError: string | null = null

/** Resolves when `value()` reaches `target`; throws if it does not move for `stallMs`. */
async function progressing (value: () => Promise<number>, target: number, what: string, stallMs = 45_000): Promise<void> {
  let last = -1
  let since = Date.now()
  for (;;) {
    const v = await value()
    if (v >= target) return
    if (v !== last) { last = v; since = Date.now() } else if (Date.now() - since > stallMs) throw new Error(`stalled for ${stallMs / 1000} s at ${v} of ${target}: ${what}`)
    await new Promise((resolve) => setTimeout(resolve, 100))
  }
}

/** Logs a receiver's progress every 10 s while `p` is pending; gives up after 30 s without progress. */
async function watch<T> (peer: Peer, p: Promise<T>, count: number): Promise<T> {
  let done = false
  let last = -1
  let stuck = 0
  const ticker = (async () => {
    while (!done) {
      await new Promise((resolve) => setTimeout(resolve, 10_000))
      if (done) return
      const pr = await peer.call('progress').catch(() => null)
      if (!pr) continue
      log(`  ${peer.role}: ${pr.contig}/${count} pieces, ${pr.wires} wires, head ${pr.count}`)
      if (pr.contig === last) { if (++stuck >= 3) throw new Error(`${peer.role} made no progress for 30 s at ${pr.contig}/${count} (${pr.wires} wires, ${pr.bannedPeers ?? 0} peers banned)`) } else stuck = 0
      last = pr.contig
    }
  })()
  try { return await Promise.race([p, ticker.then(() => p)]) } finally { done = true }
}

// ---- 3: catch-up ---------------------------------------------------------------------------------

interface CatchupResult {
  bytes: number
  pieceLength: number
  live: { seconds: number, mibS: number, cpuS: number, signatureChecks: number, headsAccepted: number, pagesReceived: number, bannedPeers: number, stalled: string | null, load: number }
  stock: { seconds: number, mibS: number, cpuS: number, load: number } | null
  ratio: number
}

async function catchup (bytes: number, pieceLength: number): Promise<CatchupResult> {
  const srcDir = mkdtempSync(joinPath(tmpdir(), 'wtl-bench-src-'))
  tempDirs.add(srcDir)
  const file = joinPath(srcDir, 'catchup.bin')
  try {
    log(`catch-up: writing ${bytes / MiB} MiB of random bytes`)
    const fd = openSync(file, 'w')
    for (let off = 0; off < bytes; off += 16 * MiB) writeSync(fd, randomBytes(Math.min(16 * MiB, bytes - off)))
    closeSync(fd)
    const count = bytes / pieceLength

    // Live: a broadcaster and 5 viewers that watched from the start; the broadcast goes on at 4 Mbit/s.
    const src = await new Peer('broadcaster').init()
    const peers = await spawn('viewer', 5)
    const liveAll = [src, ...peers]
    let live: CatchupResult['live']
    try {
      const { magnet } = await src.call('broadcast', { pieceLength })
      await Promise.all(peers.map((v, k) => v.call('join', { magnet, from: 'start', peers: [src.port, ...peers.slice(0, k).map((p) => p.port)] })))
      log(`catch-up: airing ${bytes / MiB} MiB to 5 live peers`)
      // The first piece alone, so that every peer has a head before the HAVEs run ahead.
      await src.call('airFast', { bytes: pieceLength, file, offset: 0 })
      await poll(async () => (await Promise.all(peers.map((v) => v.call('progress')))).every((p) => p.contig >= 1), 60_000, 'live peers have the first piece', 100)
      const batch = 16 * MiB
      for (let off = pieceLength; off < bytes; off += batch) {
        await src.call('airFast', { bytes: Math.min(batch, bytes - off), file, offset: off }, 600_000)
        const want = Math.floor((off - batch) / pieceLength)
        await progressing(async () => Math.min(...(await Promise.all(peers.map((v) => v.call('progress')))).map((p) => p.contig)), want, 'live peers keep up')
      }
      await progressing(async () => Math.min(...(await Promise.all(peers.map((v) => v.call('progress')))).map((p) => p.contig)), count, 'live peers have the history')
      await src.call('startBackground', { kbps: KBPS })
      log('catch-up: late viewer joins (from: start) with the 5 live peers')
      const late = await new Peer('viewer', process.env.BENCH_DEBUG_LATE ? { DEBUG: process.env.BENCH_DEBUG_LATE } : {}).init()
      liveAll.push(late)
      const load = round(loadavg()[0]!, 1)
      await late.call('join', { magnet, from: 'start', record: false, peers: peers.map((p) => p.port) })
      let stalled: string | null = null
      let r: any = null
      try { r = await watch(late, late.call('waitFor', { count }, 600_000), count) } catch (err) { stalled = (err as Error).message; log(`  ${stalled}`) }
      const lp = await late.call('progress')
      live = r
        ? { seconds: round(r.ms / 1000, 2), mibS: round(bytes / MiB / (r.ms / 1000), 1), cpuS: round(r.cpuMs / 1000, 2), signatureChecks: lp.signatureChecks, headsAccepted: lp.headsAccepted, pagesReceived: lp.pagesReceived, bannedPeers: lp.bannedPeers, stalled, load }
        : { seconds: round(lp.sinceJoinMs / 1000, 2), mibS: 0, cpuS: round(lp.cpuSinceJoinMs / 1000, 2), signatureChecks: lp.signatureChecks, headsAccepted: lp.headsAccepted, pagesReceived: lp.pagesReceived, bannedPeers: lp.bannedPeers, stalled, load }
      await src.call('stopBackground')
    } finally { await stopAll(liveAll) }

    // Stock: 5 ordinary seeders of the same bytes, one stock leecher (skipped when the live viewer stalled).
    if (live.stalled) return { bytes, pieceLength, live, stock: null, ratio: 0 }
    log('catch-up: stock WebTorrent, 5 seeders of the same bytes')
    const seeders = await spawn('seeder', 5)
    const stockAll = [...seeders]
    let stock: CatchupResult['stock']
    try {
      const first = await seeders[0]!.call('seed', { file, pieceLength }, 600_000)
      await Promise.all(seeders.slice(1).map((s) => s.call('seed', { file, pieceLength, torrentFile: first.torrentFile }, 600_000)))
      const leecher = await new Peer('leecher').init()
      stockAll.push(leecher)
      const load = round(loadavg()[0]!, 1)
      await leecher.call('join', { torrentFile: first.torrentFile, record: false, peers: seeders.map((s) => s.port) })
      const r = await watch(leecher, leecher.call('waitFor', { count }, 600_000), count)
      stock = { seconds: round(r.ms / 1000, 2), mibS: round(bytes / MiB / (r.ms / 1000), 1), cpuS: round(r.cpuMs / 1000, 2), load }
    } finally { await stopAll(stockAll) }
    return { bytes, pieceLength, live, stock, ratio: round(live.mibS / stock.mibS, 3) }
  } finally { rmSync(srcDir, { recursive: true, force: true }); tempDirs.delete(srcDir) }
}

// ---- 4: cost at scale ---------------------------------------------------------------------------

interface ScaleResult {
  pieceLength: number
  bytes: number
  seconds: number
  mibS: number
  broadcasterCpuSPerGiB: number
  checkpoints: Array<{ gib: number, pieces: number, viewerRssMiB: number, viewerHeapMiB: number, broadcasterRssMiB: number }>
  note: string
}

async function scale (checkpoints: number[], pieceLength: number): Promise<ScaleResult> {
  let note = ''
  const free = statfsSync(tmpdir()).bavail * statfsSync(tmpdir()).bsize
  const need = (c: number): number => 2 * c + 8 * GiB // broadcaster + viewer store, plus room for others
  while (checkpoints.length > 1 && need(checkpoints[checkpoints.length - 1]!) > free) {
    note = `reduced: only ${(free / GiB).toFixed(0)} GiB free in ${tmpdir()}`
    checkpoints = checkpoints.slice(0, -1)
  }
  const src = await new Peer('broadcaster').init()
  const viewer = await new Peer('viewer').init()
  try {
    const { magnet } = await src.call('broadcast', { pieceLength })
    await viewer.call('join', { magnet, from: 'start', read: true, record: false, peers: [src.port] })
    await src.call('air', { pieceLength, pieces: 1, kbps: KBPS }) // a first head before HAVEs run ahead
    await poll(async () => (await viewer.call('progress')).contig >= 1, 60_000, 'viewer has the first piece', 50)
    const cpu0 = (await src.call('progress')).cpuMs
    const t0 = Date.now()
    const batch = 64 * MiB
    let aired = 0
    const out: ScaleResult['checkpoints'] = []
    for (const c of checkpoints) {
      while (aired < c) {
        const n = Math.min(batch, c - aired)
        await src.call('airFast', { bytes: n }, 600_000)
        aired += n
        const want = Math.floor((aired - 2 * batch) / pieceLength)
        await progressing(async () => (await viewer.call('progress')).contig, want, 'viewer keeps up')
      }
      await progressing(async () => { const p = await viewer.call('progress'); return p.contig + p.readBytes / pieceLength }, 2 * (pieceLength + aired) / pieceLength, 'viewer has verified and read everything')
      const vp = await viewer.call('progress', { gc: true })
      const sp = await src.call('progress', { gc: true })
      out.push({ gib: round(aired / GiB, 3), pieces: aired / pieceLength, viewerRssMiB: round(vp.rss / MiB, 1), viewerHeapMiB: round(vp.heapUsed / MiB, 1), broadcasterRssMiB: round(sp.rss / MiB, 1) })
      log(`scale: ${(aired / GiB).toFixed(2)} GiB streamed, viewer RSS ${(vp.rss / MiB).toFixed(1)} MiB (heap ${(vp.heapUsed / MiB).toFixed(1)}), broadcaster RSS ${(sp.rss / MiB).toFixed(1)} MiB`)
    }
    const cpu1 = (await src.call('progress')).cpuMs
    const seconds = (Date.now() - t0) / 1000
    return { pieceLength, bytes: aired, seconds: round(seconds, 1), mibS: round(aired / MiB / seconds, 1), broadcasterCpuSPerGiB: round((cpu1 - cpu0) / 1000 / (aired / GiB), 2), checkpoints: out, note }
  } finally { await stopAll([src, viewer]) }
}

// ---- report ----------------------------------------------------------------------------------------

function table (rows: string[][]): string {
  const w = rows[0]!.map((_, c) => Math.max(...rows.map((r) => (r[c] ?? '').length)))
  return rows.map((r) => r.map((x, c) => x.padEnd(w[c]!)).join('  ').trimEnd()).join('\n')
}

async function main (): Promise<void> {
  const started = Date.now()
  log(`${QUICK ? 'quick' : 'full'} run on ${cpus().length} cores, Node ${process.version}, seed ${SEED}; other processes on this machine add noise`)
  const runs: LatencyRun[] = []
  if (ONLY.has('latency')) {
    for (const n of cfg.viewers) {
      const topo = topologyFor(n)
      const hist = new Map<number, number>()
      for (const h of topo.hops.slice(1)) hist.set(h, (hist.get(h) ?? 0) + 1)
      log(`topology: ${n} viewers, ${topo.edges.length} edges, degree ≤ ${Math.max(...topo.degree)}, hops ${[...hist].sort((a, b) => a[0] - b[0]).map(([h, c]) => `${h}:${c}`).join(' ')}`)
      for (const pl of cfg.pieceLengths) {
        log(`latency: webtorrent-live, ${n} viewers, ${pl / 1024} KiB pieces, ${cfg.seconds} s at ${KBPS / 1000} Mbit/s`)
        const load1 = round(loadavg()[0]!, 1)
        runs.push(await attempt('webtorrent-live', n, pl, topo, () => liveRun(n, pl, topo)))
        runs.at(-1)!.load = load1
        log(`  p50 ${runs.at(-1)!.p50} p95 ${runs.at(-1)!.p95} p99 ${runs.at(-1)!.p99} ms, source upload ratio ${runs.at(-1)!.sourceUploadRatio}`)
        log(`latency: hypercore, ${n} replicas, ${pl / 1024} KiB blocks`)
        const load2 = round(loadavg()[0]!, 1)
        runs.push(await attempt('hypercore', n, pl, topo, () => hypercoreRun(n, pl, topo)))
        runs.at(-1)!.load = load2
        log(`  p50 ${runs.at(-1)!.p50} p95 ${runs.at(-1)!.p95} p99 ${runs.at(-1)!.p99} ms`)
      }
    }
  }
  const tracked: LatencyRun[] = []
  if (ONLY.has('latency') || ONLY.has('tracker')) {
    for (const n of cfg.trackerViewers) {
      log(`tracker-formed swarm: ${n} viewers find the broadcaster through a local tracker, 16 KiB pieces, ${cfg.seconds} s at ${TRACKER_KBPS / 1000} Mbit/s`)
      const load = round(loadavg()[0]!, 1)
      tracked.push(await attempt('webtorrent-live', n, 16384, trackerTopology(n), () => trackerRun(n, 16384)))
      tracked.at(-1)!.load = load
      log(`  p50 ${tracked.at(-1)!.p50} p95 ${tracked.at(-1)!.p95} p99 ${tracked.at(-1)!.p99} ms, source upload ratio ${tracked.at(-1)!.sourceUploadRatio}`)
    }
  }
  const cus: CatchupResult[] = []
  if (ONLY.has('catchup')) {
    for (const pl of cfg.catchupPieceLengths) {
      log(`catch-up: ${cfg.catchupBytes / MiB} MiB, ${pl / 1024} KiB pieces`)
      const c = await catchup(cfg.catchupBytes, pl)
      cus.push(c)
      log(`catch-up: live ${c.live.mibS} MiB/s, stock ${c.stock?.mibS ?? '–'} MiB/s, ratio ${c.ratio}${c.live.stalled ? ` (live viewer stalled, ${c.live.bannedPeers} peers banned)` : ''}`)
    }
  }
  const cu = cus[0] ?? null
  let sc: ScaleResult | null = null
  if (ONLY.has('scale')) {
    try { sc = await scale(cfg.scaleCheckpoints, SCALE_PIECE) } catch (err) { log(`scale: failed: ${(err as Error).message}`); scaleError = (err as Error).message }
  }

  // Headline: the largest swarm, 16 KiB pieces.
  const nMax = Math.max(...cfg.viewers)
  const head = runs.find((r) => r.system === 'webtorrent-live' && r.viewers === nMax && r.pieceLength === 16384) ?? runs.find((r) => r.system === 'webtorrent-live')
  const hc = head ? runs.find((r) => r.system === 'hypercore' && r.viewers === head.viewers && r.pieceLength === head.pieceLength) : undefined
  const liveRuns = runs.filter((r) => r.system === 'webtorrent-live')
  const sigRatios = liveRuns.map((r) => r.signatureChecksPerHead ?? 0)
  if (cu) sigRatios.push(cu.live.signatureChecks / Math.max(1, cu.live.headsAccepted))
  const sigPerHead = sigRatios.length ? round(Math.max(...sigRatios), 3) : null
  const rssGrowth = sc && sc.checkpoints.length > 1 ? sc.checkpoints.at(-1)!.viewerRssMiB - sc.checkpoints[0]!.viewerRssMiB : null

  const out = []
  out.push(`webtorrent-live benchmark (${QUICK ? 'quick' : 'full'}; ${cpus().length} cores; loopback TCP; every peer a separate process; ${((Date.now() - started) / 1000).toFixed(0)} s)`)
  if (runs.length) {
    out.push('', `1. Live latency, input → verified at the viewer, ${KBPS / 1000} Mbit/s, ${cfg.seconds} s per run; Hypercore replicates over TCP sockets (Noise), same topology`)
    out.push(table([
      ['system', 'viewers', 'piece', 'hops≤', 'samples', 'missing', 'p50 ms', 'p95 ms', 'p99 ms', 'max ms', 'src upload', 'viewer upload min/p50/max', 'sig/head', 'RSS MiB', 'viewer CPU %', 'source CPU ms', 'publish p95 ms', 'load'],
      ...runs.map((r) => [r.system, String(r.viewers), `${r.pieceLength / 1024} KiB`, String(r.maxHops), String(r.samples), String(r.missing), String(r.p50), String(r.p95), String(r.p99), String(r.max),
        r.sourceUploadRatio === undefined ? '' : `${r.sourceUploadRatio}×`,
        r.viewerUpload ? `${r.viewerUpload.min}/${r.viewerUpload.p50}/${r.viewerUpload.max}×` : '',
        r.signatureChecksPerHead === undefined ? '' : String(r.signatureChecksPerHead), String(r.viewerRssMiB), String(r.viewerCpuPct), String(r.sourceCpuMs), r.publishP95 === undefined ? '' : String(r.publishP95), String(r.load)])
    ]))
    for (const r of runs) if (r.error) out.push(`  ${r.system}, ${r.viewers} viewers, ${r.pieceLength / 1024} KiB: run failed: ${r.error}`)
    out.push('  missing: pieces not verified within 30 s of the end of airing; counted as infinitely late in the percentiles')
    out.push('', 'p95 by hop count (webtorrent-live | hypercore):')
    for (const r of liveRuns) {
      const h = runs.find((x) => x.system === 'hypercore' && x.viewers === r.viewers && x.pieceLength === r.pieceLength)
      out.push(`  ${r.viewers} viewers, ${r.pieceLength / 1024} KiB: ` + r.byHop.map((b) => `${b.hops} hop${b.hops > 1 ? 's' : ''} (${b.viewers}) ${b.p95} | ${h?.byHop.find((x) => x.hops === b.hops)?.p95 ?? '–'}`).join(', '))
    }
  }
  if (tracked.length) {
    out.push('', `2. A tracker-formed swarm (as users form one): every viewer told only a local tracker, WebTorrent connects as it likes; 16 KiB pieces, ${TRACKER_KBPS / 1000} Mbit/s, ${cfg.seconds} s`)
    out.push(table([
      ['viewers', 'samples', 'missing', 'p50 ms', 'p95 ms', 'p99 ms', 'src upload', 'viewer upload min/p50/max', 'sig/head', 'load'],
      ...tracked.map((r) => [String(r.viewers), String(r.samples), String(r.missing), String(r.p50), String(r.p95), String(r.p99), r.sourceUploadRatio === undefined ? '' : `${r.sourceUploadRatio}×`, r.viewerUpload ? `${r.viewerUpload.min}/${r.viewerUpload.p50}/${r.viewerUpload.max}×` : '', String(r.signatureChecksPerHead ?? ''), String(r.load)])
    ]))
    for (const r of tracked) if (r.error) out.push(`  ${r.viewers} viewers: run failed: ${r.error}`)
  }
  for (const r of runs) if (r.trace) out.push(`  trace ${r.viewers} viewers, ${r.pieceLength / 1024} KiB (p50/p95 ms): ` + Object.entries(r.trace).map(([k, [a, b]]) => `${k} ${a}/${b}`).join(', '))
  if (cus.length) {
    out.push('', `3. Catch-up: ${cfg.catchupBytes / MiB} MiB${QUICK ? ' (quick: 64 MiB, full: 512 MiB)' : ''} of history from 5 peers (live: while the broadcast goes on at 4 Mbit/s; stock: 5 seeders)`)
    const rows = [['client', 'piece', 'seconds', 'MiB/s', 'CPU s', 'signature checks', 'heads accepted', 'hash pages', 'peers banned', 'load']]
    for (const c of cus) {
      rows.push(['late live viewer (from: start)', `${c.pieceLength / 1024} KiB`, String(c.live.seconds), c.live.stalled ? 'STALLED' : String(c.live.mibS), String(c.live.cpuS), String(c.live.signatureChecks), String(c.live.headsAccepted), String(c.live.pagesReceived), String(c.live.bannedPeers), String(c.live.load)])
      if (c.stock) rows.push(['stock WebTorrent, ordinary torrent', `${c.pieceLength / 1024} KiB`, String(c.stock.seconds), String(c.stock.mibS), String(c.stock.cpuS), '–', '–', '–', '–', String(c.stock.load)])
    }
    out.push(table(rows))
    for (const c of cus) out.push(`  ${c.pieceLength / 1024} KiB: ratio live / stock ${c.stock ? c.ratio : '–'}${c.live.stalled ? ` — ${c.live.stalled}` : ''}`)
  }
  if (scaleError) out.push('', `4. Cost at scale: FAILED — ${scaleError}`)
  if (sc) {
    out.push('', `4. Cost at scale: broadcaster → 1 viewer reading the stream, ${sc.pieceLength / 1024} KiB pieces, on-disk stores (deleted afterwards)${QUICK ? ' (quick: 64 MiB / 256 MiB / 1 GiB; full: 1 / 4 / 16 GiB)' : ''}${sc.note ? `; ${sc.note}` : ''}`)
    out.push(`  ${(sc.bytes / GiB).toFixed(2)} GiB in ${sc.seconds} s (${sc.mibS} MiB/s); broadcaster CPU ${sc.broadcasterCpuSPerGiB} s per GiB ingested (incl. serving the viewer)`)
    out.push(table([['streamed GiB', 'pieces', 'viewer RSS MiB', 'viewer heap MiB', 'broadcaster RSS MiB'], ...sc.checkpoints.map((c) => [String(c.gib), String(c.pieces), String(c.viewerRssMiB), String(c.viewerHeapMiB), String(c.broadcasterRssMiB)])]))
  }

  const met = (ok: boolean | null): string => ok === null ? 'not measured' : ok ? 'MET' : 'NOT MET'
  const at50 = head && head.viewers >= 50
  out.push('', 'Targets:')
  out.push(`  p95 ≤ 50 ms, 50 viewers, 16 KiB:      ${met(head ? head.p95 <= 50 : null)}${head ? ` (${head.p95} ms with ${head.viewers} viewers${at50 ? '' : '; quick run: fewer than 50 viewers'})` : ''}`)
  out.push(`  … and no worse than Hypercore:        ${met(head && hc ? head.p95 <= hc.p95 : null)}${head && hc ? ` (${head.p95} vs ${hc.p95} ms)` : ''}`)
  const complete = head !== undefined && !head.error && head.missing === 0
  out.push(`  source upload ratio ≤ 1.3 (50 viewers): ${met(head?.sourceUploadRatio !== undefined ? complete && head.sourceUploadRatio <= 1.3 : null)}${head ? ` (${head.sourceUploadRatio}× with ${head.viewers} viewers${complete ? '' : `; run incomplete, ${head.missing} piece deliveries missing`})` : ''}`)
  out.push(`  catch-up ratio ≥ 0.95:                ${met(cu ? cu.ratio >= 0.95 : null)}${cu ? ` (${cu.ratio})` : ''}`)
  out.push(`  one signature check per head:         ${met(sigPerHead !== null ? sigPerHead <= 1 : null)}${sigPerHead !== null ? ` (max ${sigPerHead} per accepted head, any viewer)` : ''}`)
  out.push(`  viewer memory flat (≤ 32 MiB growth): ${met(rssGrowth !== null ? rssGrowth <= 32 : null)}${rssGrowth !== null ? ` (${round(rssGrowth, 1)} MiB from ${sc!.checkpoints[0]!.gib} to ${sc!.checkpoints.at(-1)!.gib} GiB)` : ''}`)
  console.log(out.join('\n'))

  if (JSON_OUT) {
    const result = {
      quick: QUICK,
      viewers: head?.viewers ?? null,
      max_hops: head?.maxHops ?? null,
      piece_length: head?.pieceLength ?? null,
      latency_p50_ms: head?.p50 ?? null,
      latency_p95_ms: head?.p95 ?? null,
      latency_p99_ms: head?.p99 ?? null,
      hypercore_latency_p95_ms: hc?.p95 ?? null,
      source_upload_ratio: head?.sourceUploadRatio ?? null,
      catchup_mib_s: cu?.live.mibS ?? null,
      static_mib_s: cu?.stock?.mibS ?? null,
      catchup_ratio: cu?.ratio ?? null,
      signature_checks_per_head: sigPerHead,
      viewer_rss_mib: sc ? sc.checkpoints.map((c) => c.viewerRssMiB) : null,
      viewer_rss_at_gib: sc ? sc.checkpoints.map((c) => c.gib) : null,
      broadcaster_cpu_s_per_gib: sc?.broadcasterCpuSPerGiB ?? null,
      runs,
      tracker: tracked.map((r) => ({ viewers: r.viewers, source_upload_ratio: r.sourceUploadRatio ?? null, latency_p50_ms: r.p50, latency_p95_ms: r.p95, latency_p99_ms: r.p99, missing: r.missing, error: r.error ?? null })),
      catchup_piece_length: cu?.pieceLength ?? null,
      catchup: cus,
      scale: sc,
      scale_error: scaleError,
      seconds: Math.round((Date.now() - started) / 1000)
    }
    console.log(JSON.stringify(result))
  }
}

main().then(() => process.exit(0), (err) => { console.error(err); process.exit(1) })
