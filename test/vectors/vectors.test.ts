/**
 * Checks the committed ut_live v1 test vectors (test/vectors/ut_live-v1.json, made by
 * scripts/make-vectors.ts) against the library: every value is recomputed here from the
 * parameters, independently of the generator, with both the pure-JS and the node:crypto hashes,
 * and every head signature is checked with both the native and the elliptic Ed25519.
 */
import assert from 'node:assert/strict'
import { readFileSync } from 'node:fs'
import bencode from 'bencode'
import {
  CHAIN_BYTES, INFOHASH_BYTES, NAMESPACE_CHAIN, NAMESPACE_HEAD, PIECE_HASH_BYTES, PROTOCOL_VERSION, SIGNABLE_BYTES,
  ascii, checkHeadShape, concat, createFinalInfo, createLiveInfo, decode, encode, encodeInfo, equal, fromHex,
  genesis, infoHashOf, parseLiveInfo, pureHashes, runChain, signable, step, strictEd25519Reject, toHex,
  SMALL_ORDER_ENCODINGS,
  type Hashes, type Message, type SignedHead
} from '../../lib/protocol/index.js'
import { nativeEd25519, nativeHashes } from '../../lib/crypto/native-node.js'
import { ellipticEd25519 } from '../../lib/crypto/elliptic.js'
import type { Ed25519 } from '../../lib/crypto/types.js'
import { StreamState } from '../../lib/state/stream-state.js'
import { decode as decodePoint, laxVerify, smallOrder, smallOrderEncodings } from '../../scripts/ed25519-math.js'

interface HeadVector {
  name: string
  count: number
  length: number
  time: number
  ended: boolean
  commitment: string
  finalInfo?: string
  finalInfoHash: string | null
  signable: string
  signature: string
}
interface MessageVector { name: string, type: number, hex: string, head?: string, tailStart?: number, tailCount?: number, start?: number, count?: number, index?: number, begin?: number, length?: number }
interface InvalidVector { description: string, hex: string, error: string }
interface Vectors {
  protocolVersion: number
  parameters: {
    ed25519Seed: string
    publicKey: string
    nonce: string
    name: string
    pieceLength: number
    dataLength: number
    generator: { algorithm: string, state: number, firstBytes: string, sha256: string }
  }
  liveInfo: { bencoded: string, infoHash: string }
  windowedLiveInfo: { window: number, bencoded: string, infoHash: string }
  pieces: Array<{ index: number, length: number, sha1: string }>
  chain: string[]
  heads: HeadVector[]
  messages: MessageVector[]
  invalidMessages: InvalidVector[]
  invalidHeads: InvalidVector[]
  invalidInfo: InvalidVector[]
  strictEd25519: StrictVector[]
}
interface StrictVector { description: string, rule: string, publicKey: string, message: string, signature: string, laxAccepts: boolean }

const V = JSON.parse(readFileSync(new URL('../../../test/vectors/ut_live-v1.json', import.meta.url), 'utf8')) as Vectors
const P = V.parameters

const native = nativeEd25519
if (!native) throw new Error('node:crypto Ed25519 is required by these tests')
const IMPLS: Ed25519[] = [native, ellipticEd25519]
const HASHES: Array<[string, Hashes]> = [['pure', pureHashes], ['node:crypto', nativeHashes]]

/** xorshift32 with shifts 13/17/5; each byte is the low byte of the next state (as the vectors say). */
function xorshiftBytes (state: number, length: number): Uint8Array {
  const out = new Uint8Array(length)
  let x = state >>> 0
  for (let i = 0; i < length; i++) {
    x = (x ^ (x << 13)) >>> 0
    x = (x ^ (x >>> 17)) >>> 0
    x = (x ^ (x << 5)) >>> 0
    out[i] = x & 0xff
  }
  return out
}

const data = xorshiftBytes(P.generator.state, P.dataLength)
const infoHash = fromHex(V.liveInfo.infoHash)
const pieceHashes = V.pieces.map((p) => fromHex(p.sha1))
const chain = V.chain.map(fromHex)
function headOf (v: HeadVector): SignedHead {
  return {
    count: v.count,
    length: v.length,
    time: v.time,
    ended: v.ended,
    commitment: fromHex(v.commitment),
    finalInfoHash: v.finalInfoHash === null ? null : fromHex(v.finalInfoHash),
    signature: fromHex(v.signature)
  }
}
function headVector (name: string): HeadVector {
  const h = V.heads.find((x) => x.name === name)
  assert.ok(h, `no head vector named ${name}`)
  return h
}

