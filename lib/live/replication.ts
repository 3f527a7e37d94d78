/**
 * Which of the broadcaster's pieces the swarm holds. A peer holds a piece once it announced it
 * (BITFIELD, HAVE or HAVE_ALL, on the live or the final infohash, so a plugin-less client of the
 * final torrent counts) and did not take it back (lt_donthave). The broadcaster's goodbye waits
 * until no piece exists only here before it leaves, so a viewer is never stranded at "200/201
 * pieces". A piece is safe:
 *   - while some peer is connected: when a peer connected now holds it (a viewer that took it and
 *     left cannot give it to the viewers still here);
 *   - when nobody is connected: when it reached some peer before (that peer carried it into the
 *     swarm, and there is nobody here to strand; waiting would keep a lone broadcaster for nothing);
 *     a resumed stream's earlier pieces count as reached by the run that published them.
 * HAVE_ALL on a growing torrent covers the pieces published when it came, not later ones.
 *
 * Peers are not trusted, but an announcement cannot be checked without downloading the piece back:
 * a peer that claims pieces it lacks can make the broadcaster leave early, no worse than a peer
 * that takes them and leaves at once. Every index is bounded by the stream's own count.
 *
 * Incremental, for streams of 100k+ pieces: per piece the number of connected wires that hold it,
 * per wire a bitfield of what was counted for it, one bit a piece for "reached". A HAVE is O(1); a
 * wire's BITFIELD, HAVE_ALL and close are O(pieces) once each; nothing is scanned per tick.
 *
 * An endless stream kept as a window only (a window-only broadcaster, window.ts): pieces below the
 * window are dropped by every window-only peer by design, so they are not the goodbye's business
 * (`floor`); the counts start at the floor, and per-piece counts are kept from there on only.
 */
import { EventEmitter } from 'node:events'
import BitField from 'bitfield'
import type { TorrentLike, WireLike } from '../../patches/index.js'


export interface ReplicationStatus {
  /** No piece exists only here. */
  complete: boolean
  /** Pieces that exist only here (see the rules above). */
  missing: number
}

export class Replication extends EventEmitter {
  /** holders[i − base]: connected wires that hold piece i. */
  private holders = new Uint32Array(1024)
  /** The first piece counted (the floor when it was last read): holders[0] is this piece. */
  private base = 0
  private readonly floor: () => number
  /** Pieces with at least one holder. */
  private held = 0
  /** Pieces some peer held at some time, and how many. */
  private reached = new BitField(0, { grow: Infinity })
  private reachedCount = 0
  private wires = new Map<object, BitField>()
  private torrents = new WeakSet<object>()
  private last = -1
  private readonly count: () => number

  /**
   * `count`: the stream's pieces so far (announcements at or beyond it are ignored). `before`:
   * pieces published by an earlier run of a resumed stream, taken to have reached the swarm then
   * (they also stay in its state folder).
   */
  constructor (count: () => number, before = 0, floor: () => number = () => 0) {
    super()
    this.count = count
    this.floor = floor
    for (let i = 0; i < before; i++) this.reached.set(i, true)
    this.reachedCount = before
  }

  /** Pieces of the stream that exist only here: no connected peer holds them, or, with nobody connected, none ever did. */
  get missing (): number {
    this.advance()
    return Math.max(0, this.count() - this.base - (this.wires.size > 0 ? this.held : this.reachedCount))
  }

  /** Moves the base up to the floor: the pieces below leave the counts (O(pieces passed), once each). */
  private advance (): void {
    const f = Math.min(this.floor(), this.count())
    if (f <= this.base) return
    for (let i = this.base; i < f; i++) {
      if ((this.holders[i - this.base] ?? 0) > 0) this.held--
      if (this.reached.get(i)) this.reachedCount--
    }
    const dead = f - this.base
    this.holders = dead >= this.holders.length ? new Uint32Array(1024) : this.holders.slice(dead)
    this.base = f
  }

  /** Wires watched now (live and final). */
  get peers (): number { return this.wires.size }

  /** Counts the announcements of `torrent`'s wires, now and from now on. */
  watch (torrent: TorrentLike | null): void {
    if (!torrent || this.torrents.has(torrent)) return
    this.torrents.add(torrent)
    for (const w of torrent.wires ?? []) this.add(w)
    torrent.on('wire', (w: WireLike) => this.add(w))
  }

  private add (wire: WireLike): void {
    if (this.wires.has(wire) || wire.destroyed) return
    const mine = new BitField(0, { grow: Infinity }) // what this wire counts for
    this.wires.set(wire, mine)
    const take = (i: number): void => {
      if (mine.get(i)) return
      mine.set(i, true)
      this.up(i)
    }
    const drop = (i: number): void => {
      if (!mine.get(i)) return
      mine.set(i, false)
      this.down(i)
    }
    const sync = (): void => { // the wire's whole bitfield replaced (BITFIELD, HAVE_ALL, HAVE_NONE) or first seen
      if (!this.wires.has(wire)) return
      const n = this.count()
      const pp = wire.peerPieces
      for (let i = this.base; i < n; i++) { if (pp?.get(i) === true) take(i); else drop(i) }
      this.changed()
    }
    wire.on('have', (i: number) => {
      if (!this.wires.has(wire) || !Number.isInteger(i) || i < 0 || i >= this.count()) return
      take(i)
      this.changed()
    })
    wire.on('bitfield', sync)
    wire.on('have-all', sync)
    wire.on('have-none', sync)
    wire.lt_donthave?.on?.('donthave', (i: number) => { // a peer that dropped a piece no longer holds it
      if (!this.wires.has(wire) || !Number.isInteger(i) || i < 0) return
      drop(i)
      this.changed()
    })
    wire.once('close', () => {
      if (!this.wires.delete(wire)) return
      const bytes: Uint8Array = mine.buffer
      for (let b = 0; b < bytes.length; b++) {
        const byte = bytes[b]!
        if (byte === 0) continue
        for (let k = 0; k < 8; k++) if ((byte & (128 >> k)) !== 0) this.down(b * 8 + k)
      }
      this.changed()
    })
    sync()
  }

  private up (i: number): void {
    if (i < this.base) return
    const j = i - this.base
    if (j >= this.holders.length) {
      let size = Math.max(1024, this.holders.length)
      while (size <= j) size *= 2
      const bigger = new Uint32Array(size)
      bigger.set(this.holders)
      this.holders = bigger
    }
    const h = this.holders
    if (h[j]!++ === 0) this.held++
    if (!this.reached.get(i)) { this.reached.set(i, true); this.reachedCount++ }
  }

  private down (i: number): void {
    const h = this.holders
    const j = i - this.base
    if (j < 0 || j >= h.length || h[j] === 0) return
    if (--h[j]! === 0) this.held--
  }

  /** Emits 'change' (missing) when the number of pieces held only here changed. */
  private changed (): void {
    const m = this.missing
    if (m === this.last) return
    this.last = m
    this.emit('change', m)
  }

  /** Resolves once no piece is missing, or after `timeoutMs` with what is still missing. */
  whenComplete (timeoutMs: number): Promise<ReplicationStatus> {
    return new Promise((resolve) => {
      let timer: ReturnType<typeof setTimeout> | null = null
      const check = (): void => {
        if (this.missing > 0) return
        done()
      }
      const done = (): void => {
        this.removeListener('change', check)
        if (timer) clearTimeout(timer)
        resolve({ complete: this.missing === 0, missing: this.missing })
      }
      this.on('change', check)
      if (Number.isFinite(timeoutMs)) { timer = setTimeout(done, Math.max(0, timeoutMs)); timer.unref?.() }
      check()
    })
  }
}
