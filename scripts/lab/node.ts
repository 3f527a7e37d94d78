/**
 * One process of `npm run lab` (scripts/lab.ts): it hosts several lab nodes, each a real WebTorrent
 * client with `enableLive` (role `source`: the broadcaster, node 0; role `viewers`: a batch of
 * viewers), all sockets shaped by scripts/lab/shaper.ts. Driven by the lab over the IPC channel.
 * Times are wall-clock ms (performance.timeOrigin + performance.now()), comparable across the lab's
 * processes on one machine. Data lives in one temporary folder per process, removed on exit.
 */
import WebTorrent from 'webtorrent'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join as joinPath } from 'node:path'
import { createHash } from 'node:crypto'
import { monitorEventLoopDelay } from 'node:perf_hooks'
import { broadcast, enableLive, type Broadcaster } from '../../lib/index.js'
import { buildModel, delayMs, nodeOfAddress, type Model, type ModelParams } from './links.js'
import { Shaper } from './shaper.js'
import { checkWire, installNetHooks, netStats, nodeOfPort, register, runAs } from './net-hooks.js'
import { pieceBytes } from './stream.js'

/* eslint-disable @typescript-eslint/no-explicit-any */

type Msg = Record<string, any> & { id: number, cmd: string }

const role = process.argv[2] as 'source' | 'viewers'
const now = (): number => performance.timeOrigin + performance.now()
const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms))

// The lab's clients are plain WebTorrent clients on loopback: peers come from the tracker only.
/** Event-loop delay of this process from init on (a histogram; 10 ms resolution). */
const loopDelay = monitorEventLoopDelay({ resolution: 10 })
const CLIENT_OPTS = { dht: false, lsd: false, natUpnp: false, natPmp: false, utp: false, webSeeds: false }

let model: Model | null = null
const shaper = new Shaper({
  uplink: (n) => model ? model.uplink[n]! : Infinity,
  delay: (a, b) => model ? delayMs(model, a, b) : 0,
  get loss () { return model?.params.loss ?? 0 },
  get sndbuf () { return model?.params.sndbuf ?? 0 }
})
installNetHooks(shaper)

const dir = mkdtempSync(joinPath(tmpdir(), `wtl-lab-${role}-`))
let cleaned = false
function cleanup (): void {
  if (cleaned) return
  cleaned = true
  shaper.close()
  try { rmSync(dir, { recursive: true, force: true }) } catch {}
}

interface LabNode {
  node: number
  client: any
  torrent: any
  joinAt: number
  leftAt: number
  firstReadAt: number
  readBytes: number
  readEnded: boolean
  readError: string | null
  hash: ReturnType<typeof createHash>
  verified: Map<number, number>
  received: Map<number, number>
  pieceUp: number
  pieceDown: number
  bans: number
  wires: number
  /** --trace: per piece, when its first HAVE came, when it was requested and from whom, when its block came and from whom, REJECTs, pushes. */
  trace: Map<number, Trace>
}
interface Trace { have: number, req: number, reqTo: number, block: number, from: number, rejects: number, push: number, pushFrom: number }
const trace = (n: LabNode, i: number): Trace => {
  let t = n.trace.get(i)
  if (!t) n.trace.set(i, t = { have: 0, req: 0, reqTo: -1, block: 0, from: -1, rejects: 0, push: 0, pushFrom: -1 })
  return t
}

const nodes = new Map<number, LabNode>()
let bc: Broadcaster | null = null
const writtenAt: number[] = []
const sourceHash = createHash('sha256')
let aired = 0
let pieceLength = 16384

const remoteOf = new WeakMap<object, number>()
/** --trace: the per-piece timings are recorded (listeners on every wire) only when asked for. */
let tracing = false

