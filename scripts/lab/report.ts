/**
 * The swarm lab's figures (scripts/lab.ts), computed from what every lab node recorded.
 *
 * - lag: `broadcaster.write()` called for piece i → piece i verified at the viewer, over every
 *   piece a viewer should have received: those from its start piece on that were written after it
 *   joined (and, for a viewer that left, written while it stayed). A piece it never verified counts as
 *   infinitely late.
 * - continuity (the continuity index of the P2P-TV literature): a viewer starts playing its start
 *   piece s `bufferMs` after verifying it, and plays on at the stream rate, so piece s + k is due at
 *   verified(s) + bufferMs + k × pieceMs. The index is the share of due pieces verified by then,
 *   over all viewers (a viewer that left counts only the pieces due before it left).
 * - startup: join (client.add) → the first bytes from its read stream (the start piece, verified).
 * - all_identical: each viewer's read bytes (SHA-256) equal the broadcast from its start piece,
 *   to the end (or, for one that left, for as many whole pieces as it read). A viewer that is not
 *   is `incomplete` (what it read is exactly the broadcast's beginning from its start piece, but its
 *   read had not ended when the run stopped waiting or it left: late, nothing wrong written) or
 *   `corrupt` (what it read differs from the broadcast or runs past it, or its read failed or ended
 *   short); a broadcaster whose own bytes differ counts as corrupt too. not_identical = incomplete + corrupt.
 */
import { createHash } from 'node:crypto'
import { pieceBytes, streamHash } from './stream.js'

/* eslint-disable @typescript-eslint/no-explicit-any */

export function pct (xs: number[], p: number): number {
  if (!xs.length) return NaN
  const s = [...xs].sort((a, b) => a - b)
  return s[Math.min(s.length - 1, Math.max(0, Math.ceil(p / 100 * s.length) - 1))]!
}

export function round (x: number, d = 2): number | null {
  if (Number.isNaN(x)) return null
  return Number.isFinite(x) ? Number(x.toFixed(d)) : x
}

export interface Figures {
  pieceLength: number
  pieceMs: number
  bufferMs: number
  seed: number
  multiple: number[]
}

