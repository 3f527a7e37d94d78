import assert from 'node:assert/strict'
import fc from 'fast-check'
import {
  CHAIN_BYTES, HEAD_BODY_BYTES, MAX_MESSAGE_BYTES, MAX_PAGE_HASHES, MAX_PIECES, MAX_TAIL_HASHES, MSG_HASHES,
  MSG_HASH_REJECT, MSG_HASH_REQUEST, MSG_HEAD, MSG_PUSH, MAX_PIECE_LENGTH, MAX_PUSH_MESSAGE_BYTES, PIECE_HASH_BYTES, PUSH_BLOCK_BYTES,
  PUSH_HEADER_BYTES, SIGNATURE_BYTES, decode, encode, view, writeU64,
  type Message, type SignedHead
} from '../../lib/protocol/index.js'

const HEAD_FIXED = 1 + HEAD_BODY_BYTES + SIGNATURE_BYTES + 2 // 144
const RANGE_BYTES = 11

const bytes = (n: number): fc.Arbitrary<Uint8Array> => fc.uint8Array({ minLength: n, maxLength: n })
const nonZero20 = bytes(20).filter((b) => b.some((x) => x !== 0))

const headArb: fc.Arbitrary<SignedHead> = fc.record({
  count: fc.integer({ min: 0, max: MAX_PIECES }),
  length: fc.maxSafeNat(),
  time: fc.maxSafeNat(),
  ended: fc.boolean(),
  commitment: bytes(CHAIN_BYTES),
  fin: nonZero20,
  signature: bytes(SIGNATURE_BYTES)
}).map(({ fin, ...h }) => ({ ...h, finalInfoHash: h.ended ? fin : null }))

const headMsgArb: fc.Arbitrary<Message> = headArb.chain((head) => {
  const maxN = Math.min(MAX_TAIL_HASHES, head.count)
  const tail = maxN === 0
    ? fc.constant(null)
    : fc.option(fc.integer({ min: 1, max: maxN }).chain((n) => fc.tuple(bytes(CHAIN_BYTES), bytes(n * PIECE_HASH_BYTES)).map(([anchor, hashes]) => ({ anchor, hashes }))), { nil: null })
  return tail.map((t): Message => ({ type: 'head', head, tail: t }))
})

const rangeArb = fc.integer({ min: 1, max: MAX_PAGE_HASHES }).chain((count) =>
  fc.integer({ min: 0, max: MAX_PIECES - count }).map((start) => ({ start, count })))

const requestArb: fc.Arbitrary<Message> = fc.tuple(rangeArb, fc.boolean()).map(([r, req]): Message =>
  ({ type: req ? 'hash-request' : 'hash-reject', start: r.start, count: r.count }))

const hashesArb: fc.Arbitrary<Message> = rangeArb.chain((r) =>
  fc.record({ anchor: bytes(CHAIN_BYTES), hashes: bytes(r.count * PIECE_HASH_BYTES) })
    .map((x): Message => ({ type: 'hashes', start: r.start, anchor: x.anchor, hashes: x.hashes })))

const messageArb = fc.oneof(headMsgArb, requestArb, hashesArb)

function sampleHead (count = 100, ended = false): SignedHead {
  return {
    count,
    length: count * 1024,
    time: 1_700_000_000_000,
    ended,
    commitment: new Uint8Array(CHAIN_BYTES).fill(7),
    finalInfoHash: ended ? new Uint8Array(20).fill(9) : null,
    signature: new Uint8Array(SIGNATURE_BYTES).fill(3)
  }
}

function tailOf (n: number): { anchor: Uint8Array, hashes: Uint8Array } {
  return { anchor: new Uint8Array(CHAIN_BYTES).fill(1), hashes: new Uint8Array(n * PIECE_HASH_BYTES).fill(2) }
}

function expectFail (b: Uint8Array, code?: string): void {
  const r = decode(b)
  assert.equal(r.ok, false, 'decode should have failed')
  if (!r.ok && code !== undefined) assert.equal(r.code, code, r.reason)
}

