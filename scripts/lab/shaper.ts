/**
 * A user-space link shaper for real TCP sockets (the swarm lab's "internet"; see README, Swarm lab).
 *
 * The shaper sits on the SENDING side of each socket: `attach(socket, local, remote)` replaces the
 * socket's `write` and `end` (on that socket object only) so that the bytes a node writes
 *
 *   1. wait in the socket's send queue (the socket buffer) until the node's uplink serves them:
 *      one uplink per node, shared by all its sockets, served round-robin in 1460-byte segments
 *      (roughly how TCP flows share a bottleneck) at the node's rate;
 *   2. then travel for the pair's one-way delay;
 *   3. and, with probability `loss` per segment, are lost once: that segment arrives a
 *      retransmission timeout later (200 ms + one round trip) and everything behind it on the
 *      same socket waits for it (TCP's head-of-line blocking);
 *
 * before they are written to the real socket, in order. Each side shapes what it sends, so both
 * directions of a connection are delayed once and each node's uplink is its own. What is not
 * emulated: the TCP handshake (connect takes no time), downlink caps, congestion control (a queue
 * grows without loss). Writes report success at once; the kernel's send buffer is emulated only in
 * what the socket's counters show (`sndbuf`), and bytes leave it on arrival, not at the ACK.
 *
 * Time advances in ticks of `tickMs` (default 5 ms; 2 ms cost a third more socket writes), so a delay is late by at most one tick.
 */
import type { Socket } from 'node:net'

/* eslint-disable @typescript-eslint/no-explicit-any */

export const SEGMENT = 1460
/** An uplink keeps at most this long of unused sending time (a late tick, a starved event loop): the wire does not slow down when the CPU is busy. */
const CREDIT_MS = 100

export interface ShaperOptions {
  /** Uplink of a node, bytes per second (Infinity: unlimited). */
  uplink (node: number): number
  /** One-way delay from node a to node b, ms. */
  delay (a: number, b: number): number
  /** Probability that a segment is lost once (read at each send, so it may be a getter). */
  loss?: number
  tickMs?: number
  random?: () => number
  /**
   * The kernel's send buffer per socket, bytes (read at each attach, so it may be a getter). 0: the
   * socket's own counters (bytesWritten, writableLength) see a byte leave only once it has crossed the
   * link, as if the sender could watch its uplink queue and the bytes in flight. N > 0: as on a real
   * TCP socket, a write is taken at once into a buffer of N bytes (the bytes queued at the uplink and
   * in flight); only what overflows it shows as the socket's writableLength.
   */
  sndbuf?: number
}

export interface NodeCounters {
  /** Bytes written on this node's shaped sockets (what its uplink carried). */
  wireBytes: number
  sockets: number
  /** Segments lost (each a retransmission stall). */
  stalls: number
  /** Largest send-queue backlog seen on the uplink, bytes. */
  maxBacklog: number
}

interface Chunk { at: number, buf: Buffer }

class Flow {
  queue: Buffer[] = []
  queued = 0
  inflight: Chunk[] = []
  inflightBytes = 0
  /** Bytes written to the socket so far (what a real socket's bytesWritten would count). */
  accepted = 0
  lastAt = 0
  ending: (() => void) | null = null
  closed = false
  constructor (readonly socket: Socket, readonly link: Uplink, readonly delay: number, readonly write: (b: Buffer) => boolean, readonly end: () => void) {}
}

class Uplink {
  active: Flow[] = []
  credit = 0
  last = 0
  backlog = 0
  constructor (readonly rate: number, readonly counters: NodeCounters) {}
}

export class Shaper {
  private links = new Map<number, Uplink>()
  private sending = new Set<Uplink>()
  private flying = new Set<Flow>()
  private timer: ReturnType<typeof setTimeout> | null = null
  private readonly tickMs: number
  private readonly random: () => number
  readonly counters = new Map<number, NodeCounters>()

  constructor (private readonly opts: ShaperOptions) {
    this.tickMs = opts.tickMs ?? 5
    this.random = opts.random ?? Math.random
  }

  counter (node: number): NodeCounters {
    let c = this.counters.get(node)
    if (!c) { c = { wireBytes: 0, sockets: 0, stalls: 0, maxBacklog: 0 }; this.counters.set(node, c) }
    return c
  }

  private uplink (node: number): Uplink {
    let l = this.links.get(node)
    if (!l) { l = new Uplink(this.opts.uplink(node), this.counter(node)); this.links.set(node, l) }
    return l
  }

