import assert from 'node:assert/strict'
import bencode from 'bencode'
import fc from 'fast-check'
import {
  CHAIN_BYTES, MAX_PIECES, MAX_PIECE_LENGTH, MIN_PIECE_LENGTH, NONCE_BYTES, PROTOCOL_VERSION, SIGNABLE_BYTES,
  checkHeadShape, createLiveInfo, decodeHeadBody, encodeHeadBody, encodeInfo, equal, infoHashOf, isSafeName, isValidPieceLength,
  parseLiveInfo, pureHashes, rank, sameState, signable, toHex, type Head
} from '../../lib/protocol/index.js'

const pk = new Uint8Array(32).fill(0xab)
const nonce = new Uint8Array(NONCE_BYTES).fill(0x11)

function baseInfo (over: Partial<{ name: string, pieceLength: number, publicKey: Uint8Array, nonce: Uint8Array, window: number }> = {}): Record<string, unknown> {
  return createLiveInfo({ name: 'stream.ts', pieceLength: 16384, publicKey: pk, nonce, ...over })
}

/** encode → decode: what a peer receiving the info dict over ut_metadata sees. */
function roundTrip (info: Record<string, unknown>): Record<string, unknown> {
  return bencode.decode(encodeInfo(info)) as Record<string, unknown>
}

function parseCode (d: unknown): string | null {
  const r = parseLiveInfo(d)
  return r.ok ? null : r.code
}

const pieceLengthArb = fc.integer({ min: 10, max: 24 }).map((e) => 2 ** e)
const nameArb = fc.string({ minLength: 1, maxLength: 40 }).filter((s) => {
  const n = new TextEncoder().encode(s).length
  return n >= 1 && n <= 255 && isSafeName(s) &&
    s === new TextDecoder().decode(new TextEncoder().encode(s)) // no lone surrogates
})
const liveArb = fc.record({
  name: nameArb,
  pieceLength: pieceLengthArb,
  publicKey: fc.uint8Array({ minLength: 32, maxLength: 32 }),
  nonce: fc.uint8Array({ minLength: NONCE_BYTES, maxLength: NONCE_BYTES })
})

