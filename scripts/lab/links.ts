/**
 * The swarm lab's network model (scripts/lab.ts): where each peer sits, how far apart two peers
 * are (one-way delay), how fast each peer can upload, and how often a TCP segment is lost.
 *
 * Node 0 is the broadcaster, nodes 1…N the viewers. Everything is derived from the seed, so every
 * lab process computes the same model from the same parameters.
 *
 * - Delay: each node is a point in the unit square; the one-way delay of a pair grows linearly with
 *   their distance from `delayMin` (same spot) to `delayMax` (opposite corners). Unlike an
 *   independent random delay per pair this keeps the triangle inequality, as real paths roughly do.
 * - Uplink: viewers fall into classes (`mix`: share of viewers and uplink as a multiple of the
 *   stream rate; default 20 % at 0.5×, 50 % at 1.5×, 30 % at 4×), scaled so that the viewers'
 *   total uplink ÷ their total demand (N × stream rate) equals the resource index. The broadcaster's
 *   uplink is `sourceUplink` × the stream rate.
 */
import { rng } from '../bench/harness.js'
export { rng }


export interface MixClass { share: number, multiple: number }

export const DEFAULT_MIX: MixClass[] = [{ share: 0.2, multiple: 0.5 }, { share: 0.5, multiple: 1.5 }, { share: 0.3, multiple: 4 }]

/** '0.2:0.5,0.5:1.5,0.3:4' → classes (shares normalised to 1). */
export function parseMix (text: string): MixClass[] {
  const out = text.split(',').map((part) => {
    const [share, multiple] = part.split(':').map(Number)
    if (!(share! > 0) || !(multiple! > 0)) throw new Error(`--mix: '${part}' is not SHARE:MULTIPLE with both > 0`)
    return { share: share!, multiple: multiple! }
  })
  const total = out.reduce((a, c) => a + c.share, 0)
  return out.map((c) => ({ share: c.share / total, multiple: c.multiple }))
}

export function mixMean (mix: MixClass[]): number {
  return mix.reduce((a, c) => a + c.share * c.multiple, 0)
}

export interface ModelParams {
  viewers: number
  seed: number
  /** Stream rate, bytes per second. */
  rate: number
  delayMin: number
  delayMax: number
  mix: MixClass[]
  /** Viewers' total uplink ÷ viewers' total demand. */
  resourceIndex: number
  /** Broadcaster uplink as a multiple of the stream rate (Infinity: unlimited). */
  sourceUplink: number
  /** Probability that a TCP segment (1460 bytes) is lost, costing a retransmission stall. */
  loss: number
  /** Each socket's kernel send buffer, bytes (0: the library sees its uplink queue and bytes in flight; shaper.ts). */
  sndbuf?: number
  /** WebTorrent's upload limit (client.throttleUpload) as a share of each node's uplink; 0: none. */
  uploadLimit?: number
}

export interface Model {
  params: ModelParams
  /** Uplink of each node, bytes per second (Infinity: unlimited). */
  uplink: number[]
  /** Uplink of each node as a multiple of the stream rate. */
  multiple: number[]
  x: number[]
  y: number[]
}

export function buildModel (p: ModelParams): Model {
  const rand = rng(p.seed * 7919 + 17)
  const n = p.viewers + 1
  const x: number[] = []
  const y: number[] = []
  for (let i = 0; i < n; i++) { x.push(rand()); y.push(rand()) }
  // Exactly round(share × N) viewers per class (the last class takes the remainder), shuffled.
  const classes: number[] = []
  p.mix.forEach((c, k) => {
    const count = k === p.mix.length - 1 ? p.viewers - classes.length : Math.min(p.viewers - classes.length, Math.round(c.share * p.viewers))
    for (let i = 0; i < count; i++) classes.push(k)
  })
  for (let i = classes.length - 1; i > 0; i--) { const j = Math.floor(rand() * (i + 1)); [classes[i], classes[j]] = [classes[j]!, classes[i]!] }
  const scale = p.resourceIndex / mixMean(p.mix)
  const multiple = [p.sourceUplink, ...classes.map((k) => p.mix[k]!.multiple * scale)]
  const uplink = multiple.map((m) => m * p.rate)
  return { params: p, uplink, multiple, x, y }
}

/** One-way delay between two nodes, ms. */
export function delayMs (m: Model, a: number, b: number): number {
  const dx = m.x[a]! - m.x[b]!
  const dy = m.y[a]! - m.y[b]!
  return m.params.delayMin + (m.params.delayMax - m.params.delayMin) * Math.sqrt(dx * dx + dy * dy) / Math.SQRT2
}

/** The loopback address a node binds its outgoing connections to: 127.77.x.y (never 127.0.0.1). */
export function addressOf (node: number): string {
  const k = node + 1
  return `127.77.${(k >> 8) & 255}.${k & 255}`
}

/** The node behind a loopback address from addressOf (IPv4-mapped IPv6 accepted), or undefined. */
export function nodeOfAddress (addr: string | undefined): number | undefined {
  if (!addr) return undefined
  const m = /^(?:::ffff:)?127\.77\.(\d+)\.(\d+)$/.exec(addr)
  if (!m) return undefined
  return Number(m[1]) * 256 + Number(m[2]) - 1
}
