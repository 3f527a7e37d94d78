/**
 * Which of the broadcaster's pieces have reached the swarm: a piece has once another peer
 * announced it (BITFIELD or HAVE, on the live or on the final infohash). The broadcaster's goodbye
 * waits for every piece to have reached someone before it leaves, so that no piece exists only on
 * a machine that is about to go (a viewer would stay at "200/201 pieces" for ever). A peer that
 * had a piece and left still counts: it took the piece into the swarm (what BitTorrent's
 * super-seeding counts too); waiting for peers to return would keep a lone broadcaster for ever.
 *
 * Incremental: one bit per piece; a wire is scanned once when watched and again on a BITFIELD
 * (O(pieces) per wire), and each HAVE is O(1); never a scan per tick.
 */
import { EventEmitter } from 'node:events'
import BitField from 'bitfield'

/* eslint-disable @typescript-eslint/no-explicit-any */

export interface ReplicationStatus {
  /** Every piece has reached another peer. */
  complete: boolean
  /** Pieces no other peer has announced. */
  missing: number
}

export class Replication extends EventEmitter {
  private reached = new BitField(0, { grow: Infinity })
  private reachedCount = 0
  private wires = new WeakSet<object>()
  private torrents = new WeakSet<object>()
  private readonly count: () => number

  /** `before`: pieces published by an earlier run of a resumed stream (they left it back then). */
  constructor (count: () => number, before = 0) {
    super()
    this.count = count
    for (let i = 0; i < before; i++) this.mark(i)
  }

  /** Pieces of the stream that no other peer has announced. */
  get missing (): number { return Math.max(0, this.count() - this.reachedCount) }

  /** Counts the announcements of `torrent`'s wires, now and from now on. */
  watch (torrent: any): void {
    if (!torrent || this.torrents.has(torrent)) return
    this.torrents.add(torrent)
    for (const w of torrent.wires ?? []) this.add(w)
    torrent.on('wire', (w: any) => this.add(w))
  }

  private add (wire: any): void {
    if (this.wires.has(wire) || wire.destroyed) return
    this.wires.add(wire)
    const scan = (): void => {
      const n = this.count()
      for (let i = 0; i < n; i++) if (wire.peerPieces?.get(i)) this.mark(i)
      this.emit('change', this.missing)
    }
    wire.on('have', (i: number) => {
      if (Number.isInteger(i) && i >= 0 && i < this.count() && !this.reached.get(i)) { this.mark(i); this.emit('change', this.missing) }
    })
    wire.on('bitfield', scan)
    scan()
  }

  private mark (i: number): void {
    if (this.reached.get(i)) return
    this.reached.set(i, true)
    this.reachedCount++
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
