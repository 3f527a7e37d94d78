/**
 * `npm run lab`: the swarm lab. One broadcaster and hundreds of viewers, every one a real WebTorrent
 * client running the library (`broadcast`, `enableLive`), find each other through a local
 * bittorrent-tracker and share a live stream over emulated internet links: a one-way delay per
 * pair, an uplink cap per peer, segment loss as retransmission stalls (scripts/lab/shaper.ts on
 * the real loopback TCP sockets). Several clients share each Node process (scripts/lab/node.ts).
 *
 *   node dist/scripts/lab.js [--quick] [--json] [--viewers 50,200,500] [--resource-index X] …
 *
 * Progress and the table go to stderr; with --json, one JSON object is the last line of stdout.
 * LAB_NO_FORWARD=1 in the environment turns off viewers' push forwarding (lib/live/push.ts), for A/B runs.
 * Every run stops by itself and removes its temporary folders. Targets are printed, never asserted.
 */
import { rmSync } from 'node:fs'
import { cpus, loadavg } from 'node:os'
import { startTracker } from '../lib/web/tracker.js'
import { buildModel, DEFAULT_MIX, mixMean, parseMix, rng, type ModelParams } from './lab/links.js'
import { Proc } from './lab/proc.js'
import { figures, round } from './lab/report.js'

/* eslint-disable @typescript-eslint/no-explicit-any */

const USAGE = `usage: npm run lab -- [options]
  --quick                 50 viewers, 30 s after the last join (< 5 minutes)
  --viewers LIST          viewer counts, one run each (default 50,200,500)
  --kbps N                stream rate, kbit/s (default 256)
  --piece-length BYTES    (default 16384)
  --buffer-ms N           playback buffer for the continuity index (default 3000)
  --delay MIN-MAX         one-way delay range, ms (default 10-150)
  --mix SHARE:X,…         viewer uplink classes, X = multiple of the stream rate (default 0.2:0.5,0.5:1.5,0.3:4)
  --resource-index R      viewers' total uplink ÷ their total demand (default: the mix's own, 2.05);
                          --ri R is the same option
  --source-uplink X       broadcaster uplink, multiple of the stream rate (default 8; 'inf' for none)
  --loss P                segment loss probability, each loss a retransmission stall (default 0.001)
  --sndbuf BYTES          each socket's kernel send buffer: writes are taken at once into it, and the
                          library sees only what overflows it (default 16384, Linux's initial size;
                          0: it sees its uplink queue and the bytes in flight, as the lab did)
  --upload-limit F        each client's WebTorrent uploadLimit at F × its uplink, as the README
                          advises (default 0.9; 0: none); a share, not the CLI's bytes a second
  --join-rate N           viewers joining per second (default 5)
  --steady S              seconds of airing after the last join (default 60; quick 30)
  --churn F               share of viewers that leave at a random time (default 0)
  --per-process N         clients per Node process (default 20)
  --max-conns N           each client's WebTorrent maxConns: peers it dials (default 55, WebTorrent's;
                          incoming connections come on top)
  --announce-interval S   tracker re-announce interval (default 60)
  --seed N                (default 7)
  --trace                 where each piece's time goes (first HAVE, request, block, by supplier's uplink)
  --json                  one JSON object as the last line of stdout`

