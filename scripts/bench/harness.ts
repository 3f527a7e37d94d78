/** Process harness, topology and statistics for `npm run bench` (scripts/bench.ts). */
import { fork, type ChildProcess } from 'node:child_process'

/* eslint-disable @typescript-eslint/no-explicit-any */

const PEER = new URL('./peer.js', import.meta.url)

export interface HarnessOptions { profileDir: string | null }
export const harness: HarnessOptions = { profileDir: null }

/** A peer process (scripts/bench/peer.ts) driven over IPC. */
export class Peer {
  readonly child: ChildProcess
  readonly role: string
  port = 0
  /** The reply to init (port, and for a Hypercore writer its key). */
  info: Record<string, any> = {}
  private nextId = 1
  private pending = new Map<number, { resolve: (v: any) => void, reject: (e: Error) => void }>()
  private alive: Promise<void>
  exited = false

  constructor (role: string, env: Record<string, string> = {}) {
    this.role = role
    const execArgv = ['--expose-gc']
    if (harness.profileDir) execArgv.push('--cpu-prof', '--cpu-prof-dir', harness.profileDir, '--cpu-prof-name', `${role}-${Date.now()}-${process.pid}-${Math.random().toString(36).slice(2, 6)}.cpuprofile`)
    this.child = fork(PEER, [role], { execArgv, env: { ...process.env, ...env }, stdio: ['ignore', 'inherit', 'inherit', 'ipc'] })
    this.alive = new Promise((resolve, reject) => {
      this.child.once('error', reject)
      this.child.on('message', (m: any) => {
        if (m.event === 'alive') { resolve(); return }
        if (m.event === 'error' || m.event === 'note') { process.stderr.write(`[${role} ${this.child.pid}] ${m.message}\n`); return }
        const p = this.pending.get(m.id)
        if (!p) return
        this.pending.delete(m.id)
        if (m.ok) p.resolve(m); else p.reject(new Error(`${role}: ${m.error}`))
      })
    })
    this.child.once('exit', (code) => {
      this.exited = true
      for (const p of this.pending.values()) p.reject(new Error(`${role} exited (${code})`))
      this.pending.clear()
    })
  }

  async call<T = any> (cmd: string, args: Record<string, unknown> = {}, timeoutMs = 120_000): Promise<T> {
    await this.alive
    if (this.exited) throw new Error(`${this.role} has exited`)
    const id = this.nextId++
    return await new Promise<T>((resolve, reject) => {
      const timer = setTimeout(() => { this.pending.delete(id); reject(new Error(`${this.role}.${cmd} timed out after ${timeoutMs} ms`)) }, timeoutMs)
      this.pending.set(id, { resolve: (v) => { clearTimeout(timer); resolve(v) }, reject: (e) => { clearTimeout(timer); reject(e) } })
      this.child.send({ id, cmd, ...args })
    })
  }

  async init (args: Record<string, unknown> = {}): Promise<this> {
    const r = await this.call('init', args)
    this.port = r.port
    this.info = r
    return this
  }

  /** Asks the peer to exit (it destroys its client and removes its folder); kills it if it lingers. */
  async stop (): Promise<void> {
    if (this.exited) return
    const gone = new Promise<void>((resolve) => this.child.once('exit', () => resolve()))
    try { await this.call('exit', {}, 5000) } catch {}
    const t = setTimeout(() => { if (!this.exited) this.child.kill('SIGKILL') }, 8000)
    await gone
    clearTimeout(t)
  }
}

export async function stopAll (peers: Peer[]): Promise<void> {
  await Promise.all(peers.map((p) => p.stop()))
}

export async function spawn (role: string, n: number, args: Record<string, unknown> = {}): Promise<Peer[]> {
  const out: Peer[] = []
  // Spawn in small batches: 50 Node start-ups at once on 2 cores only slow each other down.
  for (let i = 0; i < n; i += 8) {
    const batch = Array.from({ length: Math.min(8, n - i) }, () => new Peer(role))
    out.push(...batch)
    await Promise.all(batch.map((p) => p.init(args)))
  }
  return out
}

// ---- topology ---------------------------------------------------------------------------------

