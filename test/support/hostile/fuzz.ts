/**
 * Fuzzing ut_live input with fast-check: hostile bytes built from genuine signed messages of a
 * stream (bit flips, byte changes, truncation, extension, splices, type changes), arbitrary bytes
 * and oversized messages. `fuzzDecoders` runs in process against decode + StreamState; the same
 * generator feeds the over-the-wire fuzz in cases.ts.
 *
 * A forgery is anything a peer accepts that the broadcaster did not say: a head that is not one
 * it signed, or a verified piece hash that differs from its own.
 */
import fc from 'fast-check'
import bencode from 'bencode'
import { ed25519, hashes } from '../../../lib/crypto/index.js'
import { equal } from '../../../lib/protocol/bytes.js'
import { MAX_MESSAGE_BYTES } from '../../../lib/protocol/constants.js'
import { sameState, type SignedHead } from '../../../lib/protocol/head.js'
import { createLiveInfo, encodeInfo, parseLiveInfo, type LiveInfo } from '../../../lib/protocol/info.js'
import { decode, encode } from '../../../lib/protocol/messages.js'
import { StreamState } from '../../../lib/state/stream-state.js'

/** Turns a genuine message into a hostile one. */
export function mutation (genuine: readonly Uint8Array[]): fc.Arbitrary<Uint8Array> {
  const base = fc.constantFrom(...genuine)
  const flip = fc.tuple(base, fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 7 })), { minLength: 1, maxLength: 4 }))
    .map(([b, fl]) => { const m = b.slice(); for (const [i, bit] of fl) m[i % m.length]! ^= 1 << bit; return m })
  const set = fc.tuple(base, fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })), { minLength: 1, maxLength: 8 }))
    .map(([b, s]) => { const m = b.slice(); for (const [i, v] of s) m[i % m.length] = v; return m })
  const truncate = fc.tuple(base, fc.nat()).map(([b, n]) => b.slice(0, n % b.length))
  const extend = fc.tuple(base, fc.uint8Array({ minLength: 1, maxLength: 64 })).map(([b, x]) => { const m = new Uint8Array(b.length + x.length); m.set(b); m.set(x, b.length); return m })
  const splice = fc.tuple(base, base, fc.nat(), fc.nat()).map(([a, b, i, j]) => { const p = i % (a.length + 1); const q = j % (b.length + 1); const m = new Uint8Array(p + b.length - q); m.set(a.subarray(0, p)); m.set(b.subarray(q), p); return m })
  const retype = fc.tuple(base, fc.integer({ min: 0, max: 255 })).map(([b, t]) => { const m = b.slice(); m[0] = t; return m })
  // Count / n fields rewritten (HEAD n at 142, range n at 9; counts at 1..8).
  const field = fc.tuple(base, fc.constantFrom(1, 5, 9, 142), fc.uint8Array({ minLength: 2, maxLength: 8 })).map(([b, off, x]) => { const m = b.slice(); if (off < m.length) m.set(x.subarray(0, Math.max(0, m.length - off)), off); return m })
  return fc.oneof(flip, set, truncate, extend, splice, retype, field)
}

/** Anything: arbitrary bytes, oversized, and arbitrary bytes behind a valid type byte. */
export const noise: fc.Arbitrary<Uint8Array> = fc.oneof(
  fc.uint8Array({ minLength: 0, maxLength: 300 }),
  fc.tuple(fc.integer({ min: 1, max: 4 }), fc.uint8Array({ minLength: 0, maxLength: 1600 })).map(([t, b]) => { const m = new Uint8Array(b.length + 1); m[0] = t; m.set(b, 1); return m }),
  fc.tuple(fc.integer({ min: MAX_MESSAGE_BYTES + 1, max: MAX_MESSAGE_BYTES + 4096 }), fc.integer({ min: 0, max: 255 })).map(([n, v]) => new Uint8Array(n).fill(v))
)

export function hostile (genuine: readonly Uint8Array[]): fc.Arbitrary<Uint8Array> {
  return fc.oneof({ arbitrary: mutation(genuine), weight: 4 }, { arbitrary: noise, weight: 1 })
}

export interface FuzzFigures { cases: number, decodedOk: number, accepted: number, forgeries: number, throws: number, failure?: string }

const PL = 16384