const argv = process.argv.slice(2)
const flag = (name: string): boolean => argv.includes(`--${name}`)
const opt = (name: string): string | null => { const i = argv.indexOf(`--${name}`); return i >= 0 ? argv[i + 1] ?? null : null }
const num = (name: string, dflt: number, min = 0, max = Infinity): number => {
  const v = opt(name)
  if (v === null) return dflt
  const x = v === 'inf' ? Infinity : Number(v)
  if (!(x >= min && x <= max)) { process.stderr.write(`lab: --${name} ${v}: expected a number in [${min}, ${max}]\n${USAGE}\n`); process.exit(2) }
  return x
}
if (flag('help')) { process.stderr.write(USAGE + '\n'); process.exit(0) }
// --ri is the short name of --resource-index; an unknown option is misuse (exit 2), never ignored.
for (let i = 0; i < argv.length; i++) if (argv[i] === '--ri') argv[i] = '--resource-index'
const FLAGS = ['quick', 'json', 'help', 'trace']
const OPTIONS = ['viewers', 'kbps', 'piece-length', 'buffer-ms', 'delay', 'mix', 'resource-index', 'source-uplink', 'loss', 'sndbuf', 'upload-limit',
  'join-rate', 'steady', 'churn', 'per-process', 'max-conns', 'announce-interval', 'seed']
for (let i = 0; i < argv.length; i++) {
  const name = argv[i]!.startsWith('--') ? argv[i]!.slice(2) : null
  if (name !== null && FLAGS.includes(name)) continue
  if (name !== null && OPTIONS.includes(name) && i + 1 < argv.length) { i++; continue }
  process.stderr.write(`lab: ${argv[i]}: ${name !== null && OPTIONS.includes(name) ? 'expects a value' : 'unknown option'}\n${USAGE}\n`)
  process.exit(2)
}

const QUICK = flag('quick')
const JSON_OUT = flag('json')
const TRACE = flag('trace')
const viewerCounts = (opt('viewers') ?? (QUICK ? '50' : '50,200,500')).split(',').map(Number)
if (viewerCounts.some((n) => !(n >= 1 && n <= 5000 && Number.isInteger(n)))) { process.stderr.write(`lab: --viewers: whole numbers 1…5000\n`); process.exit(2) }
const kbps = num('kbps', 256, 8, 100_000)
const pieceLength = num('piece-length', 16384, 1024, 1 << 22)
const bufferMs = num('buffer-ms', 3000, 0)
const [delayMin, delayMax] = (opt('delay') ?? '10-150').split('-').map(Number) as [number, number]
if (!(delayMin >= 0 && delayMax >= delayMin)) { process.stderr.write('lab: --delay MIN-MAX, 0 ≤ MIN ≤ MAX\n'); process.exit(2) }
const mix = opt('mix') ? parseMix(opt('mix')!) : DEFAULT_MIX
const resourceIndex = num('resource-index', mixMean(mix), 0.01, 100)
const sourceUplink = num('source-uplink', 8, 0.1)
const loss = num('loss', 0.001, 0, 0.5)
const sndbuf = num('sndbuf', 16384, 0, 1 << 26)
const uploadLimit = num('upload-limit', 0.9, 0, 10)
const joinRate = num('join-rate', 5, 0.01, 1000)
const steady = num('steady', QUICK ? 30 : 60, 1, 3600)
const churn = num('churn', 0, 0, 1)
const perProcess = num('per-process', 20, 1, 200)
const maxConns = num('max-conns', 55, 1, 1000)
const announceInterval = num('announce-interval', 60, 1)
const seed = num('seed', 7)

const rate = kbps * 1000 / 8
const pieceMs = 1000 * pieceLength / rate

const log = (s: string): void => { process.stderr.write(`[lab ${new Date().toISOString().slice(11, 19)}] ${s}\n`) }
const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms))
const load = (): string => loadavg()[0]!.toFixed(1)

const dirs = new Set<string>()
const live = new Set<Proc>()
let stopping = false
async function stopEverything (): Promise<void> {
  await Promise.all([...live].map((p) => p.stop()))
  live.clear()
  for (const d of dirs) rmSync(d, { recursive: true, force: true })
  dirs.clear()
}
for (const sig of ['SIGINT', 'SIGTERM'] as const) {
  process.on(sig, () => {
    if (stopping) return
    stopping = true
    log(`${sig}: stopping`)
    stopEverything().finally(() => process.exit(130))
  })
}

