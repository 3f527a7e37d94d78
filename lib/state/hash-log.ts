/**
 * What a peer knows of the piece-hash chain: verified runs ("intervals") of piece hashes, each
 * ending at a position whose chain value is trusted (a signed head's commitment, or the start of a
 * later verified run). Transport-free; see lib/protocol/chain.ts for the chain itself.
 *
 * Hashes are kept in one growable buffer (20 bytes a piece). Chain values are kept at interval
 * bounds and every CHECKPOINT positions, so serving a page costs at most CHECKPOINT hashes.
 */
import { equal } from '../protocol/bytes.js'
import { runChain, step } from '../protocol/chain.js'
import { PIECE_HASH_BYTES } from '../protocol/constants.js'
import type { SignedHead } from '../protocol/head.js'
import type { Hashes } from '../protocol/sha.js'

export const CHECKPOINT = 64
/**
 * Chain values computed between checkpoints are remembered, the newest this many: a peer in a
 * mesh hears each head from every neighbour and sends each a tail anchored a little behind the
 * edge, so the same few positions near the edge are asked for again and again (without the memo,
 * up to CHECKPOINT SHA-256 steps each time: most of a lab viewer's CPU).
 */
export const CHAIN_MEMO = 1024

export interface Interval {
  start: number
  end: number
  cStart: Uint8Array
  cEnd: Uint8Array
  /** The newest signed head whose commitment anchors this run (null for the broadcaster's own log before its first head). */
  head: SignedHead | null
}

export interface Conflict {
  position: number
  ours: Uint8Array
  theirs: Uint8Array
  oursHead: SignedHead | null
}

export class HashLog {
  readonly hashes: Hashes
  readonly genesis: Uint8Array
  private buf = new Uint8Array(64 * PIECE_HASH_BYTES)
  /** The piece whose hash sits at buf[0]: forget() moves it up, so the buffer holds the window, not the history. */
  private base = 0
  private checkpoints = new Map<number, Uint8Array>()
  /** Verified chain values between checkpoints (position → c), oldest first; at most CHAIN_MEMO. */
  private memo = new Map<number, Uint8Array>()
  /** Hashes below this were forgotten (the sliding window): a late page below it is not kept. */
  private forgotten = 0
  /** Sorted, disjoint, non-adjacent-with-equal-chain runs. */
  readonly intervals: Interval[] = []

  constructor (hashes: Hashes, genesis: Uint8Array) {
    this.hashes = hashes
    this.genesis = genesis
  }

  /** Number of pieces up to the end of the newest run. */
  get end (): number {
    const last = this.intervals[this.intervals.length - 1]
    return last ? last.end : 0
  }

  /** Byte offset of piece i's hash in buf (i ≥ base). */
  private off (i: number): number { return (i - this.base) * PIECE_HASH_BYTES }

  private ensure (count: number): void {
    const need = this.off(count)
    if (need <= this.buf.length) return
    let n = this.buf.length
    while (n < need) n *= 2
    const b = new Uint8Array(n)
    b.set(this.buf)
    this.buf = b
  }

  /**
   * Drops the buffer's prefix below `from` once it is at least half the buffer: the hashes move
   * down into a buffer twice the size of what is kept, so a windowed log holds O(window) bytes.
   */
  private compact (from: number): void {
    const dead = this.off(from)
    if (dead < this.buf.length / 2) return
    const live = this.buf.subarray(dead, this.off(Math.max(from, this.end)))
    let n = 64 * PIECE_HASH_BYTES
    while (n < 2 * live.length) n *= 2
    const b = new Uint8Array(n)
    b.set(live)
    this.buf = b
    this.base = from
  }

  private find (i: number): Interval | null {
    let lo = 0; let hi = this.intervals.length - 1
    while (lo <= hi) {
      const mid = (lo + hi) >> 1
      const iv = this.intervals[mid]!
      if (i < iv.start) hi = mid - 1
      else if (i >= iv.end) lo = mid + 1
      else return iv
    }
    return null
  }

  has (i: number): boolean { return this.find(i) !== null }

  /** The verified SHA-1 of piece i, or null. */
  get (i: number): Uint8Array | null {
    if (!this.has(i)) return null
    return this.buf.slice(this.off(i), this.off(i + 1))
  }

  /** Flat hashes [start, end) when all are known, else null. */
  range (start: number, end: number): Uint8Array | null {
    const iv = this.find(start)
    if (!iv || end > iv.end || end < start) return null
    return this.buf.slice(this.off(start), this.off(end))
  }

  /** The chain value c[p] when p lies in or at the end of a run, else null. */
  chainAt (p: number): Uint8Array | null {
    for (const iv of this.intervals) {
      if (p === iv.start) return iv.cStart
      if (p === iv.end) return iv.cEnd
      if (p > iv.start && p < iv.end) {
        const known = this.memo.get(p)
        if (known) return known
        let q = Math.floor(p / CHECKPOINT) * CHECKPOINT
        let c = q > iv.start ? this.checkpoints.get(q) : undefined
        if (!c) { q = iv.start; c = iv.cStart }
        return runChain(this.hashes, c, this.buf.subarray(this.off(q), this.off(p)), (i, v) => this.remember(q + i + 1, v))
      }
    }
    return null
  }

  private remember (p: number, c: Uint8Array): void {
    if (this.memo.has(p)) return
    if (this.memo.size >= CHAIN_MEMO) this.memo.delete(this.memo.keys().next().value as number)
    this.memo.set(p, c)
  }