export function figures (f: Figures, source: any, viewers: any[]): Record<string, unknown> {
  const aired: number = source.aired
  const writtenAt: number[] = source.writtenAt
  const L = f.pieceLength
  const streamBytes = aired * L
  const lags: number[] = []
  let due = 0
  let onTime = 0
  const startups: number[] = []
  let dup = 0
  let pieceDown = 0
  let wire = source.wireBytes as number
  let pieceUp = source.pieceUp as number
  const upRatios: number[] = []
  let identical = source.sha256 === streamHash(f.seed, 0, aired, L)
  let incomplete = 0
  const unfinished: Array<{ s: number, bytes: number, sha256: string }> = []
  let corrupt = identical ? 0 : 1
  const hashes = new Map<string, string>()
  const expect = (from: number, count: number): string => {
    const k = `${from}+${count}`
    let h = hashes.get(k)
    if (!h) { h = streamHash(f.seed, from, count, L); hashes.set(k, h) }
    return h
  }
  const byClass = new Map<number, { n: number, due: number, onTime: number, up: number, down: number }>()
  for (const v of viewers) {
    const verified = new Map<number, number>(v.verified)
    const s: number | null = v.startPiece
    const left = v.leftAt || Infinity
    let vDue = 0
    let vOnTime = 0
    if (s !== null) {
      for (let i = s; i < aired; i++) {
        if (writtenAt[i]! < v.joinAt || writtenAt[i]! > left) continue
        const t = verified.get(i)
        lags.push(t === undefined ? Infinity : t - writtenAt[i]!)
      }
      const t0 = verified.get(s)
      for (let i = s; i < aired; i++) {
        const deadline = t0 === undefined ? writtenAt[i]! + f.bufferMs : t0 + f.bufferMs + (i - s) * f.pieceMs
        if (deadline > left) break
        vDue++
        const t = verified.get(i)
        if (t !== undefined && t <= deadline) vOnTime++
      }
    }
    due += vDue
    onTime += vOnTime
    startups.push(v.firstReadAt ? v.firstReadAt - v.joinAt : Infinity)
    dup += v.duplicateBytes
    pieceDown += v.pieceDown
    wire += v.wireBytes
    pieceUp += v.pieceUp
    const got = v.pieceDown - v.duplicateBytes
    upRatios.push(got > 0 ? v.pieceUp / got : 0)
    const m = f.multiple[v.node]!
    const c = byClass.get(m) ?? { n: 0, due: 0, onTime: 0, up: 0, down: 0 }
    c.n++; c.due += vDue; c.onTime += vOnTime; c.up += v.pieceUp; c.down += got
    byClass.set(m, c)
    let ok: boolean
    if (s === null) ok = false
    else if (v.leftAt) ok = v.readBytes % L === 0 && v.sha256 === expect(s, v.readBytes / L)
    else ok = v.readEnded && !v.readError && v.readBytes === (aired - s) * L && v.sha256 === expect(s, aired - s)
    if (!ok) {
      identical = false
      // Late or wrong? A read that has not ended is fine so far if its bytes are the broadcast's from its start.
      // A viewer that left was destroyed (its read fails with DESTROYED): judged by its bytes alone.
      const failed = !v.leftAt && (v.readEnded || v.readError)
      if (s === null) { if (failed || v.readBytes > 0) corrupt++; else incomplete++ } // nothing read yet: late
      else if (failed || v.readBytes > (aired - s) * L) corrupt++
      else unfinished.push({ s, bytes: v.readBytes, sha256: v.sha256 })
    }
  }
  // One pass over the stream per start piece (a SHA-256 state copied at each viewer's length), not one per viewer.
  unfinished.sort((a, b) => a.s - b.s || a.bytes - b.bytes)
  let at: { s: number, h: ReturnType<typeof createHash>, pos: number } | null = null
  for (const u of unfinished) {
    if (!at || at.s !== u.s) at = { s: u.s, h: createHash('sha256'), pos: 0 }
    while (at.pos < u.bytes) {
      const k = Math.floor(at.pos / L)
      const piece = pieceBytes(f.seed, u.s + k, L)
      const take = Math.min(u.bytes, (k + 1) * L) - at.pos
      at.h.update(piece.subarray(at.pos - k * L, at.pos - k * L + take))
      at.pos += take
    }
    if (at.h.copy().digest('hex') === u.sha256) incomplete++; else corrupt++
  }
  return {
    viewers: viewers.length,
    pieces_aired: aired,
    source_upload_ratio: round(source.pieceUp / streamBytes, 3),
    source_wire_ratio: round(source.wireBytes / streamBytes, 3),
    lag_p50_ms: round(pct(lags, 50), 1),
    lag_p95_ms: round(pct(lags, 95), 1),
    lag_p99_ms: round(pct(lags, 99), 1),
    lag_missing: lags.filter((x) => x === Infinity).length,
    lag_samples: lags.length,
    continuity: round(due ? onTime / due : NaN, 4),
    startup_ms_p50: round(pct(startups, 50), 0),
    startup_ms_p95: round(pct(startups, 95), 0),
    duplicate_ratio: round(pieceDown - dup > 0 ? dup / (pieceDown - dup) : NaN, 4),
    control_overhead: round(pieceUp > 0 ? (wire - pieceUp) / pieceUp : NaN, 4),
    viewer_upload_ratio_p50: round(pct(upRatios, 50), 3),
    viewer_upload_ratio_max: round(pct(upRatios, 100), 3),
    all_identical: identical && viewers.length > 0,
    not_identical: incomplete + corrupt,
    incomplete,
    corrupt,
    left: viewers.filter((v) => v.leftAt).length,
    bans: viewers.reduce((a, v) => a + v.bans, 0),
    by_uplink: [...byClass.entries()].sort((a, b) => a[0] - b[0]).map(([m, c]) => ({
      uplink_x: round(m, 2), viewers: c.n, continuity: round(c.due ? c.onTime / c.due : NaN, 4), upload_ratio: round(c.down ? c.up / c.down : NaN, 3)
    }))
  }
}