/** Counters of every viewer (objects of numbers, some missing) summed key by key. */
function sumCounters (all: Array<Record<string, number> | undefined>): Record<string, number> {
  const sum: Record<string, number> = {}
  for (const c of all) for (const [k, x] of Object.entries(c ?? {})) sum[k] = (sum[k] ?? 0) + x
  return sum
}

async function runOnce (viewers: number): Promise<Record<string, unknown>> {
  const started = Date.now()
  const params: ModelParams = { viewers, seed, rate, delayMin, delayMax, mix, resourceIndex, sourceUplink, loss, sndbuf, uploadLimit }
  const model = buildModel(params)
  const tracker = await startTracker({ ws: false, interval: announceInterval * 1000, onError: (err) => log(`tracker: ${err.message}`) })
  const source = new Proc('source', 'source', log)
  live.add(source)
  const procs: Array<{ proc: Proc, nodes: number[] }> = []
  for (let first = 1; first <= viewers; first += perProcess) {
    const nodes = Array.from({ length: Math.min(perProcess, viewers - first + 1) }, (_, k) => first + k)
    const proc = new Proc('viewers', `viewers ${first}-${nodes[nodes.length - 1]!}`, log)
    live.add(proc)
    procs.push({ proc, nodes })
  }
  const procOf = new Map<number, Proc>()
  for (const { proc, nodes } of procs) for (const n of nodes) procOf.set(n, proc)
  try {
    log(`${viewers} viewers in ${procs.length} processes of ≤ ${perProcess}; starting clients (load ${load()})`)
    const ports: Array<[number, number]> = []
    const all = [{ proc: source, nodes: [0] }, ...procs]
    for (let i = 0; i < all.length; i += 4) {
      const batch = all.slice(i, i + 4)
      const rs = await Promise.all(batch.map(({ proc, nodes }) => proc.call('init', { nodes, maxConns, trace: TRACE }, 120_000)))
      for (const r of rs) { ports.push(...r.ports); dirs.add(r.dir) }
    }
    await Promise.all(all.map(({ proc }) => proc.call('setup', { params, ports })))
    const { magnet } = await source.call('broadcast', { pieceLength, announce: tracker.announce[0] })

    const joinSpanMs = 1000 * (viewers - 1) / joinRate
    const airMs = 2000 + joinSpanMs + steady * 1000
    const pieces = Math.ceil(airMs / pieceMs)
    log(`airing ${pieces} pieces of ${pieceLength} B at ${kbps} kbit/s (${(airMs / 1000).toFixed(0)} s); viewers join at ${joinRate}/s from 2 s`)
    const t0 = Date.now()
    const airing = source.call('air', { pieces, intervalMs: pieceMs, seed }, airMs + 120_000)
    let aired = false
    airing.then(() => { aired = true }, () => { aired = true })

    // Joins, then (with --churn) departures, on the lab's clock.
    const rand = rng(seed * 31 + viewers)
    const events: Array<{ at: number, node: number, cmd: 'join' | 'leave' }> = []
    for (let v = 1; v <= viewers; v++) {
      const at = 2000 + 1000 * (v - 1) / joinRate
      events.push({ at, node: v, cmd: 'join' })
      if (rand() < churn) events.push({ at: at + 10_000 + rand() * Math.max(0, airMs - at - 15_000), node: v, cmd: 'leave' })
    }
    events.sort((a, b) => a.at - b.at)
    const progress = setInterval(() => {
      Promise.all(procs.map(({ proc }) => proc.call('status', {}, 20_000).catch(() => null))).then((ss) => {
        const ok = ss.filter(Boolean) as any[]
        const joined = ok.reduce((a, s) => a + s.joined, 0)
        const behind = ok.reduce((a, s) => a + s.behind, 0)
        log(`t=${((Date.now() - t0) / 1000).toFixed(0)} s: ${joined}/${viewers} joined, ${ok.reduce((a, s) => a + s.done, 0)} done, pieces missing behind the edge ${behind} (${joined ? (behind / joined).toFixed(1) : 0} a viewer), load ${load()}`)
      }, () => {})
    }, 10_000)
    try {
      for (const e of events) {
        const wait = t0 + e.at - Date.now()
        if (wait > 0) await sleep(wait)
        if (aired && e.cmd === 'join') break
        procOf.get(e.node)!.call(e.cmd, { node: e.node, magnet }).catch((err: Error) => log(`${e.cmd} ${e.node}: ${err.message}`))
      }
      const air = await airing
      if (air.late) log(`the broadcaster fell behind its schedule ${air.late} times (machine overloaded)`)
      log(`aired ${air.pieces} pieces; ending the broadcast`)
      await source.call('end', {}, 40_000)
      // Every viewer that stayed reads to the end; bounded wait.
      const deadline = Date.now() + 60_000 + viewers * 100
      for (;;) {
        const ss = await Promise.all(procs.map(({ proc }) => proc.call('status', {}, 20_000).catch(() => null)))
        const ok = ss.filter(Boolean) as any[]
        const done = ok.reduce((a, s) => a + s.done, 0)
        const joined = ok.reduce((a, s) => a + s.joined, 0)
        if (done >= joined) break
        if (Date.now() > deadline) {
          log(`stopped waiting: ${joined - done} viewers still reading`)
          for (const { proc } of procs) for (const line of (await proc.call('stuck', {}, 20_000).catch(() => ({ lines: [] }))).lines) log(`  ${line}`)
          break
        }
        await sleep(2000)
      }
    } finally {
      clearInterval(progress)
    }
    const reports = await Promise.all([source, ...procs.map((p) => p.proc)].map((p) => p.call('report', {}, 120_000)))
    const src = reports[0].source
    const views = reports.flatMap((r: any) => r.viewers)
    const net = reports.reduce((a: any, r: any) => { for (const k of Object.keys(r.net)) a[k] = (a[k] ?? 0) + r.net[k]; return a }, {})
    const rssMiB = reports.reduce((a: number, r: any) => a + r.rss, 0) / 1048576
    const cpuS = reports.reduce((a: number, r: any) => a + r.cpuMs, 0) / 1000
    const fig = figures({ pieceLength, pieceMs, bufferMs, seed, multiple: model.multiple }, src, views)
    return {
      ...fig,
      ...(TRACE ? { trace: traceSummary(views, src.writtenAt, model.multiple) } : {}),
      wall_s: round((Date.now() - started) / 1000, 0),
      processes: procs.length + 1,
      lab_rss_mib: round(rssMiB, 0),
      lab_cpu_s: round(cpuS, 0),
      // Share of the machine the lab's processes used: near 1, every figure is bounded by CPU
      // (queueing in event loops), not by the links or the relay policy.
      lab_cpu_share: round(cpuS / ((Date.now() - started) / 1000 * cpus().length), 2),
      load_1m_end: round(loadavg()[0]!, 1),
      // Event-loop delay (ms) of the worst process: p50 and p99. A delay of the order of the links'
      // (tens of ms) means lag and continuity measure this machine's CPU, not the relay policy.
      loop_delay_ms: [round(Math.max(...reports.map((r: any) => r.loop?.p50 ?? 0)), 0), round(Math.max(...reports.map((r: any) => r.loop?.p99 ?? 0)), 0)],
      sockets_shaped: net.shaped,
      sockets_unattributed: net.unattributed,
      wires_misattributed: net.wiresMismatched,
      wires: net.wiresChecked,
      wires_duplicate: net.wiresDuplicate,
      source_max_backlog_kib: round(src.maxBacklog / 1024, 0),
      // The largest queue each viewer's uplink held (the shaper's): p50 and max over viewers.
      viewer_max_backlog_kib: ((b: number[]) => [round((b[Math.floor(b.length / 2)] ?? 0) / 1024, 0), round((b[b.length - 1] ?? 0) / 1024, 0)])(views.map((v: any) => v.maxBacklog ?? 0).sort((x: number, y: number) => x - y)),
      source_wires: src.wires,
      source_relay: src.relay,
      // Pieces that reached viewers by PUSH (lib/live/push.ts), of pieces verified by viewers.
      push_received: views.reduce((a: number, v: any) => a + (v.pushReceived ?? 0), 0),
      push: sumCounters(views.map((v: any) => v.push)),
      // Viewers' upload budgets (upload-budget.ts): requests admitted and REJECTed, connections dropped.
      viewer_budget: sumCounters(views.map((v: any) => v.budget))
    }
  } finally {
    await stopEverything()
    await tracker.close()
  }
}