  /**
   * Checks that `anchor` followed by `pieceHashes` reaches `expectEnd`. Pure computation;
   * returns the chain values at checkpoint positions for insert().
   */
  verifySegment (start: number, anchor: Uint8Array, pieceHashes: Uint8Array, expectEnd: Uint8Array): Map<number, Uint8Array> | null {
    if (start === 0 && !equal(anchor, this.genesis)) return null
    const cps = new Map<number, Uint8Array>()
    const end = runChain(this.hashes, anchor, pieceHashes, (i, c) => {
      const p = start + i + 1
      if (p % CHECKPOINT === 0) cps.set(p, c)
    })
    return equal(end, expectEnd) ? cps : null
  }

  /**
   * Inserts a verified run [start, start+n). Returns a conflict if it disagrees with what is
   * already known at a shared position (the broadcaster signed two histories); nothing changes then.
   */
  insert (start: number, anchor: Uint8Array, pieceHashes: Uint8Array, cEnd: Uint8Array, cps: Map<number, Uint8Array>, head: SignedHead | null): Conflict | null {
    const n = pieceHashes.length / PIECE_HASH_BYTES
    const end = start + n
    const valueAt = (p: number): Uint8Array => {
      if (p === start) return anchor
      if (p === end) return cEnd
      return runChain(this.hashes, anchor, pieceHashes.subarray(0, (p - start) * PIECE_HASH_BYTES))
    }
    // Every existing run that overlaps or touches [start, end] must agree at the last shared
    // position: equal chain values there imply equal hashes over the whole overlap, whereas
    // agreeing at its first position says nothing about the hashes that follow.
    const touching = this.intervals.filter((iv) => iv.end >= start && iv.start <= end)
    for (const iv of touching) {
      const p = Math.min(iv.end, end)
      const ours = p === iv.end ? iv.cEnd : p === iv.start ? iv.cStart : this.chainAt(p)!
      const theirs = valueAt(Math.min(Math.max(p, start), end))
      if (!equal(ours, theirs)) return { position: p, ours, theirs, oursHead: iv.head }
    }
    this.ensure(end)
    // A run reaching below what was forgotten (a page asked for before the window moved) is
    // stored from the buffer's base on; forget() below trims its interval to match.
    if (start >= this.base) this.buf.set(pieceHashes, this.off(start))
    else if (end > this.base) this.buf.set(pieceHashes.subarray((this.base - start) * PIECE_HASH_BYTES), 0)
    for (const [p, c] of cps) this.checkpoints.set(p, c)
    let nStart = start; let nCStart = anchor; let nEnd = end; let nCEnd = cEnd; let nHead = head
    for (const iv of touching) {
      if (iv.start < nStart) { nStart = iv.start; nCStart = iv.cStart }
      if (iv.end > nEnd) { nEnd = iv.end; nCEnd = iv.cEnd; nHead = iv.head }
    }
    if (nEnd === end && head === null) nHead = touching.find((iv) => iv.end === end)?.head ?? null
    const merged: Interval = { start: nStart, end: nEnd, cStart: nCStart, cEnd: nCEnd, head: nHead }
    const rest = this.intervals.filter((iv) => !touching.includes(iv))
    rest.push(merged)
    rest.sort((a, b) => a.start - b.start)
    this.intervals.length = 0
    this.intervals.push(...rest)
    if (nStart < this.forgotten) this.forget(this.forgotten) // a page asked for before the window moved
    return null
  }

  /** The broadcaster's own append: one verified hash at the end. Returns the new chain value. */
  append (pieceHash: Uint8Array): Uint8Array {
    const last = this.intervals[this.intervals.length - 1]
    const pos = last ? last.end : 0
    const prev = last ? last.cEnd : this.genesis
    const c = step(this.hashes, prev, pieceHash)
    this.ensure(pos + 1)
    this.buf.set(pieceHash, this.off(pos))
    if ((pos + 1) % CHECKPOINT === 0) this.checkpoints.set(pos + 1, c)
    if (last) { last.end = pos + 1; last.cEnd = c } else this.intervals.push({ start: 0, end: 1, cStart: this.genesis, cEnd: c, head: null })
    return c
  }

  /**
   * The sliding window (lib/live/window.ts): hashes below `below` are forgotten. The chain value
   * c[below] stays as the start of the run that held it, so heads and pages above still verify;
   * range() over forgotten hashes is null (a HASH_REQUEST for them gets HASH_REJECT).
   */
  forget (below: number): void {
    this.forgotten = Math.max(this.forgotten, below)
    const kept: Interval[] = []
    const last = this.intervals[this.intervals.length - 1]
    for (const iv of this.intervals) {
      // The newest run stays, if need be empty at its end, so that append() continues the chain.
      if (iv.end < below || (iv.end === below && iv !== last)) continue
      if (iv.start < below) { iv.cStart = this.chainAt(Math.min(below, iv.end))!; iv.start = Math.min(below, iv.end) }
      kept.push(iv)
    }
    this.intervals.length = 0
    this.intervals.push(...kept)
    for (const p of this.checkpoints.keys()) if (p < below) this.checkpoints.delete(p)
    for (const p of this.memo.keys()) if (p < below) this.memo.delete(p)
    this.compact(Math.min(this.intervals[0]?.start ?? below, below))
  }

  /** Gaps below `upTo` whose hashes are unknown, newest first: [start, end) pairs. */
  gaps (upTo: number): Array<[number, number]> {
    const out: Array<[number, number]> = []
    let prevEnd = 0
    const g: Array<[number, number]> = []
    for (const iv of this.intervals) {
      if (iv.start > prevEnd) g.push([prevEnd, Math.min(iv.start, upTo)])
      prevEnd = iv.end
    }
    for (let i = g.length - 1; i >= 0; i--) { const x = g[i]!; if (x[0] < x[1]) out.push(x) }
    return out
  }
}