function countWires (n: LabNode, torrent: any): void {
  // Piece bytes sent unasked (PUSH, lib/live/push.ts) are piece bytes too, up and down.
  torrent.live?.on('push-sent', (_index: number, bytes: number) => { n.pieceUp += bytes })
  torrent.live?.on('push-block', (index: number, bytes: number, wire: any) => {
    if (tracing) {
      const t = trace(n, index)
      if (!t.push) { t.push = now(); t.pushFrom = remoteOf.get(wire) ?? -1 }
    }
    n.pieceDown += bytes
    n.received.set(index, (n.received.get(index) ?? 0) + bytes)
  })
  torrent.on('wire', (wire: any) => {
    n.wires++
    const remote = wire.type === 'tcpIncoming' ? nodeOfAddress(wire.remoteAddress) : nodeOfPort(Number(wire.remotePort))
    checkWire(n.node, remote)
    // A second wire to a peer already connected (both dialled each other), counted as it arrives:
    // the library closes one of the two (lib/live/one-wire.ts).
    if ((torrent.wires as any[]).some((w) => w !== wire && !w.destroyed && !w.destroying && w.peerId === wire.peerId)) netStats.wiresDuplicate++
    wire.on('upload', (bytes: number) => { n.pieceUp += bytes })
    if (tracing) traceWire(n, wire, remote ?? -1)
    wire.on('piece', (index: number, _offset: number, buffer: Uint8Array) => {
      n.pieceDown += buffer.length
      n.received.set(index, (n.received.get(index) ?? 0) + buffer.length)
    })
  })
}

/** --trace: when `wire` brought each piece's first HAVE, REJECTs, our last request and the first block. */
function traceWire (n: LabNode, wire: any, remote: number): void {
  remoteOf.set(wire, remote)
  wire.on('have', (i: number) => { const t = trace(n, i); if (!t.have) t.have = now() })
  wire.on('reject', (i: number) => { trace(n, i).rejects++ })
  const request = wire.request.bind(wire)
  wire.request = (i: number, ...rest: unknown[]) => {
    const t = trace(n, i)
    t.req = now()
    t.reqTo = remote
    return request(i, ...rest)
  }
  wire.on('piece', (i: number) => {
    const t = trace(n, i)
    if (!t.block) { t.block = now(); t.from = remote }
  })
}

/**
 * Peers from the tracker reach WebTorrent in a callback that has lost the node's async context
 * (bittorrent-tracker's fetch), and WebTorrent dials them from there: each of a node's torrents
 * adds peers in that node's context, so the shaper knows who dials (else the socket goes unshaped,
 * or is charged to another node). `add`, `addPeer` and `removePeer` are WebTorrent's public API.
 */
function dialAs (node: number, client: any): void {
  client.on('add', (torrent: any) => {
    // WebTorrent dials queued peers from addPeer and from removePeer (a closing socket makes room).
    for (const name of ['addPeer', 'removePeer']) {
      const fn = torrent[name].bind(torrent)
      torrent[name] = (...args: unknown[]) => runAs(node, () => fn(...args))
    }
  })
}

function newNode (node: number, client: any): LabNode {
  return { node, client, torrent: null, joinAt: 0, leftAt: 0, firstReadAt: 0, readBytes: 0, readEnded: false, readError: null, hash: createHash('sha256'), verified: new Map(), received: new Map(), pieceUp: 0, pieceDown: 0, bans: 0, wires: 0, trace: new Map() }
}

async function destroyClient (c: any): Promise<void> {
  if (!c || c.destroyed) return
  await Promise.race([new Promise<void>((resolve) => c.destroy(() => resolve())), sleep(5000)])
}

async function shutdown (): Promise<void> {
  await Promise.all([...nodes.values()].map((n) => destroyClient(n.client)))
  cleanup()
}

process.on('disconnect', () => { shutdown().finally(() => process.exit(0)) })
process.on('SIGTERM', () => { cleanup(); process.exit(143) })
process.on('exit', cleanup)

