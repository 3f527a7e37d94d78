import assert from 'node:assert/strict'
import { createHash } from 'node:crypto'
import fc from 'fast-check'
import { nativeEd25519, nativeHashes } from '../../lib/crypto/native-node.js'
import type { Ed25519 } from '../../lib/crypto/types.js'
import {
  MAX_PAGE_HASHES, MAX_TAIL_HASHES, PIECE_HASH_BYTES, concat, createLiveInfo, decode, encode, encodeInfo, equal, infoHashOf,
  parseLiveInfo, runChain, type LiveInfo, type SignedHead, type Tail
} from '../../lib/protocol/index.js'
import { HashLog } from '../../lib/state/hash-log.js'
import { StreamState } from '../../lib/state/stream-state.js'

const ed: Ed25519 = nativeEd25519!
const PL = 16384
const SEED = new Uint8Array(32).map((_, i) => i + 1)
const OTHER_SEED = new Uint8Array(32).map((_, i) => 200 - i)

interface Setup { infoHash: Uint8Array, info: LiveInfo }
let setup: Setup

function pieceHash (tag: string, i: number): Uint8Array {
  return new Uint8Array(createHash('sha1').update(`${tag}:${i}`).digest())
}
function pieceHashes (tag: string, from: number, to: number): Uint8Array[] {
  const out: Uint8Array[] = []
  for (let i = from; i < to; i++) out.push(pieceHash(tag, i))
  return out
}

function newState (): StreamState {
  return new StreamState({ infoHash: setup.infoHash, info: setup.info, hashes: nativeHashes, ed25519: ed })
}

/** A broadcaster that has appended `n` pieces (tagged) and signed a live head over them. */
async function broadcaster (n: number, tag = 'p'): Promise<{ b: StreamState, head: SignedHead }> {
  const b = newState()
  b.appendHashes(pieceHashes(tag, 0, n))
  const head = await b.signHead(SEED, { length: n * PL, time: 1000 + n })
  return { b, head }
}

function page (b: StreamState, start: number, end: number): { start: number, anchor: Uint8Array, hashes: Uint8Array } {
  const hashes = b.log.range(start, end)
  const anchor = b.log.chainAt(start)
  assert.ok(hashes && anchor)
  return { start, anchor, hashes }
}

function flip (b: Uint8Array, index: number, bit: number): Uint8Array {
  const c = b.slice()
  c[index] = (c[index] as number) ^ (1 << bit)
  return c
}

/** Encodes and decodes a HEAD as it would travel on the wire. */
function wireHead (head: SignedHead, tail: Tail | null): { head: SignedHead, tail: Tail | null } {
  const r = decode(encode({ type: 'head', head, tail }))
  assert.ok(r.ok && r.value.type === 'head')
  return { head: r.value.head, tail: r.value.tail }
}