describe('protocol/info', () => {
  it('createLiveInfo → encodeInfo → bencode.decode → parseLiveInfo round trip', () => {
    const r = parseLiveInfo(roundTrip(baseInfo()))
    assert.ok(r.ok, r.ok ? '' : r.reason)
    assert.equal(r.value.name, 'stream.ts')
    assert.equal(r.value.pieceLength, 16384)
    assert.deepEqual(Array.from(r.value.publicKey), Array.from(pk))
    assert.deepEqual(Array.from(r.value.nonce), Array.from(nonce))
    assert.equal(r.value.version, PROTOCOL_VERSION)
  })

  it('round trip holds for arbitrary valid parameters (property)', () => {
    fc.assert(fc.property(liveArb, (li) => {
      const r = parseLiveInfo(roundTrip(createLiveInfo(li)))
      assert.ok(r.ok, r.ok ? '' : r.reason)
      assert.equal(r.value.name, li.name)
      assert.equal(r.value.pieceLength, li.pieceLength)
      assert.ok(equal(r.value.publicKey, li.publicKey))
      assert.ok(equal(r.value.nonce, li.nonce))
    }), { numRuns: 200 })
  })

  it('the encoding is canonical: re-encoding the decoded dict gives the same bytes', () => {
    fc.assert(fc.property(liveArb, (li) => {
      const bytes = encodeInfo(createLiveInfo(li))
      const again = bencode.encode(bencode.decode(bytes))
      assert.ok(equal(new Uint8Array(again), bytes))
    }), { numRuns: 200 })
  })

  it('has the documented layout (keys sorted, length 0, empty pieces)', () => {
    const s = Buffer.from(encodeInfo(baseInfo())).toString('latin1')
    assert.ok(s.startsWith('d6:lengthi0e4:lived5:nonce16:'), s)
    assert.ok(s.includes('3:sig7:ed255191:vi1ee4:name9:stream.ts12:piece lengthi16384e6:pieces0:e'), s)
  })

  it('two nonces give two infohashes', () => {
    const a = infoHashOf(pureHashes, encodeInfo(baseInfo()))
    const b = infoHashOf(pureHashes, encodeInfo(baseInfo({ nonce: new Uint8Array(NONCE_BYTES).fill(0x12) })))
    assert.equal(a.length, 20)
    assert.notEqual(toHex(a), toHex(b))
    fc.assert(fc.property(fc.uint8Array({ minLength: 16, maxLength: 16 }), fc.uint8Array({ minLength: 16, maxLength: 16 }), (n1, n2) => {
      fc.pre(!equal(n1, n2))
      const h1 = infoHashOf(pureHashes, encodeInfo(baseInfo({ nonce: n1 })))
      const h2 = infoHashOf(pureHashes, encodeInfo(baseInfo({ nonce: n2 })))
      assert.ok(!equal(h1, h2))
    }), { numRuns: 50 })
  })

  it('createLiveInfo throws on bad options', () => {
    assert.throws(() => baseInfo({ name: '' }), RangeError)
    assert.throws(() => baseInfo({ name: 'a/b' }), RangeError)
    assert.throws(() => baseInfo({ name: '..' }), RangeError)
    assert.throws(() => baseInfo({ name: 'x'.repeat(256) }), RangeError)
    for (const name of ['C:x', 'CON', 'con.ts', 'x.', 'x ', 'a\nb', 'x:y', 'x?y']) assert.throws(() => baseInfo({ name }), RangeError, name)
    assert.throws(() => baseInfo({ pieceLength: 1000 }), RangeError)
    assert.throws(() => baseInfo({ pieceLength: 512 }), RangeError)
    assert.throws(() => baseInfo({ pieceLength: MAX_PIECE_LENGTH * 2 }), RangeError)
    assert.throws(() => baseInfo({ publicKey: new Uint8Array(31) }), RangeError)
    assert.throws(() => baseInfo({ nonce: new Uint8Array(15) }), RangeError)
    for (const window of [0, -1, 1.5, 2 ** 26 + 1, NaN]) assert.throws(() => baseInfo({ window }), RangeError, String(window))
  })

  it('live.window: parses and round-trips; absent leaves the dict (and infohash) as before; out of range is BAD_INFO', () => {
    for (const window of [1, 32, 2 ** 26]) {
      const r = parseLiveInfo(roundTrip(baseInfo({ window })))
      assert.ok(r.ok, r.ok ? '' : r.reason)
      assert.equal(r.value.window, window)
    }
    assert.ok(!('window' in (baseInfo().live as object)))
    const none = parseLiveInfo(roundTrip(baseInfo()))
    assert.ok(none.ok && none.value.window === undefined)
    const withWindow = (w: unknown): Record<string, unknown> => {
      const d = roundTrip(baseInfo()); (d.live as Record<string, unknown>).window = w; return d
    }
    for (const w of [0, -5, 2 ** 26 + 1, 1.5, new Uint8Array([0x33]), null]) assert.equal(parseCode(withWindow(w)), 'BAD_INFO', String(w))
  })

  it('isValidPieceLength accepts powers of two in range only', () => {
    assert.ok(isValidPieceLength(MIN_PIECE_LENGTH))
    assert.ok(isValidPieceLength(MAX_PIECE_LENGTH))
    for (const n of [0, -1024, 1023, 1536, 3000, MIN_PIECE_LENGTH / 2, MAX_PIECE_LENGTH * 2, 16384.5, NaN]) assert.ok(!isValidPieceLength(n), String(n))
  })

  describe('parseLiveInfo rejects', () => {
    function mutated (f: (d: Record<string, unknown>, live: Record<string, unknown>) => void): Record<string, unknown> {
      const d = roundTrip(baseInfo())
      f(d, d.live as Record<string, unknown>)
      return d
    }

    it('non-dicts and a missing live dict', () => {
      assert.equal(parseCode(null), 'BAD_INFO')
      assert.equal(parseCode(7), 'BAD_INFO')
      assert.equal(parseCode(mutated((d) => { delete d.live })), 'BAD_INFO')
      assert.equal(parseCode(mutated((d) => { d.live = new Uint8Array(3) })), 'BAD_INFO')
    })

    it('a wrong version', () => {
      assert.equal(parseCode(mutated((_, l) => { l.v = 2 })), 'UNKNOWN_VERSION')
      assert.equal(parseCode(mutated((_, l) => { l.v = 0 })), 'UNKNOWN_VERSION')
      assert.equal(parseCode(mutated((_, l) => { delete l.v })), 'UNKNOWN_VERSION')
      // and through the bytes, as a peer would send it
      const bytes = bencode.encode({ ...baseInfo(), live: { ...(baseInfo().live as object), v: 2 } })
      assert.equal(parseCode(bencode.decode(bytes)), 'UNKNOWN_VERSION')
    })

    it('an unknown signature method', () => {
      assert.equal(parseCode(mutated((_, l) => { l.sig = new TextEncoder().encode('ed448') })), 'BAD_INFO')
      assert.equal(parseCode(mutated((_, l) => { delete l.sig })), 'BAD_INFO')
    })

    it('a bad key length', () => {
      for (const n of [0, 31, 33, 64]) assert.equal(parseCode(mutated((_, l) => { l.pk = new Uint8Array(n) })), 'BAD_INFO')
      assert.equal(parseCode(mutated((_, l) => { delete l.pk })), 'BAD_INFO')
    })

    it('a bad nonce length', () => {
      for (const n of [0, 15, 17]) assert.equal(parseCode(mutated((_, l) => { l.nonce = new Uint8Array(n) })), 'BAD_INFO')
    })

    it('non-empty pieces', () => {
      assert.equal(parseCode(mutated((d) => { d.pieces = new Uint8Array(20) })), 'BAD_INFO')
      assert.equal(parseCode(mutated((d) => { delete d.pieces })), 'BAD_INFO')
    })

    it('a files key', () => {
      assert.equal(parseCode(mutated((d) => { d.files = [{ length: 0, path: [new TextEncoder().encode('a')] }] })), 'BAD_INFO')
      const bytes = bencode.encode({ ...baseInfo(), files: [] })
      assert.equal(parseCode(bencode.decode(bytes)), 'BAD_INFO')
    })

    it('a bad piece length', () => {
      for (const pl of [0, 1000, 512, 3 * 1024, MAX_PIECE_LENGTH * 2, -16384]) {
        assert.equal(parseCode(mutated((d) => { d['piece length'] = pl })), 'BAD_INFO', String(pl))
      }
      assert.equal(parseCode(mutated((d) => { delete d['piece length'] })), 'BAD_INFO')
    })

    it('a non-zero length', () => {
      assert.equal(parseCode(mutated((d) => { d.length = 1 })), 'BAD_INFO')
    })

    it('a bad name', () => {
      assert.equal(parseCode(mutated((d) => { d.name = new Uint8Array(0) })), 'BAD_INFO')
      assert.equal(parseCode(mutated((d) => { d.name = new Uint8Array(256).fill(0x61) })), 'BAD_INFO')
      assert.equal(parseCode(mutated((d) => { d.name = Uint8Array.of(0xff, 0xfe) })), 'BAD_INFO')
      for (const name of ['../../../../tmp/x', 'a/b', 'a\\b', '..', 'NUL.txt', 'COM\u00b9', 'x\u0000']) {
        assert.equal(parseCode(mutated((d) => { d.name = new TextEncoder().encode(name) })), 'BAD_INFO', name)
      }
    })
  })
})