const handlers: Record<string, (m: Msg) => Promise<Record<string, unknown>>> = {
  /** Creates one listening client per node; returns their ports. */
  async init (m) {
    tracing = m.trace === true
    loopDelay.enable()
    const ports: Array<[number, number]> = []
    for (const node of m.nodes as number[]) {
      const client = runAs(node, () => enableLive(new WebTorrent({ ...CLIENT_OPTS, maxConns: m.maxConns ?? 55, ...(m.plaintext ? { secure: 0 } : {}) })))
      dialAs(node, client)
      client.on('error', (err: Error) => process.send!({ event: 'note', message: `node ${node}: ${err.message}` }))
      if (!client.listening) await new Promise((resolve) => client.once('listening', resolve))
      nodes.set(node, newNode(node, client))
      ports.push([client.address().port, node])
    }
    return { ports, dir }
  },

  /** The network model and every node's port (so a dialled port names a node). */
  async setup (m) {
    model = buildModel(m.params as ModelParams)
    for (const [port, node] of m.ports as Array<[number, number]>) register(port, node)
    // --upload-limit F: WebTorrent's own upload throttle (client.throttleUpload) at F × the node's uplink.
    const f = model.params.uploadLimit ?? 0
    if (f > 0) for (const [node, n] of nodes) if (Number.isFinite(model.uplink[node]!)) n.client.throttleUpload(Math.round(f * model.uplink[node]!))
    return {}
  },

  async broadcast (m) {
    // LAB_RELAY='{"fallbackMs":2200,"maxTier":2}' in the environment: relay options for A/B runs.
    const labRelay = (): object => process.env.LAB_RELAY ? { relay: JSON.parse(process.env.LAB_RELAY) } : {}
    const n = nodes.get(0)!
    pieceLength = m.pieceLength
    bc = await runAs(0, () => broadcast(n.client, { name: 'lab.bin', pieceLength, announce: [m.announce], path: joinPath(dir, 'source'), ...labRelay() }))
    n.torrent = bc.torrent
    countWires(n, bc.torrent)
    return { magnet: bc.magnetURI }
  },

  /** Airs `pieces` pieces, one every `intervalMs`, then ends the broadcast. */
  async air (m) {
    const t0 = performance.now()
    let late = 0
    await runAs(0, async () => {
      for (let k = 0; k < m.pieces; k++) {
        const wait = t0 + k * m.intervalMs - performance.now()
        if (wait > 0) await sleep(wait); else if (wait < -m.intervalMs) late++
        const bytes = pieceBytes(m.seed, k, pieceLength)
        writtenAt[k] = now()
        sourceHash.update(bytes)
        await bc!.write(bytes)
        aired = k + 1
      }
    })
    return { pieces: aired, late }
  },

  async end () {
    await runAs(0, () => Promise.race([bc!.end(), sleep(30_000)]))
    return {}
  },

  /** A viewer joins from the live edge, finding peers through the tracker in the magnet link. */
  async join (m) {
    const n = nodes.get(m.node)!
    runAs(m.node, () => {
      n.joinAt = now()
      const t = n.torrent = n.client.add(m.magnet, { live: true, from: 'live', path: joinPath(dir, String(m.node)) })
      countWires(n, t)
      if (process.env.LAB_NO_FORWARD && t.live.push) t.live.push.forwarding = false
      t.on('verified', (i: number) => { n.verified.set(i, now()) })
      t.on('error', (err: Error) => process.send!({ event: 'note', message: `node ${m.node}: ${err.message}` }))
      t.live.on('peer-banned', (b: any) => { n.bans++; if (n.bans <= 2) process.send!({ event: 'note', message: `node ${m.node} (uplink ${model ? Math.round(model.uplink[m.node]!) : "?"} B/s) banned ${b.addr}: ${b.code} ${b.reason}` }) })
      const rs = t.live.createReadStream()
      rs.on('data', (c: Uint8Array) => { if (!n.firstReadAt) n.firstReadAt = now(); n.readBytes += c.length; n.hash.update(c) })
      rs.on('end', () => { n.readEnded = true })
      rs.on('error', (err: Error) => { n.readError = err.message })
    })
    return {}
  },

  /** Churn: a viewer leaves (its client is destroyed, as when a user closes the player). */
  async leave (m) {
    const n = nodes.get(m.node)!
    n.leftAt = now()
    await destroyClient(n.client)
    return {}
  },

  /** Progress: joined viewers, how many finished reading, the newest piece each holds. */
  async status () {
    let joined = 0
    let done = 0
    let behind = 0
    for (const n of nodes.values()) {
      if (!n.joinAt || n.node === 0) continue
      joined++
      if (n.readEnded || n.leftAt || n.readError) done++
      const live = n.torrent?.live
      if (live && live.startPiece !== null && !n.leftAt) behind += Math.max(0, live.count - contiguous(n))
    }
    return { joined, done, behind, aired, shaped: netStats.shaped }
  },

  /** Viewers still reading: where each is stuck (its next piece, who holds it, what it asked of whom). */
  async stuck () {
    const out: string[] = []
    for (const n of nodes.values()) {
      if (!n.joinAt || n.node === 0 || n.readEnded || n.leftAt || n.readError) continue
      const t = n.torrent
      const live = t?.live
      if (!t || !live) { out.push(`node ${n.node}: no torrent yet`); continue }
      let next = live.startPiece ?? 0
      while (next < live.count && live.has(next)) next++
      const wires = t.wires.filter((w: any) => !w.destroyed)
      const holders = wires.filter((w: any) => w.peerPieces.get(next))
      const asked = wires.filter((w: any) => w.requests.some((r: any) => r.piece === next))
      out.push(`node ${n.node} (uplink ${model ? Math.round(model.uplink[n.node]!) : '?'} B/s, ${n.readBytes} B read, count ${live.count}, next missing ${next}, ended ${live.ended}): ${wires.length} wires, ` +
        `${holders.length} hold it (${holders.filter((w: any) => w.peerChoking).length} choking us, ${holders.filter((w: any) => !w.amInterested).length} we are not interested in), ` +
        `asked of ${asked.length}; our requests ${wires.reduce((a: number, w: any) => a + w.requests.length, 0)}, bans ${n.bans}, done ${t.done}, paused ${t.paused}`)
    }
    return { lines: out }
  },

  async report () {
    const viewers = []
    for (const n of nodes.values()) {
      if (n.node === 0 || !n.joinAt) continue
      const live = n.torrent?.live
      const startPiece: number | null = live?.startPiece ?? null
      const verified: Array<[number, number]> = []
      for (const [i, t] of n.verified) if (startPiece !== null && i >= startPiece) verified.push([i, Math.round(t * 10) / 10])
      let dup = 0
      for (const [i, bytes] of n.received) dup += Math.max(0, bytes - (live ? live.pieceLength(i) : pieceLength))
      viewers.push({
        node: n.node, joinAt: n.joinAt, leftAt: n.leftAt, firstReadAt: n.firstReadAt, startPiece, verified,
        readBytes: n.readBytes, readEnded: n.readEnded, readError: n.readError, sha256: n.hash.copy().digest('hex'),
        pieceUp: n.pieceUp, pieceDown: n.pieceDown, duplicateBytes: dup, wireBytes: shaper.counter(n.node).wireBytes,
        stalls: shaper.counter(n.node).stalls, maxBacklog: shaper.counter(n.node).maxBacklog, bans: n.bans, wires: n.wires,
        trace: tracing ? [...n.trace].map(([i, t]) => [i, t.have, t.req, t.reqTo, t.block, t.from, t.rejects, t.push, t.pushFrom]) : undefined,
        signatureChecks: live?.signatureChecks ?? 0, pushReceived: live?.push?.stats.received ?? 0, push: live?.push?.stats, budget: live?.uploads?.stats
      })
    }
    const src = nodes.get(0)
    const source = src && bc
      ? { writtenAt, aired, sha256: sourceHash.copy().digest('hex'), pieceUp: src.pieceUp, wireBytes: shaper.counter(0).wireBytes, maxBacklog: shaper.counter(0).maxBacklog, wires: src.wires, relay: { ...bc.relay.stats, tier: bc.relay.tier } }
      : null
    // How late this process's event loop ran its callbacks (ms): the CPU's share of every lag.
    const loop = { p50: loopDelay.percentile(50) / 1e6, p99: loopDelay.percentile(99) / 1e6 }
    return { viewers, source, loop, net: { ...netStats }, rss: process.memoryUsage().rss, cpuMs: process.cpuUsage().user / 1000 + process.cpuUsage().system / 1000 }
  },

  async exit () {
    setImmediate(() => { shutdown().finally(() => process.exit(0)) })
    return {}
  }
}

function contiguous (n: LabNode): number {
  const live = n.torrent.live
  let i = live.startPiece ?? 0
  while (live.has(i)) i++
  return i
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
