import assert from 'node:assert/strict'
import { broadcast, createKeyPair, EXTENSION_NAME } from '../../lib/index.js'
import { encode, signable, type SignedHead } from '../../lib/protocol/index.js'
import { ed25519 } from '../../lib/crypto/index.js'
import { addr, air, bytes, collect, destroyAll, join, makeClient, withTimeout } from '../support/clients.js'
import { poll } from '../support/wait.js'

/* eslint-disable @typescript-eslint/no-explicit-any */
const PL = 16384

/** Resolves when `t.live` bans a peer; with the ban's details. */
function banned (t: any): Promise<{ code: string, reason: string }> {
  return new Promise((resolve) => t.live.once('peer-banned', resolve))
}

/** The wires of torrent `from` that lead to client `to` (by its listening port or peer id). */
function wiresTo (from: any, to: any): any[] {
  return from.wires.filter((w: any) => w.remotePort === to.address().port || w.peerId === to.peerId)
}

describe('hostile peers in a live swarm', function () {
  this.timeout(90_000)
  afterEach(destroyAll)

  async function setup (): Promise<{ a: any, bc: any, evil: any, te: any, v: any, tv: any, data: Buffer }> {
    const a = await makeClient()
    const bc = await broadcast(a, { name: 'target.bin', pieceLength: PL })
    const data = bytes(PL * 60 + 10, 9)
    await air(bc, data.subarray(0, PL * 20))
    const evil = await makeClient()
    const te = join(evil, bc.magnetURI, [a])
    await poll(() => te.live.has(19), 20_000, 'evil peer synced')
    const v = await makeClient()
    const tv = join(v, bc.magnetURI, [a, evil])
    await poll(() => wiresTo(te, v).some((w) => w.ut_live?.peer.supported), 20_000, 'victim connected to evil peer')
    return { a, bc, evil, te, v, tv, data }
  }

  async function finish (bc: any, tv: any, data: Buffer): Promise<void> {
    const out = collect(tv.live.createReadStream())
    await air(bc, data.subarray(PL * 20), { pauseMs: 2 })
    await bc.end()
    assert.ok((await withTimeout(out, 40_000, 'honest stream')).equals(data), 'the honest stream is intact')
  }

  it('a peer that signs heads with another key is banned and changes nothing', async () => {
    const { bc, te, v, tv, data } = await setup()
    const other = await createKeyPair()
    const ed = await ed25519()
    const real: SignedHead = te.live.head
    const forged = { ...real, count: real.count + 50, length: (real.count + 50) * PL, signature: new Uint8Array(64) as Uint8Array }
    forged.signature = await ed.sign(other.secretKey, signable(Buffer.from(te.infoHash, 'hex'), forged))
    const ban = banned(tv)
    for (const w of wiresTo(te, v)) w.extended(EXTENSION_NAME, encode({ type: 'head', head: forged, tail: null }))
    const b = await withTimeout(ban, 10_000, 'ban')
    assert.equal(b.code, 'BAD_SIGNATURE')
    await finish(bc, tv, data)
    assert.equal(tv.live.count, 61)
  })

  for (const [what, payload] of [
    ['garbage bytes', Buffer.from('this is not a ut_live message at all')],
    ['an oversized message', Buffer.alloc(20_000, 1)],
    ['a truncated HEAD', Buffer.from([1, 0, 0, 0])],
    ['an unknown message type', Buffer.from([0x7f, 1, 2, 3])]
  ] as const) {
    it(`a peer that sends ${what} is banned and changes nothing`, async () => {
      const { bc, te, v, tv, data } = await setup()
      const ban = banned(tv)
      for (const w of wiresTo(te, v)) w.extended(EXTENSION_NAME, payload)
      await withTimeout(ban, 10_000, 'ban')
      assert.ok(tv.live.stats.invalidMessages >= 1)
      await finish(bc, tv, data)
    })
  }

  it('a replayed old head is ignored without a signature check', async () => {
    const a = await makeClient()
    const bc = await broadcast(a, { name: 'r.bin', pieceLength: PL })
    const v = await makeClient()
    const tv = join(v, bc.magnetURI, [a])
    const out = collect(tv.live.createReadStream())
    await air(bc, bytes(PL * 5, 1))
    await poll(() => tv.live.count === 5, 10_000, 'first heads')
    const old = tv.live.head
    await air(bc, bytes(PL * 5, 2))
    await poll(() => tv.live.count === 10, 10_000, 'more heads')
    const checks = tv.live.signatureChecks
    for (const w of wiresTo(bc.torrent, v)) for (let i = 0; i < 20; i++) w.extended(EXTENSION_NAME, encode({ type: 'head', head: old, tail: null }))
    // Barrier: a new head sent after the replays, on the same wire, is checked after them (one queue).
    await air(bc, bytes(PL, 3))
    await poll(() => tv.live.count === 11, 10_000, 'the head after the replays')
    assert.equal(tv.live.signatureChecks, checks + 1, 'no signature work for replays (one for the new head)')
    assert.equal(tv.live.stats.bannedPeers, 0, 'replaying genuine old heads is not punished')
    await bc.end()
    assert.ok((await withTimeout(out, 20_000, 'replay')).equals(Buffer.concat([bytes(PL * 5, 1), bytes(PL * 5, 2), bytes(PL, 3)])))
  })

  it('a peer serving corrupt piece data is banned; the reader never sees a wrong byte', async () => {
    const a = await makeClient()
    const bc = await broadcast(a, { name: 'corrupt.bin', pieceLength: PL })
    const data = bytes(PL * 50, 11)
    await air(bc, data.subarray(0, PL * 30))
    const evil = await makeClient()
    const te = join(evil, bc.magnetURI, [a])
    await poll(() => te.live.has(29), 20_000, 'evil synced')
    const get = te.store.get.bind(te.store)
    te.store.get = (i: number, o: any, cb: any) => get(i, o, (err: Error | null, buf?: Uint8Array) => {
      if (buf) { buf = Buffer.from(buf); buf[0] = buf[0]! ^ 0xff }
      cb(err, buf)
    })
    const v = await makeClient()
    const tv = join(v, bc.magnetURI, [evil]) // only the corrupter at first
    const out = collect(tv.live.createReadStream())
    const ban = await withTimeout(banned(tv), 20_000, 'corrupter banned')
    assert.equal(ban.code, 'CORRUPT_PIECE')
    tv.addPeer(addr(a))
    await air(bc, data.subarray(PL * 30), { pauseMs: 2 })
    await bc.end()
    assert.ok((await withTimeout(out, 40_000, 'honest stream after corruption')).equals(data))
    assert.ok(tv.live.stats.corruptPieces >= 1)
    assert.equal(tv.wires.some((w: any) => w.peerId === evil.peerId), false, 'the corrupter is not reconnected')
  })
})