/** A deterministic PRNG (mulberry32). */
export function rng (seed: number): () => number {
  let a = seed >>> 0
  return () => {
    a = (a + 0x6d2b79f5) >>> 0
    let t = a
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}

export interface Topology {
  /** Node 0 is the source; 1…n the viewers. dial[v]: the nodes v connects to (all lower-numbered). */
  n: number
  edges: Array<[number, number]>
  dial: number[][]
  hops: number[]
  degree: number[]
}

/**
 * A random connected graph: the source has `sourceDegree` viewer neighbours; every other viewer
 * hangs off a random earlier viewer (a random recursive tree), then random viewer–viewer edges are
 * added until the average viewer degree reaches `meanDegree`. No node has more than `maxDegree`
 * neighbours. Viewers are numbered in BFS order so that edges can be dialled from higher to lower.
 */
export function randomTopology (n: number, opts: { sourceDegree: number, maxDegree: number, meanDegree: number, seed: number }): Topology {
  const rand = rng(opts.seed)
  const adj: Set<number>[] = Array.from({ length: n + 1 }, () => new Set<number>())
  const link = (a: number, b: number): void => { adj[a]!.add(b); adj[b]!.add(a) }
  const order = Array.from({ length: n }, (_, i) => i + 1)
  for (let i = order.length - 1; i > 0; i--) { const j = Math.floor(rand() * (i + 1)); [order[i], order[j]] = [order[j]!, order[i]!] }
  const d0 = Math.min(opts.sourceDegree, n)
  const placed: number[] = []
  order.forEach((v, k) => {
    if (k < d0) link(0, v)
    else {
      const open = placed.filter((u) => adj[u]!.size < opts.maxDegree)
      link(open[Math.floor(rand() * open.length)]!, v)
    }
    placed.push(v)
  })
  const viewerDegreeSum = (): number => order.reduce((a, v) => a + adj[v]!.size, 0)
  let guard = 0
  while (viewerDegreeSum() / n < opts.meanDegree && guard++ < 100_000) {
    const a = order[Math.floor(rand() * n)]!
    const b = order[Math.floor(rand() * n)]!
    if (a === b || adj[a]!.has(b) || adj[a]!.size >= opts.maxDegree || adj[b]!.size >= opts.maxDegree) continue
    link(a, b)
  }
  // BFS from the source; renumber nodes in BFS order.
  const hopsOld = new Array<number>(n + 1).fill(-1)
  hopsOld[0] = 0
  const bfs = [0]
  for (let q = 0; q < bfs.length; q++) {
    const u = bfs[q]!
    for (const v of [...adj[u]!].sort((x, y) => x - y)) if (hopsOld[v] === -1) { hopsOld[v] = hopsOld[u]! + 1; bfs.push(v) }
  }
  const renum = new Array<number>(n + 1)
  bfs.forEach((old, neu) => { renum[old] = neu })
  const edges: Array<[number, number]> = []
  for (let u = 0; u <= n; u++) for (const v of adj[u]!) if (u < v) { const a = renum[u]!; const b = renum[v]!; edges.push(a < b ? [a, b] : [b, a]) }
  const dial: number[][] = Array.from({ length: n + 1 }, () => [])
  const degree = new Array<number>(n + 1).fill(0)
  for (const [a, b] of edges) { dial[b]!.push(a); degree[a]!++; degree[b]!++ }
  const hops = new Array<number>(n + 1)
  bfs.forEach((old, neu) => { hops[neu] = hopsOld[old]! })
  return { n, edges, dial, hops, degree }
}

// ---- statistics -------------------------------------------------------------------------------

export function pct (xs: number[], p: number): number {
  if (!xs.length) return NaN
  const s = [...xs].sort((a, b) => a - b)
  return s[Math.min(s.length - 1, Math.max(0, Math.ceil(p / 100 * s.length) - 1))]!
}

export function round (x: number, d = 2): number {
  return Number.isFinite(x) ? Number(x.toFixed(d)) : x
}

export const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms))

/** Polls `check` every `everyMs` until it returns true or `ms` pass. */
export async function poll (check: () => Promise<boolean>, ms: number, what: string, everyMs = 100): Promise<void> {
  const deadline = Date.now() + ms
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out after ${ms} ms: ${what}`)
    await sleep(everyMs)
  }
}