describe('protocol/messages', () => {
  describe('unit', () => {
    it('encodes HEAD without a tail to 144 bytes and decodes it', () => {
      const m: Message = { type: 'head', head: sampleHead(), tail: null }
      const b = encode(m)
      assert.equal(b.length, HEAD_FIXED)
      assert.equal(b[0], MSG_HEAD)
      const r = decode(b)
      assert.ok(r.ok)
      assert.deepEqual(r.value, m)
    })

    it('encodes HEAD with a full tail (64 hashes)', () => {
      const m: Message = { type: 'head', head: sampleHead(), tail: tailOf(MAX_TAIL_HASHES) }
      const b = encode(m)
      assert.equal(b.length, HEAD_FIXED + CHAIN_BYTES + MAX_TAIL_HASHES * PIECE_HASH_BYTES)
      const r = decode(b)
      assert.ok(r.ok)
      assert.deepEqual(r.value, m)
    })

    it('round-trips an ended HEAD (END announcement)', () => {
      const m: Message = { type: 'head', head: { ...sampleHead(10, true), length: 9 * 1024 + 1 }, tail: tailOf(10) }
      const r = decode(encode(m))
      assert.ok(r.ok)
      assert.deepEqual(r.value, m)
    })

    it('encodes range messages to 11 bytes and HASHES to 11 + 32 + 20n', () => {
      assert.equal(encode({ type: 'hash-request', start: 5, count: 512 }).length, RANGE_BYTES)
      assert.equal(encode({ type: 'hash-reject', start: 5, count: 1 })[0], MSG_HASH_REJECT)
      const h = encode({ type: 'hashes', start: 0, anchor: new Uint8Array(32), hashes: new Uint8Array(512 * 20) })
      assert.equal(h.length, RANGE_BYTES + CHAIN_BYTES + 512 * PIECE_HASH_BYTES)
      assert.ok(h.length <= MAX_MESSAGE_BYTES)
    })

    it('encode refuses invalid messages', () => {
      assert.throws(() => encode({ type: 'hash-request', start: 0, count: 0 }), RangeError)
      assert.throws(() => encode({ type: 'hash-request', start: 0, count: MAX_PAGE_HASHES + 1 }), RangeError)
      assert.throws(() => encode({ type: 'hash-reject', start: MAX_PIECES, count: 1 }), RangeError)
      assert.throws(() => encode({ type: 'hash-reject', start: -1, count: 1 }), RangeError)
      assert.throws(() => encode({ type: 'hashes', start: 0, anchor: new Uint8Array(31), hashes: new Uint8Array(20) }), RangeError)
      assert.throws(() => encode({ type: 'hashes', start: 0, anchor: new Uint8Array(32), hashes: new Uint8Array(0) }), RangeError)
      assert.throws(() => encode({ type: 'hashes', start: 0, anchor: new Uint8Array(32), hashes: new Uint8Array(513 * 20) }), RangeError)
      assert.throws(() => encode({ type: 'hashes', start: 0, anchor: new Uint8Array(32), hashes: new Uint8Array(21) }), RangeError)
      assert.throws(() => encode({ type: 'head', head: sampleHead(100), tail: tailOf(MAX_TAIL_HASHES + 1) }), RangeError)
      assert.throws(() => encode({ type: 'head', head: sampleHead(3), tail: tailOf(4) }), RangeError)
      assert.throws(() => encode({ type: 'head', head: { ...sampleHead(), signature: new Uint8Array(63) }, tail: null }), RangeError)
    })

    it('rejects empty input and non-Uint8Array input', () => {
      expectFail(new Uint8Array(0), 'BAD_LENGTH')
      expectFail('hello' as unknown as Uint8Array, 'BAD_LENGTH')
    })

    it('rejects unknown message types', () => {
      for (const t of [0x00, 0x06, 0x7f, 0xff]) expectFail(Uint8Array.of(t, ...new Uint8Array(10)), 'BAD_TYPE')
    })

    it('rejects trailing bytes on every type', () => {
      const msgs: Message[] = [
        { type: 'head', head: sampleHead(), tail: null },
        { type: 'head', head: sampleHead(), tail: tailOf(3) },
        { type: 'hash-request', start: 1, count: 2 },
        { type: 'hash-reject', start: 1, count: 2 },
        { type: 'hashes', start: 1, anchor: new Uint8Array(32), hashes: new Uint8Array(40) }
      ]
      for (const m of msgs) {
        const b = encode(m)
        const longer = new Uint8Array(b.length + 1); longer.set(b)
        expectFail(longer, 'TRAILING_BYTES')
      }
    })

    it('rejects every truncation of every type', () => {
      const msgs: Message[] = [
        { type: 'head', head: sampleHead(), tail: tailOf(5) },
        { type: 'hash-request', start: 1, count: 2 },
        { type: 'hash-reject', start: 1, count: 2 },
        { type: 'hashes', start: 1, anchor: new Uint8Array(32), hashes: new Uint8Array(100) }
      ]
      for (const m of msgs) {
        const b = encode(m)
        for (let n = 0; n < b.length; n++) expectFail(b.subarray(0, n))
        for (let n = 1; n < b.length; n++) expectFail(b.slice(0, n), 'BAD_LENGTH')
      }
    })

    it('rejects oversize messages (> 16384 bytes) with TOO_LARGE', () => {
      for (const t of [MSG_HEAD, MSG_HASHES, MSG_HASH_REQUEST, 0x09]) {
        const b = new Uint8Array(MAX_MESSAGE_BYTES + 1); b[0] = t
        expectFail(b, 'TOO_LARGE')
      }
      // Exactly 16384 bytes is not oversize: it is judged on its content.
      const exact = new Uint8Array(MAX_MESSAGE_BYTES); exact[0] = 0x09
      expectFail(exact, 'BAD_TYPE')
    })

    it('rejects page counts of 0 and above 512', () => {
      for (const t of [MSG_HASH_REQUEST, MSG_HASH_REJECT]) {
        for (const n of [0, MAX_PAGE_HASHES + 1, 0xffff]) {
          const b = new Uint8Array(RANGE_BYTES); b[0] = t; view(b).setUint16(9, n)
          expectFail(b, 'TOO_LARGE')
        }
      }
      // A HASHES page of 513 hashes would fit in 16 KiB; it must still be refused.
      const n = MAX_PAGE_HASHES + 1
      const b = new Uint8Array(RANGE_BYTES + CHAIN_BYTES + n * PIECE_HASH_BYTES); b[0] = MSG_HASHES; view(b).setUint16(9, n)
      expectFail(b, 'TOO_LARGE')
      const z = new Uint8Array(RANGE_BYTES + CHAIN_BYTES); z[0] = MSG_HASHES
      expectFail(z, 'TOO_LARGE')
    })

    it('rejects pages beyond the piece limit or with a start that is not a safe integer', () => {
      const b = encode({ type: 'hash-request', start: MAX_PIECES - 1, count: 1 })
      assert.ok(decode(b).ok)
      writeU64(view(b), 1, MAX_PIECES)
      expectFail(b, 'TOO_LARGE')
      b.fill(0xff, 1, 9)
      expectFail(b, 'TOO_LARGE')
    })

    it('rejects a tail above 64 hashes and a tail longer than the stream', () => {
      const over = MAX_TAIL_HASHES + 1
      const m = encode({ type: 'head', head: sampleHead(1000), tail: null })
      const b = new Uint8Array(HEAD_FIXED + CHAIN_BYTES + over * PIECE_HASH_BYTES); b.set(m); view(b).setUint16(HEAD_FIXED - 2, over)
      expectFail(b, 'TOO_LARGE')
      const small = encode({ type: 'head', head: sampleHead(2), tail: null })
      const c = new Uint8Array(HEAD_FIXED + CHAIN_BYTES + 3 * PIECE_HASH_BYTES); c.set(small); view(c).setUint16(HEAD_FIXED - 2, 3)
      expectFail(c, 'BAD_FIELD')
    })

    it('rejects unknown head flags and inconsistent final infohash', () => {
      const flagsAt = 1 + 24
      for (let bit = 1; bit < 8; bit++) {
        const b = encode({ type: 'head', head: sampleHead(), tail: null })
        b[flagsAt] = (b[flagsAt] as number) | (1 << bit)
        expectFail(b, 'BAD_FIELD')
      }
      const live = encode({ type: 'head', head: sampleHead(), tail: null })
      live[flagsAt] = 1 // ended but final infohash zero
      expectFail(live, 'BAD_FIELD')
      const ended = encode({ type: 'head', head: sampleHead(10, true), tail: null })
      ended[flagsAt] = 0 // not ended but final infohash set
      expectFail(ended, 'BAD_FIELD')
    })

    it('rejects head counts above MAX_PIECES and integers beyond 2^53', () => {
      const b = encode({ type: 'head', head: sampleHead(), tail: null })
      writeU64(view(b), 1, MAX_PIECES + 1)
      expectFail(b, 'TOO_LARGE')
      const c = encode({ type: 'head', head: sampleHead(), tail: null })
      c.fill(0xff, 9, 17) // length
      expectFail(c, 'TOO_LARGE')
      const d = encode({ type: 'head', head: sampleHead(), tail: null })
      d.fill(0xff, 17, 25) // time
      expectFail(d, 'BAD_FIELD')
    })

    it('decodes from a Buffer at a non-zero offset', () => {
      const m: Message = { type: 'hashes', start: 77, anchor: new Uint8Array(32).fill(5), hashes: new Uint8Array(60).fill(6) }
      const e = encode(m)
      const pool = Buffer.alloc(e.length + 13); pool.set(e, 13)
      const r = decode(pool.subarray(13))
      assert.ok(r.ok)
      assert.equal(r.value.type, 'hashes')
      if (r.value.type === 'hashes') {
        assert.equal(r.value.start, 77)
        assert.deepEqual(Array.from(r.value.hashes), Array.from(m.hashes))
      }
    })
  })

  describe('properties', () => {
    it('decode(encode(m)) deep-equals m for all message types', () => {
      fc.assert(fc.property(messageArb, (m) => {
        const b = encode(m)
        assert.ok(b.length <= MAX_MESSAGE_BYTES)
        const r = decode(b)
        assert.ok(r.ok, r.ok ? '' : r.reason)
        assert.deepStrictEqual(r.value, m)
      }), { numRuns: 300 })
    })

    it('HEAD with and without tail both round-trip', () => {
      fc.assert(fc.property(headMsgArb, fc.boolean(), (m, dropTail) => {
        const msg: Message = m.type === 'head' && dropTail ? { ...m, tail: null } : m
        const r = decode(encode(msg))
        assert.ok(r.ok)
        assert.deepStrictEqual(r.value, msg)
      }), { numRuns: 200 })
    })

    it('decode never throws on arbitrary bytes', () => {
      fc.assert(fc.property(fc.uint8Array({ maxLength: 20000 }), (b) => {
        const r = decode(b)
        assert.equal(typeof r.ok, 'boolean')
        if (!r.ok) assert.equal(typeof r.code, 'string')
      }), { numRuns: 300 })
    })

    it('decode never throws on arbitrary bytes with a valid type byte', () => {
      const arb = fc.tuple(fc.constantFrom(MSG_HEAD, MSG_HASH_REQUEST, MSG_HASHES, MSG_HASH_REJECT), fc.uint8Array({ maxLength: 11000 }))
      fc.assert(fc.property(arb, ([t, rest]) => {
        const b = new Uint8Array(rest.length + 1); b[0] = t; b.set(rest, 1)
        const r = decode(b)
        assert.equal(typeof r.ok, 'boolean')
        if (r.ok) assert.deepStrictEqual(encode(r.value), b) // anything accepted is canonical
      }), { numRuns: 300 })
    })

    it('any accepted bytes re-encode to themselves, any mutation of valid bytes does not throw', () => {
      fc.assert(fc.property(messageArb, fc.nat(), fc.integer({ min: 0, max: 255 }), (m, at, v) => {
        const b = encode(m)
        const i = at % b.length
        b[i] = v
        const r = decode(b)
        if (r.ok) assert.deepStrictEqual(encode(r.value), b)
      }), { numRuns: 300 })
    })

    it('trailing bytes are rejected with TRAILING_BYTES', () => {
      fc.assert(fc.property(messageArb, fc.uint8Array({ minLength: 1, maxLength: 40 }), (m, extra) => {
        const b = encode(m)
        const longer = new Uint8Array(b.length + extra.length); longer.set(b); longer.set(extra, b.length)
        expectFail(longer, 'TRAILING_BYTES')
      }), { numRuns: 200 })
    })

    it('truncation is rejected', () => {
      fc.assert(fc.property(messageArb, fc.nat(), (m, cut) => {
        const b = encode(m)
        expectFail(b.subarray(0, cut % b.length))
      }), { numRuns: 300 })
    })

    it('unknown types are rejected with BAD_TYPE', () => {
      const badType = fc.integer({ min: 0, max: 255 }).filter((t) => t < 1 || t > 5)
      fc.assert(fc.property(badType, fc.uint8Array({ maxLength: 2000 }), (t, rest) => {
        const b = new Uint8Array(rest.length + 1); b[0] = t; b.set(rest, 1)
        expectFail(b, 'BAD_TYPE')
      }), { numRuns: 200 })
    })

    it('oversize input is rejected with TOO_LARGE', () => {
      fc.assert(fc.property(fc.integer({ min: MAX_MESSAGE_BYTES + 1, max: 20000 }), fc.integer({ min: 0, max: 255 }), (n, t) => {
        const b = new Uint8Array(n); b[0] = t
        if (t === MSG_PUSH && n <= MAX_PUSH_MESSAGE_BYTES) return // a PUSH of a whole block: judged on its content
        expectFail(b, 'TOO_LARGE')
      }), { numRuns: 50 })
    })

    it('over-limit page and tail counts are rejected', () => {
      fc.assert(fc.property(fc.integer({ min: MAX_PAGE_HASHES + 1, max: 0xffff }), fc.nat({ max: 1000 }), (n, start) => {
        for (const t of [MSG_HASH_REQUEST, MSG_HASH_REJECT]) {
          const b = new Uint8Array(RANGE_BYTES); b[0] = t; writeU64(view(b), 1, start); view(b).setUint16(9, n)
          expectFail(b, 'TOO_LARGE')
        }
        const len = Math.min(RANGE_BYTES + CHAIN_BYTES + n * PIECE_HASH_BYTES, MAX_MESSAGE_BYTES)
        const h = new Uint8Array(len); h[0] = MSG_HASHES; writeU64(view(h), 1, start); view(h).setUint16(9, n)
        expectFail(h, 'TOO_LARGE')
      }), { numRuns: 100 })
      fc.assert(fc.property(fc.integer({ min: MAX_TAIL_HASHES + 1, max: 0xffff }), (n) => {
        const base = encode({ type: 'head', head: sampleHead(100000), tail: null })
        const len = Math.min(HEAD_FIXED + CHAIN_BYTES + n * PIECE_HASH_BYTES, MAX_MESSAGE_BYTES)
        const b = new Uint8Array(len); b.set(base); view(b).setUint16(HEAD_FIXED - 2, n)
        expectFail(b, 'TOO_LARGE')
      }), { numRuns: 100 })
    })

    it('unknown flags are rejected with BAD_FIELD', () => {
      fc.assert(fc.property(headMsgArb, fc.integer({ min: 2, max: 255 }), (m, flags) => {
        const b = encode(m)
        b[1 + 24] = flags
        expectFail(b, 'BAD_FIELD')
      }), { numRuns: 200 })
    })
  })

  describe('PUSH', () => {
    const block = (index: number, begin: number, data: Uint8Array): Uint8Array => encode({ type: 'push', index, begin, data })

    it('round-trips any block: index < 2^26, begin a multiple of 16 KiB, 1..16 KiB of data', () => {
      fc.assert(fc.property(fc.nat({ max: MAX_PIECES - 1 }), fc.nat({ max: MAX_PIECE_LENGTH / PUSH_BLOCK_BYTES - 1 }), fc.integer({ min: 1, max: PUSH_BLOCK_BYTES }), (index, k, n) => {
        const data = new Uint8Array(n).map((_, i) => (i * 7 + index) & 0xff)
        const b = block(index, k * PUSH_BLOCK_BYTES, data)
        assert.equal(b.length, PUSH_HEADER_BYTES + n)
        const r = decode(b)
        assert.ok(r.ok && r.value.type === 'push')
        assert.equal(r.value.index, index)
        assert.equal(r.value.begin, k * PUSH_BLOCK_BYTES)
        assert.deepEqual(r.value.data, data)
      }), { numRuns: 100 })
    })

    it('a whole 16 KiB block is the one message above MAX_MESSAGE_BYTES: 16 397 bytes', () => {
      const b = block(7, 0, new Uint8Array(PUSH_BLOCK_BYTES))
      assert.equal(b.length, MAX_PUSH_MESSAGE_BYTES)
      assert.equal(MAX_PUSH_MESSAGE_BYTES, 16397)
      assert.ok(decode(b).ok)
      expectFail(Uint8Array.of(...b, 0), 'TOO_LARGE')
    })

    it('rejects no data, a begin off the block grid, an index or block beyond the limits', () => {
      expectFail(block(1, 0, Uint8Array.of(1)).subarray(0, PUSH_HEADER_BYTES), 'BAD_LENGTH')
      for (let n = 1; n <= PUSH_HEADER_BYTES; n++) expectFail(block(1, 0, Uint8Array.of(1)).subarray(0, n), 'BAD_LENGTH')
      const b = block(1, 0, Uint8Array.of(1))
      view(b).setUint32(9, 1); expectFail(b, 'BAD_FIELD')
      view(b).setUint32(9, MAX_PIECE_LENGTH); expectFail(b, 'TOO_LARGE')
      const c = block(1, 0, Uint8Array.of(1))
      writeU64(view(c), 1, MAX_PIECES); expectFail(c, 'TOO_LARGE')
      c.fill(0xff, 1, 9); expectFail(c, 'TOO_LARGE')
      assert.throws(() => block(1, 1, Uint8Array.of(1)), RangeError)
      assert.throws(() => block(1, 0, new Uint8Array(0)), RangeError)
      assert.throws(() => block(1, 0, new Uint8Array(PUSH_BLOCK_BYTES + 1)), RangeError)
      assert.throws(() => block(MAX_PIECES, 0, Uint8Array.of(1)), RangeError)
    })
  })
})