describe('protocol/head', () => {
  const PL = 16384
  function head (over: Partial<Head> = {}): Head {
    return { count: 10, length: 10 * PL, time: 1_700_000_000_000, ended: false, commitment: new Uint8Array(CHAIN_BYTES).fill(4), finalInfoHash: null, ...over }
  }
  function shape (h: Head): string | null {
    const r = checkHeadShape(h, PL)
    return r.ok ? null : r.code
  }

  it('signable is 112 bytes and starts with the namespace and infohash', () => {
    const ih = new Uint8Array(20).fill(0x5a)
    const s = signable(ih, head())
    assert.equal(s.length, SIGNABLE_BYTES)
    assert.equal(SIGNABLE_BYTES, 112)
    assert.equal(Buffer.from(s.subarray(0, 15)).toString('latin1'), 'ut_live/1/head\0')
    assert.ok(equal(s.subarray(15, 35), ih))
    assert.throws(() => signable(new Uint8Array(19), head()), TypeError)
  })

  it('head body round-trips', () => {
    const h = head({ ended: true, length: 9 * PL + 1, finalInfoHash: new Uint8Array(20).fill(1) })
    const r = decodeHeadBody(encodeHeadBody(h))
    assert.ok(r.ok)
    assert.deepEqual(r.value, h)
    assert.equal(decodeHeadBody(new Uint8Array(76)).ok, false)
  })

  describe('checkHeadShape', () => {
    it('a live head covers exactly count full pieces', () => {
      assert.equal(shape(head()), null)
      assert.equal(shape(head({ count: 0, length: 0 })), null)
      assert.equal(shape(head({ length: 10 * PL - 1 })), 'BAD_FIELD')
      assert.equal(shape(head({ length: 10 * PL + 1 })), 'BAD_FIELD')
      assert.equal(shape(head({ length: 0 })), 'BAD_FIELD')
    })

    it('an ended head may have a short last piece, of 1..pieceLength bytes', () => {
      const fin = new Uint8Array(20).fill(1)
      assert.equal(shape(head({ ended: true, finalInfoHash: fin, length: 10 * PL })), null)
      assert.equal(shape(head({ ended: true, finalInfoHash: fin, length: 9 * PL + 1 })), null)
      assert.equal(shape(head({ ended: true, finalInfoHash: fin, length: 9 * PL })), 'BAD_FIELD')
      assert.equal(shape(head({ ended: true, finalInfoHash: fin, length: 10 * PL + 1 })), 'BAD_FIELD')
      assert.equal(shape(head({ ended: true, finalInfoHash: fin, count: 1, length: 1 })), null)
      assert.equal(shape(head({ ended: true, finalInfoHash: fin, count: 1, length: 0 })), 'BAD_FIELD')
    })

    it('an empty ended stream has no bytes', () => {
      const fin = new Uint8Array(20).fill(1)
      assert.equal(shape(head({ ended: true, finalInfoHash: fin, count: 0, length: 0 })), null)
      assert.equal(shape(head({ ended: true, finalInfoHash: fin, count: 0, length: 1 })), 'BAD_FIELD')
    })

    it('rejects too many pieces and a short commitment', () => {
      assert.equal(shape(head({ count: MAX_PIECES + 1, length: (MAX_PIECES + 1) * PL })), 'TOO_LARGE')
      assert.equal(shape(head({ count: MAX_PIECES, length: MAX_PIECES * PL })), null)
      assert.equal(shape(head({ commitment: new Uint8Array(31) })), 'BAD_FIELD')
    })

    it('property: a live head is valid iff length = count × pieceLength', () => {
      fc.assert(fc.property(fc.nat({ max: MAX_PIECES }), fc.integer({ min: -PL, max: PL }), (count, delta) => {
        const length = count * PL + delta
        fc.pre(length >= 0)
        assert.equal(shape(head({ count, length })) === null, delta === 0)
      }), { numRuns: 300 })
    })

    it('property: an ended head is valid iff (count-1)·pl < length ≤ count·pl (or both 0)', () => {
      const fin = new Uint8Array(20).fill(1)
      fc.assert(fc.property(fc.nat({ max: 100000 }), fc.integer({ min: -2 * PL, max: PL }), (count, delta) => {
        const length = count * PL + delta
        fc.pre(length >= 0)
        const valid = count === 0 ? length === 0 : delta <= 0 && delta > -PL
        assert.equal(shape(head({ count, length, ended: true, finalInfoHash: fin })) === null, valid)
      }), { numRuns: 300 })
    })
  })

  it('rank orders by count, then ended', () => {
    assert.ok(rank(head({ count: 11, length: 11 * PL })) > rank(head()))
    assert.ok(rank(head({ ended: true, finalInfoHash: new Uint8Array(20).fill(1) })) > rank(head()))
    assert.ok(rank(head({ count: 11, length: 11 * PL })) > rank(head({ ended: true })))
  })

  it('sameState ignores time but not commitment or end', () => {
    assert.ok(sameState(head(), head({ time: 5 })))
    assert.ok(!sameState(head(), head({ commitment: new Uint8Array(32).fill(5) })))
    const fin = new Uint8Array(20).fill(1)
    assert.ok(!sameState(head({ ended: true, finalInfoHash: fin }), head({ ended: true, finalInfoHash: new Uint8Array(20).fill(2) })))
    assert.ok(sameState(head({ ended: true, finalInfoHash: fin }), head({ ended: true, finalInfoHash: fin.slice() })))
  })
})