describe('state/stream-state', function () {
  this.timeout(60000)

  before(async () => {
    const publicKey = await ed.publicKey(SEED)
    const infoBytes = encodeInfo(createLiveInfo({ name: 'test', pieceLength: PL, publicKey, nonce: new Uint8Array(16).fill(1) }))
    const parsed = parseLiveInfo((await import('bencode')).default.decode(infoBytes))
    assert.ok(parsed.ok)
    setup = { infoHash: infoHashOf(nativeHashes, infoBytes), info: parsed.value }
  })

  it('a viewer accepts successive heads with tails and holds the same hashes', async () => {
    const b = newState()
    const v = newState()
    let total = 0
    for (const step of [1, 10, 64, 100, 3]) {
      b.appendHashes(pieceHashes('p', total, total + step))
      total += step
      const head = await b.signHead(SEED, { length: total * PL, time: total })
      const tail = b.tailFor(v.count, MAX_TAIL_HASHES)
      const w = wireHead(head, tail)
      const verdict = await v.acceptHead(w.head, w.tail)
      assert.deepEqual(verdict, { ok: true, status: 'accepted' })
      assert.equal(v.count, total)
      assert.ok(equal(v.head!.commitment, head.commitment))
    }
    assert.equal(v.signatureChecks, 5)
    // The 100-piece step left a gap: its tail (capped at 64) covered [111, 175), so [75, 111) is missing.
    const gaps = v.log.gaps(v.count)
    assert.deepEqual(gaps, [[75, 111]])
    const p = page(b, 75, 111)
    assert.deepEqual(v.acceptPage(p.start, p.anchor, p.hashes), { ok: true, status: 'accepted' })
    assert.deepEqual(v.log.gaps(v.count), [])
    assert.ok(equal(v.log.range(0, total)!, b.log.range(0, total)!))
  })

  it('a viewer joining after 10 000 pieces verifies one signature and pages back to all hashes', async () => {
    const N = 10000
    const { b, head } = await broadcaster(N)
    const v = newState()
    const w = wireHead(head, b.tailFor(0, MAX_TAIL_HASHES))
    assert.equal(w.tail!.hashes.length, MAX_TAIL_HASHES * PIECE_HASH_BYTES)
    assert.deepEqual(await v.acceptHead(w.head, w.tail), { ok: true, status: 'accepted' })
    assert.equal(v.signatureChecks, 1)
    assert.equal(v.count, N)
    assert.equal(v.log.get(N - MAX_TAIL_HASHES - 1), null)

    let end = N - MAX_TAIL_HASHES
    let pages = 0
    while (end > 0) {
      const start = Math.max(0, end - MAX_PAGE_HASHES)
      const p = page(b, start, end)
      const r = decode(encode({ type: 'hashes', ...p }))
      assert.ok(r.ok && r.value.type === 'hashes')
      assert.deepEqual(v.acceptPage(r.value.start, r.value.anchor, r.value.hashes), { ok: true, status: 'accepted' })
      end = start
      pages++
    }
    assert.equal(pages, 20)
    assert.equal(v.signatureChecks, 1)
    assert.equal(v.log.intervals.length, 1)
    for (let i = 0; i < N; i++) {
      const h = v.log.get(i)
      assert.ok(h !== null, `hash ${i} missing`)
      assert.ok(equal(h, pieceHash('p', i)), `hash ${i} differs`)
    }
    assert.ok(equal(v.log.range(0, N)!, b.log.range(0, N)!))
    assert.deepEqual(v.log.gaps(N), [])
  })

  describe('single bit flips are rejected', () => {
    const N = 300
    let b: StreamState
    let head: SignedHead
    let encodedHead: Uint8Array

    before(async () => {
      ({ b, head } = await broadcaster(N))
      encodedHead = encode({ type: 'head', head, tail: b.tailFor(0, MAX_TAIL_HASHES) })
      // sanity: the unflipped message is accepted by a fresh viewer
      const r = decode(encodedHead)
      assert.ok(r.ok && r.value.type === 'head')
      assert.equal((await newState().acceptHead(r.value.head, r.value.tail)).ok, true)
    })

    it('in an encoded HEAD message (with tail)', async () => {
      const ph = fc.asyncProperty(fc.nat({ max: encodedHead.length - 1 }), fc.nat({ max: 7 }), async (i, bit) => {
        const r = decode(flip(encodedHead, i, bit))
        if (!r.ok) return // rejected by decode
        if (r.value.type !== 'head') return // no longer a HEAD
        const v = newState()
        const verdict = await v.acceptHead(r.value.head, r.value.tail)
        assert.equal(verdict.ok, false, `flip at byte ${i} bit ${bit} accepted`)
        assert.equal(v.head, null)
      })
      await fc.assert(ph, { numRuns: 400 })
    })

    it('every bit of a HEAD without tail', async () => {
      const bare = encode({ type: 'head', head, tail: null })
      for (let i = 0; i < bare.length; i++) {
        for (let bit = 0; bit < 8; bit++) {
          const r = decode(flip(bare, i, bit))
          if (!r.ok || r.value.type !== 'head') continue
          const verdict = await newState().acceptHead(r.value.head, r.value.tail)
          assert.equal(verdict.ok, false, `flip at byte ${i} bit ${bit} accepted`)
        }
      }
    })

    it('in the signature', async () => {
      const ph = fc.asyncProperty(fc.nat({ max: 63 }), fc.nat({ max: 7 }), async (i, bit) => {
        const v = newState()
        const verdict = await v.acceptHead({ ...head, signature: flip(head.signature, i, bit) }, null)
        assert.equal(verdict.ok, false)
        if (!verdict.ok) assert.equal(verdict.code, 'BAD_SIGNATURE')
        assert.equal(v.signatureChecks, 1)
      })
      await fc.assert(ph, { numRuns: 200 })
    })

    it('in a HASHES page, and the viewer state is unchanged', async () => {
      const v = newState()
      assert.equal((await v.acceptHead(head, b.tailFor(0, MAX_TAIL_HASHES))).ok, true)
      const tailStart = N - MAX_TAIL_HASHES
      const p = page(b, tailStart - 200, tailStart)
      const encoded = encode({ type: 'hashes', ...p })
      const ph = fc.asyncProperty(fc.nat({ max: encoded.length - 1 }), fc.nat({ max: 7 }), async (i, bit) => {
        const r = decode(flip(encoded, i, bit))
        if (!r.ok || r.value.type !== 'hashes') return
        const verdict = v.acceptPage(r.value.start, r.value.anchor, r.value.hashes)
        assert.equal(verdict.ok, false, `flip at byte ${i} bit ${bit} accepted`)
        assert.equal(v.log.intervals.length, 1)
        assert.equal(v.log.intervals[0]!.start, tailStart)
      })
      await fc.assert(ph, { numRuns: 400 })
      // the genuine page is still accepted afterwards
      assert.deepEqual(v.acceptPage(p.start, p.anchor, p.hashes), { ok: true, status: 'accepted' })
      assert.equal(v.log.intervals[0]!.start, tailStart - 200)
    })
  })

  it('a head signed by another key is BAD_SIGNATURE', async () => {
    const b = newState()
    b.appendHashes(pieceHashes('p', 0, 5))
    const forged = await b.signHead(OTHER_SEED, { length: 5 * PL, time: 1 })
    const v = newState()
    const verdict = await v.acceptHead(forged, b.tailFor(0, MAX_TAIL_HASHES))
    assert.equal(verdict.ok, false)
    if (!verdict.ok) assert.equal(verdict.code, 'BAD_SIGNATURE')
    assert.equal(v.head, null)
    assert.equal(v.log.intervals.length, 0)
  })

  it('a tail that does not lead to the commitment is BAD_CHAIN', async () => {
    const { b, head } = await broadcaster(20)
    const tail = b.tailFor(0, MAX_TAIL_HASHES)!
    const bad = { anchor: tail.anchor, hashes: flip(tail.hashes, 7, 0) }
    const v = newState()
    const verdict = await v.acceptHead(head, bad)
    assert.equal(verdict.ok, false)
    if (!verdict.ok) assert.equal(verdict.code, 'BAD_CHAIN')
    assert.equal(v.head, null)
  })

  it('a replayed older head is stale, without a new signature check', async () => {
    const b = newState()
    const v = newState()
    b.appendHashes(pieceHashes('p', 0, 10))
    const h1 = await b.signHead(SEED, { length: 10 * PL, time: 1 })
    const t1 = b.tailFor(0, MAX_TAIL_HASHES)
    assert.equal((await v.acceptHead(h1, t1)).ok, true)
    b.appendHashes(pieceHashes('p', 10, 20))
    const h2 = await b.signHead(SEED, { length: 20 * PL, time: 2 })
    assert.equal((await v.acceptHead(h2, b.tailFor(v.count, MAX_TAIL_HASHES))).ok, true)
    assert.equal(v.signatureChecks, 2)
    assert.deepEqual(await v.acceptHead(h1, t1), { ok: true, status: 'stale' })
    assert.deepEqual(await v.acceptHead(h1, null), { ok: true, status: 'stale' })
    assert.equal(v.signatureChecks, 2)
    assert.equal(v.head, h2)
    // A fresh viewer that never saw h1 also treats it as stale after h2.
    const w = newState()
    assert.equal((await w.acceptHead(h2, null)).ok, true)
    assert.deepEqual(await w.acceptHead(h1, t1), { ok: true, status: 'stale' })
    assert.equal(w.signatureChecks, 1)
  })

  it('the same head twice is a duplicate; signatureChecks unchanged', async () => {
    const { b, head } = await broadcaster(30)
    const v = newState()
    const tail = b.tailFor(0, MAX_TAIL_HASHES)
    assert.deepEqual(await v.acceptHead(head, tail), { ok: true, status: 'accepted' })
    assert.equal(v.signatureChecks, 1)
    assert.deepEqual(await v.acceptHead(head, tail), { ok: true, status: 'duplicate' })
    const again = wireHead(head, null) // a distinct object with equal bytes
    assert.deepEqual(await v.acceptHead(again.head, again.tail), { ok: true, status: 'duplicate' })
    assert.equal(v.signatureChecks, 1)
  })

  it('equivocation: two signed heads at the same count with different pieces', async () => {
    const a = await broadcaster(10, 'p')
    const bHashes = pieceHashes('p', 0, 10)
    bHashes[4] = pieceHash('evil', 4)
    const bb = newState()
    bb.appendHashes(bHashes)
    const headB = await bb.signHead(SEED, { length: 10 * PL, time: 2000 })
    assert.ok(!equal(a.head.commitment, headB.commitment))

    const v = newState()
    assert.equal((await v.acceptHead(a.head, a.b.tailFor(0, MAX_TAIL_HASHES))).ok, true)
    const verdict = await v.acceptHead(headB, bb.tailFor(0, MAX_TAIL_HASHES))
    assert.equal(verdict.ok, false)
    if (verdict.ok) return
    assert.equal(verdict.code, 'EQUIVOCATION')
    assert.ok(verdict.evidence)
    const heads = verdict.evidence.heads
    assert.ok(heads.some((h) => equal(h.signature, a.head.signature)))
    assert.ok(heads.some((h) => equal(h.signature, headB.signature)))
    assert.equal(v.evidence.length, 1)
    assert.equal(v.evidence[0], verdict.evidence)
    assert.equal(v.head, a.head)
    assert.ok(equal(v.log.get(4)!, pieceHash('p', 4)))
    // both heads in the evidence really verify under the stream key
    for (const h of heads) assert.ok(await newState().verifySignature(h))
  })

  it('equivocation: a longer signed head whose chain contradicts verified hashes', async () => {
    const a = await broadcaster(10, 'p')
    const bHashes = pieceHashes('p', 0, 20)
    bHashes[8] = pieceHash('evil', 8)
    const bb = newState()
    bb.appendHashes(bHashes)
    const headB = await bb.signHead(SEED, { length: 20 * PL, time: 2000 })
    const v = newState()
    assert.equal((await v.acceptHead(a.head, a.b.tailFor(0, MAX_TAIL_HASHES))).ok, true)
    const verdict = await v.acceptHead(headB, bb.tailFor(0, MAX_TAIL_HASHES))
    assert.equal(verdict.ok, false)
    if (verdict.ok) return
    assert.equal(verdict.code, 'EQUIVOCATION')
    assert.ok(verdict.evidence)
    assert.equal(v.evidence.length, 1)
    assert.equal(v.head, a.head)
  })

  it('after an ended head, a head with more pieces is EQUIVOCATION and not accepted', async () => {
    const b = newState()
    b.appendHashes(pieceHashes('p', 0, 10))
    const end = await b.signHead(SEED, { length: 9 * PL + 100, time: 1, ended: true, finalInfoHash: new Uint8Array(20).fill(0xee) })
    const v = newState()
    assert.deepEqual(await v.acceptHead(end, b.tailFor(0, MAX_TAIL_HASHES)), { ok: true, status: 'accepted' })
    assert.equal(v.ended, true)
    b.appendHashes(pieceHashes('p', 10, 15))
    const more = await b.signHead(SEED, { length: 15 * PL, time: 2 })
    const verdict = await v.acceptHead(more, b.tailFor(10, MAX_TAIL_HASHES))
    assert.equal(verdict.ok, false)
    if (verdict.ok) return
    assert.equal(verdict.code, 'EQUIVOCATION')
    assert.ok(verdict.evidence)
    assert.equal(v.evidence.length, 1)
    assert.equal(v.head, end)
    assert.equal(v.count, 10)
    assert.equal(v.ended, true)
  })

  it('a page not ending at a verified position is NOT_LINKED', async () => {
    const { b, head } = await broadcaster(2000)
    const v = newState()
    assert.equal((await v.acceptHead(head, b.tailFor(0, MAX_TAIL_HASHES))).ok, true)
    const tailStart = 2000 - MAX_TAIL_HASHES
    for (const [s, e] of [[0, 512], [tailStart - 513, tailStart - 1], [tailStart - 511, tailStart + 1]] as const) {
      const p = page(b, s, e)
      const verdict = v.acceptPage(p.start, p.anchor, p.hashes)
      assert.equal(verdict.ok, false)
      if (!verdict.ok) assert.equal(verdict.code, 'NOT_LINKED', `[${s}, ${e})`)
    }
    // beyond the head: nothing is verified there
    const extra = newState(); extra.appendHashes(pieceHashes('p', 0, 2100))
    const p = page(extra, 2000, 2100)
    const beyond = v.acceptPage(p.start, p.anchor, p.hashes)
    assert.ok(!beyond.ok && beyond.code === 'NOT_LINKED')
    // and a viewer with no head at all
    const fresh = newState()
    const q = page(b, 0, 10)
    const none = fresh.acceptPage(q.start, q.anchor, q.hashes)
    assert.ok(!none.ok && none.code === 'NOT_LINKED')
  })

  it('a page starting at 0 must be anchored at the genesis value', async () => {
    const { b, head } = await broadcaster(100)
    const v = newState()
    assert.equal((await v.acceptHead(head, b.tailFor(0, MAX_TAIL_HASHES))).ok, true)
    const p = page(b, 0, 36)
    const bad = v.acceptPage(0, flip(p.anchor, 0, 0), p.hashes)
    assert.ok(!bad.ok && bad.code === 'BAD_CHAIN')
    assert.deepEqual(v.acceptPage(p.start, p.anchor, p.hashes), { ok: true, status: 'accepted' })
    assert.deepEqual(v.log.gaps(100), [])
  })

  it('equivocation: pages of a longer forked head contradict a verified run of an earlier head', async () => {
    const a = await broadcaster(10, 'p')
    const bHashes = pieceHashes('p', 0, 200)
    bHashes[5] = pieceHash('evil', 5)
    const bb = newState()
    bb.appendHashes(bHashes)
    const headB = await bb.signHead(SEED, { length: 200 * PL, time: 3000 })
    const v = newState()
    assert.equal((await v.acceptHead(a.head, a.b.tailFor(0, MAX_TAIL_HASHES))).ok, true)
    // B's tail [136, 200) does not touch A's run [0, 10): accepted, the fork is not visible yet.
    assert.deepEqual(await v.acceptHead(headB, bb.tailFor(0, MAX_TAIL_HASHES)), { ok: true, status: 'accepted' })
    const p = page(bb, 10, 136)
    const verdict = v.acceptPage(p.start, p.anchor, p.hashes)
    assert.equal(verdict.ok, false)
    if (verdict.ok) return
    assert.equal(verdict.code, 'EQUIVOCATION')
    assert.ok(verdict.evidence)
    assert.equal(verdict.evidence.position, 10)
    assert.ok(equal(verdict.evidence.heads[0].signature, a.head.signature))
    assert.ok(equal(verdict.evidence.heads[1].signature, headB.signature))
    assert.equal(v.log.intervals.length, 2)
    assert.ok(equal(v.log.get(5)!, pieceHash('p', 5)))
  })

  describe('HashLog.insert', () => {
    function fullLog (n: number): HashLog {
      const log = new HashLog(nativeHashes, new Uint8Array(32).fill(0x42))
      for (let i = 0; i < n; i++) log.append(pieceHash('p', i))
      return log
    }

    it('reports a conflict for a run that starts on the chain but diverges inside a verified run', () => {
      const log = fullLog(100)
      const anchor = log.chainAt(10)!
      const fake = concat(pieceHashes('evil', 10, 50))
      const cEnd = runChain(nativeHashes, anchor, fake)
      const conflict = log.insert(10, anchor, fake, cEnd, new Map(), null)
      assert.ok(conflict, 'a contradicting run was inserted')
      assert.equal(conflict.position, 50)
      assert.ok(equal(log.get(10)!, pieceHash('p', 10)))
      assert.ok(equal(log.chainAt(100)!, runChain(nativeHashes, log.genesis, log.range(0, 100)!)))
    })

    it('property: a sub-run of a verified run is accepted iff its hashes are the same', () => {
      fc.assert(fc.property(fc.nat({ max: 199 }), fc.integer({ min: 1, max: 100 }), fc.option(fc.nat({ max: 99 }), { nil: null }), (start, len, bad) => {
        const log = fullLog(200)
        const end = Math.min(200, start + len)
        const hashes = pieceHashes('p', start, end)
        const changed = bad !== null && bad < end - start
        if (changed) hashes[bad] = pieceHash('evil', bad)
        const flat = concat(hashes)
        const anchor = log.chainAt(start)!
        const conflict = log.insert(start, anchor, flat, runChain(nativeHashes, anchor, flat), new Map(), null)
        assert.equal(conflict !== null, changed)
        assert.equal(log.intervals.length, 1)
        for (let i = 0; i < 200; i++) assert.ok(equal(log.get(i)!, pieceHash('p', i)))
      }), { numRuns: 100 })
    })
  })
})