/** A broadcaster's state (its log is the truth) and the genuine messages of its stream. */
export async function corpus (): Promise<{ b: StreamState, infoHash: Uint8Array, info: LiveInfo, seed: Uint8Array, messages: Uint8Array[], base: SignedHead }> {
  const ed = await ed25519()
  const seed = new Uint8Array(32).map((_, i) => i * 7 + 1)
  const info = createLiveInfo({ name: 'fuzz.bin', pieceLength: PL, publicKey: await ed.publicKey(seed), nonce: new Uint8Array(16).fill(3) })
  const infoHash = hashes.sha1(encodeInfo(info))
  const parsed = parseLiveInfo(bencode.decode(encodeInfo(info)))
  if (!parsed.ok) throw new Error(parsed.reason)
  const b = new StreamState({ infoHash, info: parsed.value, hashes, ed25519: ed })
  const piece = (i: number): Uint8Array => hashes.sha1(new Uint8Array([i & 255, i >> 8, 1, 2, 3]))
  const add = (from: number, to: number): void => { const hs: Uint8Array[] = []; for (let i = from; i < to; i++) hs.push(piece(i)); b.appendHashes(hs) }
  add(0, 100)
  const base = await b.signHead(seed, { length: 100 * PL, time: 1000 })
  const messages: Uint8Array[] = [
    encode({ type: 'head', head: base, tail: b.tailFor(0, 64) }),
    encode({ type: 'head', head: base, tail: null }),
    encode({ type: 'hashes', start: 0, anchor: b.log.genesis, hashes: b.log.range(0, 36)! }),
    encode({ type: 'hash-request', start: 0, count: 36 }),
    encode({ type: 'hash-reject', start: 0, count: 36 })
  ]
  add(100, 120)
  const newer = await b.signHead(seed, { length: 120 * PL, time: 2000 })
  messages.push(encode({ type: 'head', head: newer, tail: b.tailFor(100, 64) }), encode({ type: 'head', head: newer, tail: b.tailFor(119, 64) }), encode({ type: 'head', head: newer, tail: null }))
  add(120, 121)
  const end = await b.signHead(seed, { length: 120 * PL + 999, time: 3000, ended: true, finalInfoHash: new Uint8Array(20).fill(9) })
  messages.push(encode({ type: 'head', head: end, tail: b.tailFor(120, 64) }))
  return { b, infoHash, info: parsed.value, seed, messages, base }
}

/** Every verified hash of `v` is the broadcaster's, and its head is one the broadcaster signed. */
export function faithful (v: StreamState, truth: StreamState, signed: readonly SignedHead[]): boolean {
  if (v.head && !signed.some((h) => sameState(h, v.head!))) return false
  for (const iv of v.log.intervals) {
    const cStart = truth.log.chainAt(iv.start); const cEnd = truth.log.chainAt(iv.end)
    if (!cStart || !cEnd || !equal(cStart, iv.cStart) || !equal(cEnd, iv.cEnd)) return false
    if (iv.end === iv.start) continue
    const ours = v.log.range(iv.start, iv.end)
    const theirs = truth.log.range(iv.start, iv.end)
    if (!ours || !theirs || !equal(ours, theirs)) return false
  }
  return true
}

/**
 * Decoder-level fuzz: `runs` hostile messages through decode and, when they decode, through
 * StreamState.acceptHead / acceptPage of a viewer that holds the stream's head at 100 pieces.
 */
export async function fuzzDecoders (runs: number, seed?: number): Promise<FuzzFigures> {
  const c = await corpus()
  const ed = await ed25519()
  const signed: SignedHead[] = []
  for (const m of c.messages) { const r = decode(m); if (r.ok && r.value.type === 'head') signed.push(r.value.head) }
  const fresh = async (): Promise<StreamState> => {
    const v = new StreamState({ infoHash: c.infoHash, info: c.info, hashes, ed25519: ed })
    const r = decode(c.messages[0]!)
    if (!r.ok || r.value.type !== 'head') throw new Error('corpus')
    await v.acceptHead(r.value.head, r.value.tail)
    return v
  }
  let v = await fresh()
  const f: FuzzFigures = { cases: 0, decodedOk: 0, accepted: 0, forgeries: 0, throws: 0 }
  const property = fc.asyncProperty(hostile(c.messages), async (bytes) => {
    f.cases++
    let r
    try { r = decode(bytes) } catch (err) { f.throws++; f.failure = `decode threw ${String(err)}`; return false }
    if (!r.ok) return true
    f.decodedOk++
    const m = r.value
    if (!equal(encode(m), bytes)) { f.forgeries++; f.failure = `${m.type} decoded from non-canonical bytes`; return false }
    let accepted = false
    try {
      if (m.type === 'head') { const vd = await v.acceptHead(m.head, m.tail); accepted = vd.ok && vd.status === 'accepted' } else if (m.type === 'hashes') accepted = v.acceptPage(m.start, m.anchor, m.hashes).ok
      else return true
    } catch (err) { f.throws++; f.failure = `${m.type} threw ${String(err)}`; return false }
    if (accepted) f.accepted++
    if (!faithful(v, c.b, signed)) {
      f.forgeries++
      f.failure = `${m.type} ${m.type === 'head' ? `count ${m.head.count} tail ${m.tail ? m.tail.hashes.length / 20 : 0}` : m.type === 'hashes' ? `start ${m.start} n ${m.hashes.length / 20}` : ''} → ${v.log.intervals.map((iv) => `[${iv.start},${iv.end})`).join(' ')}`
      return false
    }
    if (accepted) v = await fresh()
    return true
  })
  const out = await fc.check(property, { numRuns: runs, endOnFailure: true, ...(seed !== undefined ? { seed } : {}) })
  if (out.failed) throw new Error(`${f.failure ?? 'property failed'} (fast-check seed ${out.seed}, path ${out.counterexamplePath ?? ''})`)
  return f
}