/**
 * --trace: where a piece's time goes, over every (viewer, piece) after the viewer's start. Per
 * piece: aired → first HAVE heard → requested → block arrived (pulled), or first PUSH block; and
 * who supplied it, by uplink class ('source', or the multiple of the stream rate). Medians / p90, ms.
 */
function traceSummary (views: any[], writtenAt: number[], multiple: number[]): Record<string, unknown> {
  const q = (xs: number[], p: number): number | null => { if (!xs.length) return null; const s = [...xs].sort((a, b) => a - b); return round(s[Math.min(s.length - 1, Math.floor(p * s.length))]!, 0) }
  const haveLag: number[] = []; const reqWait: number[] = []; const service: number[] = []; const pushLag: number[] = []
  const by = new Map<string, { pieces: number, service: number[] }>()
  let rejects = 0; let pieces = 0
  const supplier = (k: string): { pieces: number, service: number[] } => {
    let c = by.get(k)
    if (!c) by.set(k, c = { pieces: 0, service: [] })
    return c
  }
  const cls = (node: number): string => node === 0 ? 'source' : node < 0 ? '?' : `${round(multiple[node] ?? NaN, 2)}x`
  for (const v of views) {
    for (const [i, have, req, reqTo, block, from, rej, push, pushFrom] of v.trace ?? []) {
      const at = writtenAt[i]
      if (at === undefined || v.startPiece === null || i < v.startPiece) continue
      pieces++
      rejects += rej
      if (have) haveLag.push(have - at)
      if (push && (!block || push <= block)) {
        pushLag.push(push - at)
        supplier('push from ' + cls(pushFrom)).pieces++
        continue
      }
      if (!block) continue
      if (have && req >= have) reqWait.push(req - have)
      if (req && block >= req) service.push(block - req)
      const c = supplier('pull from ' + cls(from))
      c.pieces++
      if (req && block >= req && reqTo === from) c.service.push(block - req)
    }
  }
  return {
    pieces,
    first_have_after_air_ms: [q(haveLag, 0.5), q(haveLag, 0.9)],
    request_after_first_have_ms: [q(reqWait, 0.5), q(reqWait, 0.9)],
    block_after_request_ms: [q(service, 0.5), q(service, 0.9)],
    push_after_air_ms: [q(pushLag, 0.5), q(pushLag, 0.9)],
    rejects_per_piece: round(rejects / Math.max(1, pieces), 2),
    suppliers: Object.fromEntries([...by].sort((a, b) => b[1].pieces - a[1].pieces).map(([k, c]) => [k, { share: round(c.pieces / Math.max(1, pieces), 3), service_ms: [q(c.service, 0.5), q(c.service, 0.9)] }]))
  }
}