describe('ut_live v1 test vectors', () => {
  it('are version 1 and complete', () => {
    assert.equal(V.protocolVersion, PROTOCOL_VERSION)
    assert.equal(V.pieces.length, Math.ceil(P.dataLength / P.pieceLength))
    assert.equal(V.chain.length, V.pieces.length + 1)
    assert.deepEqual(V.heads.map((h) => h.name), ['live', 'ended'])
    assert.ok(V.invalidMessages.length >= 20)
    assert.ok(V.invalidHeads.length > 0)
  })

  describe('parameters', () => {
    for (const ed of IMPLS) {
      it(`public key from the seed (${ed.name})`, async () => {
        assert.equal(toHex(await ed.publicKey(fromHex(P.ed25519Seed))), P.publicKey)
      })
    }
    it('piece data generator', () => {
      assert.equal(P.generator.algorithm, 'xorshift32')
      assert.equal(toHex(data.subarray(0, 16)), P.generator.firstBytes)
      assert.equal(toHex(nativeHashes.sha256(data)), P.generator.sha256)
    })
  })

  for (const [hname, hashes] of HASHES) {
    describe(`values (${hname} hashes)`, () => {
      it('windowed live info dict (live.window): canonical bencoding, infohash, round trip', () => {
        const W = V.windowedLiveInfo
        const bytes = encodeInfo(createLiveInfo({ name: P.name, pieceLength: P.pieceLength, publicKey: fromHex(P.publicKey), nonce: fromHex(P.nonce), window: W.window }))
        assert.equal(toHex(bytes), W.bencoded)
        assert.equal(toHex(infoHashOf(hashes, bytes)), W.infoHash)
        assert.notEqual(W.infoHash, V.liveInfo.infoHash)
        const decoded: unknown = bencode.decode(bytes)
        assert.equal(toHex(bencode.encode(decoded)), W.bencoded)
        const parsed = parseLiveInfo(decoded)
        assert.ok(parsed.ok, parsed.ok ? '' : parsed.reason)
        assert.equal(parsed.value.window, W.window)
      })

      it('live info dict: canonical bencoding and infohash', () => {
        const info = createLiveInfo({ name: P.name, pieceLength: P.pieceLength, publicKey: fromHex(P.publicKey), nonce: fromHex(P.nonce) })
        const bytes = encodeInfo(info)
        assert.equal(toHex(bytes), V.liveInfo.bencoded)
        assert.equal(toHex(infoHashOf(hashes, bytes)), V.liveInfo.infoHash)
        // Decoding and re-encoding gives the same bytes (canonical), and the live fields parse back.
        const decoded: unknown = bencode.decode(bytes)
        assert.equal(toHex(bencode.encode(decoded)), V.liveInfo.bencoded)
        const parsed = parseLiveInfo(decoded)
        assert.ok(parsed.ok, parsed.ok ? '' : parsed.reason)
        assert.equal(parsed.value.name, P.name)
        assert.equal(parsed.value.pieceLength, P.pieceLength)
        assert.equal(toHex(parsed.value.publicKey), P.publicKey)
        assert.equal(toHex(parsed.value.nonce), P.nonce)
        assert.equal(parsed.value.window, undefined)
        assert.equal(parsed.value.version, PROTOCOL_VERSION)
      })

      it('piece SHA-1s', () => {
        for (const p of V.pieces) {
          const start = p.index * P.pieceLength
          const len = Math.min(P.pieceLength, P.dataLength - start)
          assert.equal(p.length, len)
          assert.equal(toHex(hashes.sha1(data.subarray(start, start + len))), p.sha1, `piece ${p.index}`)
        }
      })

      it('chain values', () => {
        const c0 = genesis(hashes, infoHash)
        assert.equal(toHex(c0), V.chain[0])
        // c[0] = SHA-256("ut_live/1/chain\0" ‖ infohash); c[i+1] = SHA-256(c[i] ‖ sha1(piece i)).
        assert.equal(toHex(hashes.sha256(concat([ascii(NAMESPACE_CHAIN), infoHash]))), V.chain[0])
        let c = c0
        pieceHashes.forEach((h, i) => {
          c = step(hashes, c, h)
          assert.equal(toHex(c), V.chain[i + 1], `c[${i + 1}]`)
          assert.equal(toHex(hashes.sha256(concat([chain[i]!, h]))), V.chain[i + 1])
        })
        assert.equal(toHex(runChain(hashes, c0, concat(pieceHashes))), V.chain[V.chain.length - 1])
      })

      it('final info dict and infohash of the ended head', () => {
        const end = headVector('ended')
        const bytes = encodeInfo(createFinalInfo(P.name, P.pieceLength, P.dataLength, concat(pieceHashes)))
        assert.equal(toHex(bytes), end.finalInfo)
        assert.equal(toHex(infoHashOf(hashes, bytes)), end.finalInfoHash)
        // An ordinary v1 single-file info dict with exactly these four keys.
        const d = bencode.decode(bytes) as Record<string, unknown>
        assert.deepEqual(Object.keys(d), ['length', 'name', 'piece length', 'pieces'])
      })
    })
  }

  describe('heads', () => {
    for (const hv of V.heads) {
      it(`${hv.name}: fields, shape and commitment`, () => {
        const h = headOf(hv)
        assert.equal(hv.commitment, V.chain[hv.count])
        const shape = checkHeadShape(h, P.pieceLength)
        assert.ok(shape.ok, shape.ok ? '' : shape.reason)
        if (hv.ended) {
          assert.equal(hv.length, P.dataLength)
          assert.ok(hv.length > (hv.count - 1) * P.pieceLength && hv.length <= hv.count * P.pieceLength)
        } else {
          assert.equal(hv.length, hv.count * P.pieceLength)
          assert.equal(hv.finalInfoHash, null)
        }
      })

      it(`${hv.name}: the 112-byte signable`, () => {
        const h = headOf(hv)
        const s = signable(infoHash, h)
        assert.equal(s.length, 112)
        assert.equal(SIGNABLE_BYTES, 112)
        assert.equal(toHex(s), hv.signable)
        // Field by field, as laid out in the specification.
        const dv = new DataView(s.buffer, s.byteOffset, s.byteLength)
        assert.equal(toHex(s.subarray(0, 15)), toHex(ascii(NAMESPACE_HEAD)))
        assert.equal(toHex(s.subarray(15, 35)), V.liveInfo.infoHash)
        assert.equal(Number(dv.getBigUint64(35)), hv.count)
        assert.equal(Number(dv.getBigUint64(43)), hv.length)
        assert.equal(Number(dv.getBigUint64(51)), hv.time)
        assert.equal(s[59], hv.ended ? 1 : 0)
        assert.equal(toHex(s.subarray(60, 60 + CHAIN_BYTES)), hv.commitment)
        assert.equal(toHex(s.subarray(92, 92 + INFOHASH_BYTES)), hv.finalInfoHash ?? '00'.repeat(INFOHASH_BYTES))
      })

      for (const ed of IMPLS) {
        it(`${hv.name}: signature (${ed.name}): deterministic, verifies, and fails when tampered`, async () => {
          const msg = fromHex(hv.signable)
          const sig = fromHex(hv.signature)
          const pk = fromHex(P.publicKey)
          assert.equal(toHex(await ed.sign(fromHex(P.ed25519Seed), msg)), hv.signature)
          assert.equal(await ed.verify(pk, msg, sig), true)
          const badMsg = msg.slice(); badMsg[40] = (badMsg[40] as number) ^ 1
          assert.equal(await ed.verify(pk, badMsg, sig), false)
          const badSig = sig.slice(); badSig[0] = (badSig[0] as number) ^ 1
          assert.equal(await ed.verify(pk, msg, badSig), false)
          const otherInfoHash = infoHash.slice(); otherInfoHash[0] = (otherInfoHash[0] as number) ^ 1
          assert.equal(await ed.verify(pk, signable(otherInfoHash, headOf(hv)), sig), false)
        })
      }
    }
  })

  describe('messages', () => {
    for (const mv of V.messages) {
      it(`${mv.name}: encodes to the vector and decodes back`, () => {
        const bytes = fromHex(mv.hex)
        const r = decode(bytes)
        assert.ok(r.ok, r.ok ? '' : `${r.code}: ${r.reason}`)
        const m = r.value
        assert.equal(bytes[0], mv.type)
        let rebuilt: Message
        if (m.type === 'head') {
          const hv = headVector(mv.head ?? '')
          const expect = headOf(hv)
          assert.equal(m.head.count, expect.count)
          assert.equal(m.head.length, expect.length)
          assert.equal(m.head.time, expect.time)
          assert.equal(m.head.ended, expect.ended)
          assert.ok(equal(m.head.commitment, expect.commitment))
          assert.equal(m.head.finalInfoHash === null ? null : toHex(m.head.finalInfoHash), hv.finalInfoHash)
          assert.equal(toHex(m.head.signature), hv.signature)
          const n = mv.tailCount ?? 0
          if (n === 0) {
            assert.equal(m.tail, null)
            rebuilt = { type: 'head', head: expect, tail: null }
          } else {
            assert.ok(m.tail)
            const start = mv.tailStart ?? -1
            assert.equal(start, expect.count - n)
            assert.equal(toHex(m.tail.anchor), V.chain[start])
            assert.equal(toHex(m.tail.hashes), toHex(concat(pieceHashes.slice(start, start + n))))
            // The tail verifies: chain(anchor, hashes) = the signed commitment.
            assert.ok(equal(runChain(pureHashes, m.tail.anchor, m.tail.hashes), expect.commitment))
            rebuilt = { type: 'head', head: expect, tail: { anchor: chain[start]!, hashes: concat(pieceHashes.slice(start, start + n)) } }
          }
        } else if (m.type === 'hashes') {
          assert.equal(m.start, mv.start)
          assert.equal(m.hashes.length / PIECE_HASH_BYTES, mv.count)
          const start = mv.start ?? -1; const n = mv.count ?? 0
          assert.equal(toHex(m.anchor), V.chain[start])
          assert.equal(toHex(m.hashes), toHex(concat(pieceHashes.slice(start, start + n))))
          // The page verifies backwards from the live head's commitment c[3].
          assert.ok(equal(runChain(pureHashes, m.anchor, m.hashes), chain[start + n]!))
          if (start === 0) assert.ok(equal(m.anchor, genesis(pureHashes, infoHash)))
          rebuilt = { type: 'hashes', start, anchor: chain[start]!, hashes: concat(pieceHashes.slice(start, start + n)) }
        } else if (m.type === 'push') {
          assert.equal(m.index, mv.index)
          assert.equal(m.begin, mv.begin)
          assert.equal(m.data.length, mv.length)
          const from = m.index * P.pieceLength + m.begin
          assert.equal(toHex(m.data), toHex(data.subarray(from, from + m.data.length)))
          // A whole piece: its SHA-1 is the piece hash (what a receiver checks before storing it).
          assert.equal(toHex(nativeHashes.sha1(m.data)), toHex(pieceHashes[m.index]!))
          rebuilt = { type: 'push', index: m.index, begin: m.begin, data: data.subarray(from, from + (mv.length ?? 0)) }
        } else {
          assert.equal(m.start, mv.start)
          assert.equal(m.count, mv.count)
          rebuilt = { type: m.type, start: mv.start ?? -1, count: mv.count ?? 0 }
        }
        assert.equal(toHex(encode(rebuilt)), mv.hex)
      })
    }
  })

  describe('invalid messages', () => {
    for (const iv of V.invalidMessages) {
      it(`${iv.description} → ${iv.error}`, () => {
        const r = decode(fromHex(iv.hex))
        assert.equal(r.ok, false)
        if (!r.ok) assert.equal(r.code, iv.error)
      })
    }
  })

  describe('invalid live info dicts (unsafe names, extra keys: nothing may be written outside the download folder)', () => {
    it('covers every kind of unsafe name and extra key', () => {
      assert.ok(V.invalidInfo.length >= 40)
      for (const k of ['name.utf-8', 'path', 'files', 'private', 'live dict', 'live.window 0', 'live.window 2^26 + 1', 'live.window a byte string']) assert.ok(V.invalidInfo.some((v) => v.description.includes(k)), k)
    })
    for (const iv of V.invalidInfo) {
      it(`${iv.description} → ${iv.error}`, () => {
        const r = parseLiveInfo(bencode.decode(Buffer.from(iv.hex, 'hex')))
        assert.equal(r.ok, false)
        if (!r.ok) assert.equal(r.code, iv.error)
      })
    }
  })

  describe('invalid heads (decode, then rejected by shape or signature)', () => {
    for (const iv of V.invalidHeads) {
      for (const ed of IMPLS) {
        it(`${iv.description} → ${iv.error} (${ed.name})`, async () => {
          const r = decode(fromHex(iv.hex))
          assert.ok(r.ok && r.value.type === 'head', 'must decode as a HEAD')
          const h = r.value.head
          const shape = checkHeadShape(h, P.pieceLength)
          const sigOk = await ed.verify(fromHex(P.publicKey), signable(infoHash, h), h.signature)
          const code = !shape.ok ? shape.code : sigOk ? 'OK' : 'BAD_SIGNATURE'
          assert.equal(code, iv.error)
        })
      }
    }
  })

  describe('strict Ed25519 (spec §4.2): rejected by the pre-check and by every backend', () => {
    it('covers S ≥ L, non-canonical R and key, small-order R and all 8 small-order keys', () => {
      const rules = V.strictEd25519.map((v) => v.rule)
      for (const r of ['S_NOT_BELOW_L', 'NON_CANONICAL_R', 'SMALL_ORDER_R', 'NON_CANONICAL_KEY']) assert.ok(rules.includes(r), r)
      const small = V.strictEd25519.filter((v) => v.rule === 'SMALL_ORDER_KEY').map((v) => v.publicKey)
      assert.deepEqual([...small].sort(), [...SMALL_ORDER_ENCODINGS].sort())
    })
    it('the library\'s small-order list is the 8-torsion, recomputed with BigInt arithmetic', () => {
      assert.deepEqual(smallOrderEncodings().map(toHex).sort(), [...SMALL_ORDER_ENCODINGS].sort())
      for (const h of SMALL_ORDER_ENCODINGS) assert.ok(smallOrder(decodePoint(fromHex(h))!) > 0, h)
    })
    for (const sv of V.strictEd25519) {
      it(`${sv.description} → ${sv.rule}`, async () => {
        const pk = fromHex(sv.publicKey); const msg = fromHex(sv.message); const sig = fromHex(sv.signature)
        assert.equal(strictEd25519Reject(pk, sig), sv.rule)
        assert.equal(laxVerify(pk, msg, sig), sv.laxAccepts, 'laxAccepts')
        for (const ed of IMPLS) assert.equal(await ed.verify(pk, msg, sig), false, ed.name)
      })
    }
    it('the pre-check passes the vectors\' own signatures', () => {
      for (const hv of V.heads) assert.equal(strictEd25519Reject(fromHex(P.publicKey), fromHex(hv.signature)), null)
    })
  })

  describe('a stream state fed with the vectors', () => {
    for (const ed of IMPLS) {
      it(`accepts HEAD, a catch-up page and END in order (${ed.name})`, async () => {
        const parsed = parseLiveInfo(bencode.decode(fromHex(V.liveInfo.bencoded)))
        assert.ok(parsed.ok)
        const s = new StreamState({ infoHash, info: parsed.value, hashes: pureHashes, ed25519: ed })
        const msg = (name: string): Message => {
          const mv = V.messages.find((m) => m.name.startsWith(name))
          assert.ok(mv, name)
          const r = decode(fromHex(mv.hex))
          assert.ok(r.ok)
          return r.value
        }
        const live = msg('HEAD (live, no tail)')
        assert.equal(live.type, 'head')
        if (live.type !== 'head') return
        assert.deepEqual(await s.acceptHead(live.head, live.tail), { ok: true, status: 'accepted' })
        const page = msg('HASHES')
        assert.equal(page.type, 'hashes')
        if (page.type !== 'hashes') return
        assert.deepEqual(s.acceptPage(page.start, page.anchor, page.hashes), { ok: true, status: 'accepted' })
        for (let i = 0; i < 3; i++) assert.equal(toHex(s.log.get(i) ?? new Uint8Array(0)), V.pieces[i]!.sha1)
        const end = msg('END')
        if (end.type !== 'head') return assert.fail('END is a HEAD')
        assert.deepEqual(await s.acceptHead(end.head, end.tail), { ok: true, status: 'accepted' })
        assert.equal(s.ended, true)
        assert.equal(s.count, 4)
        assert.equal(toHex(s.log.get(3) ?? new Uint8Array(0)), V.pieces[3]!.sha1)
        // The older live head is now stale and consistent with the chain: ignored.
        const again = await s.acceptHead(live.head, null)
        assert.deepEqual(again, { ok: true, status: 'stale' })
        assert.equal(s.evidence.length, 0)
      })
    }
  })
})