  /** Shapes what `socket` sends from node `local` to node `remote` from now on. */
  attach (socket: Socket, local: number, remote: number): void {
    const s = socket as any
    const write = s.write.bind(socket) as (b: Buffer) => boolean
    const end = s.end.bind(socket) as (...a: unknown[]) => void
    const link = this.uplink(local)
    link.counters.sockets++
    const flow = new Flow(socket, link, Math.max(0, this.opts.delay(local, remote)), write, () => end())
    const sndbuf = this.opts.sndbuf ?? 0
    if (sndbuf > 0) {
      Object.defineProperty(s, 'bytesWritten', { configurable: true, get: () => flow.accepted })
      Object.defineProperty(s, 'writableLength', { configurable: true, get: () => Math.max(0, flow.queued + flow.inflightBytes - sndbuf) })
    }
    s.write = (chunk: any, encoding?: any, cb?: any): boolean => {
      if (typeof encoding === 'function') { cb = encoding; encoding = undefined }
      if (flow.closed || socket.destroyed) { if (cb) queueMicrotask(() => cb(new Error('socket closed'))); return false }
      const buf = typeof chunk === 'string' ? Buffer.from(chunk, encoding) : Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength)
      flow.accepted += buf.length
      if (buf.length) this.enqueue(flow, buf)
      if (cb) queueMicrotask(() => cb())
      return true
    }
    s.end = (chunk?: any, encoding?: any, cb?: any): Socket => {
      if (typeof chunk === 'function') { cb = chunk; chunk = undefined }
      if (typeof encoding === 'function') { cb = encoding; encoding = undefined }
      if (chunk != null) s.write(chunk, encoding)
      if (cb) socket.once('finish', cb)
      if (flow.queued === 0 && flow.inflight.length === 0) flow.end()
      else flow.ending = flow.end
      return socket
    }
    socket.once('close', () => {
      flow.closed = true
      link.backlog -= flow.queued
      flow.queue = []
      flow.queued = 0
      flow.inflight = []
      flow.inflightBytes = 0
      const i = link.active.indexOf(flow)
      if (i >= 0) link.active.splice(i, 1)
      this.flying.delete(flow)
    })
  }

  private enqueue (flow: Flow, buf: Buffer): void {
    const link = flow.link
    link.counters.wireBytes += buf.length
    if (link.rate === Infinity) { this.launch(flow, buf, performance.now()); this.schedule(); return }
    flow.queue.push(buf)
    flow.queued += buf.length
    link.backlog += buf.length
    if (link.backlog > link.counters.maxBacklog) link.counters.maxBacklog = link.backlog
    if (!link.active.includes(flow)) link.active.push(flow)
    if (!this.sending.has(link)) {
      this.sending.add(link)
      link.last = performance.now()
      link.credit = SEGMENT // an idle link sends its first segment at once
    }
    this.schedule()
  }

  /** The bytes leave the uplink now: they arrive after the pair's delay (and a stall if lost). */
  private launch (flow: Flow, buf: Buffer, now: number): void {
    let at = now + flow.delay
    const loss = this.opts.loss ?? 0
    if (loss > 0) {
      const segments = Math.ceil(buf.length / SEGMENT)
      if (this.random() < 1 - Math.pow(1 - loss, segments)) {
        at += 200 + 2 * flow.delay
        flow.link.counters.stalls++
      }
    }
    if (at < flow.lastAt) at = flow.lastAt
    flow.lastAt = at
    flow.inflightBytes += buf.length
    const tail = flow.inflight[flow.inflight.length - 1]
    if (tail && tail.at === at) tail.buf = Buffer.concat([tail.buf, buf])
    else flow.inflight.push({ at, buf })
    this.flying.add(flow)
  }

  private schedule (): void {
    if (this.timer) return
    this.timer = setTimeout(() => { this.timer = null; this.tick() }, this.tickMs)
  }

  private tick (): void {
    const now = performance.now()
    for (const link of this.sending) {
      link.credit = Math.min(link.credit + link.rate * (now - link.last) / 1000, Math.max(SEGMENT, link.rate * CREDIT_MS / 1000))
      link.last = now
      // Round robin over the flows with queued bytes, one segment each per turn.
      let guard = 0
      while (link.credit >= 1 && link.active.length && guard++ < 100_000) {
        const flow = link.active.shift()!
        const want = Math.min(SEGMENT, Math.floor(link.credit))
        const parts: Buffer[] = []
        let got = 0
        while (got < want && flow.queue.length) {
          const head = flow.queue[0]!
          const take = Math.min(head.length, want - got)
          parts.push(take === head.length ? head : head.subarray(0, take))
          if (take === head.length) flow.queue.shift(); else flow.queue[0] = head.subarray(take)
          got += take
        }
        flow.queued -= got
        link.backlog -= got
        link.credit -= got
        if (got) this.launch(flow, parts.length === 1 ? parts[0]! : Buffer.concat(parts), now)
        if (flow.queued > 0) link.active.push(flow)
      }
      if (!link.active.length) this.sending.delete(link)
    }
    for (const flow of this.flying) {
      let n = 0
      while (n < flow.inflight.length && flow.inflight[n]!.at <= now) n++
      if (n) {
        const due = flow.inflight.splice(0, n)
        for (const c of due) flow.inflightBytes -= c.buf.length
        if (!flow.socket.destroyed) flow.write(due.length === 1 ? due[0]!.buf : Buffer.concat(due.map((c) => c.buf)))
      }
      if (!flow.inflight.length) {
        this.flying.delete(flow)
        if (flow.ending && flow.queued === 0) { const end = flow.ending; flow.ending = null; end() }
      }
    }
    if (this.sending.size || this.flying.size) this.schedule()
  }

  /** Stops the clock (queued bytes are dropped with their sockets). */
  close (): void {
    if (this.timer) clearTimeout(this.timer)
    this.timer = null
  }
}