function table (runs: Array<Record<string, any>>): string {
  const rows: Array<[string, string]> = [
    ['viewers', 'viewers'], ['source upload ÷ stream', 'source_upload_ratio'], ['lag p50 / p95 / p99 ms', 'lag'],
    ['continuity (buffer ' + bufferMs + ' ms)', 'continuity'], ['startup p50 / p95 ms', 'startup'], ['duplicate ratio', 'duplicate_ratio'],
    ['control overhead', 'control_overhead'], ['viewer upload ratio p50 / max', 'vup'], ['all identical', 'all_identical'],
    ['wall s / load at end', 'wall']
  ]
  const cell = (r: Record<string, any>, k: string): string => {
    if (k === 'lag') return `${r.lag_p50_ms} / ${r.lag_p95_ms} / ${r.lag_p99_ms}${r.lag_missing ? ` (${r.lag_missing} never)` : ''}`
    if (k === 'startup') return `${r.startup_ms_p50} / ${r.startup_ms_p95}`
    if (k === 'vup') return `${r.viewer_upload_ratio_p50} / ${r.viewer_upload_ratio_max}`
    if (k === 'wall') return `${r.wall_s} / ${r.load_1m_end}`
    if (k === 'all_identical') return r.all_identical ? 'yes' : `no (${r.incomplete} incomplete, ${r.corrupt} corrupt)`
    return String(r[k])
  }
  const w = Math.max(...rows.map(([l]) => l.length))
  return rows.map(([label, k]) => `${label.padEnd(w)}  ${runs.map((r) => cell(r, k).padEnd(24)).join(' ')}`).join('\n')
}

async function main (): Promise<void> {
  const stated = {
    kbps, piece_length: pieceLength, piece_ms: round(pieceMs, 1), buffer_ms: bufferMs, delay_ms: [delayMin, delayMax],
    mix: mix.map((c) => ({ share: round(c.share, 3), uplink_x: round(c.multiple * resourceIndex / mixMean(mix), 3) })),
    resource_index: round(resourceIndex, 3), source_uplink_x: sourceUplink === Infinity ? 'inf' : sourceUplink, loss, sndbuf, upload_limit: uploadLimit,
    join_rate: joinRate, steady_s: steady, churn, per_process: perProcess, max_conns: maxConns, announce_interval_s: announceInterval, seed,
    cores: cpus().length
  }
  log(`parameters: ${JSON.stringify(stated)}`)
  const runs: Array<Record<string, any>> = []
  for (const n of viewerCounts) {
    if (stopping) break
    try {
      runs.push(await runOnce(n))
    } catch (err) {
      log(`run with ${n} viewers failed: ${err instanceof Error ? err.stack ?? err.message : String(err)}`)
      runs.push({ viewers: n, failed: err instanceof Error ? err.message : String(err) })
    }
    log(`${n} viewers: ${JSON.stringify(runs[runs.length - 1])}`)
  }
  const good = runs.filter((r) => !r.failed)
  if (good.length) process.stderr.write('\n' + table(good) + '\n\n')
  for (const r of good) {
    const met = (ok: boolean): string => ok ? 'met' : 'not met'
    log(`targets, ${r.viewers} viewers: source upload ≤ 1.5 ${met(r.source_upload_ratio <= 1.5)}; continuity ≥ 0.999 ${met(r.continuity >= 0.999)}; byte-identical ${met(r.all_identical)}${r.all_identical ? '' : ` (${r.incomplete} viewers incomplete: a correct beginning, late; ${r.corrupt} corrupt)`}`)
    const [loop50, loop99] = r.loop_delay_ms as [number, number]
    if (r.lab_cpu_share >= 0.7 || loop99 >= 100) log(`note, ${r.viewers} viewers: the lab used ${Math.round(r.lab_cpu_share * 100)}% of the machine's CPU (load at the end ${r.load_1m_end}; event loops late by ${loop50} ms, p99 ${loop99} ms): lag and continuity are bounded by CPU here, not by the links`)
  }
  if (JSON_OUT) process.stdout.write(JSON.stringify({ ...(good[good.length - 1] ?? {}), parameters: stated, runs }) + '\n')
  process.exit(runs.every((r) => !r.failed) ? 0 : 1)
}

main().catch((err) => { log(err instanceof Error ? err.stack ?? err.message : String(err)); stopEverything().finally(() => process.exit(1)) })
