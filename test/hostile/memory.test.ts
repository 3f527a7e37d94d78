/**
 * Peers that try to make us hold memory or burn CPU without bound: a message longer than any legal
 * one, a peer that asks for answers and never reads them, claims of huge streams before we know
 * the torrent. Each costs the peer its connection; what we hold for it stays bounded.
 */
import assert from 'node:assert/strict'
import { randomBytes } from 'node:crypto'
import net from 'node:net'
import { MAX_PENDING_BITFIELD_BYTES, pendingBitfieldBytes } from '../../patches/index.js'
import { broadcast } from '../../lib/index.js'
import { MAX_PAGES_PER_SECOND, MAX_PUSH_BUFFERED_BYTES, UNPROVEN_CLAIM_BYTES } from '../../lib/live/limits.js'
import { MAX_STUCK_BYTES, MAX_UNSENT_BYTES } from '../../lib/live/upload-budget.js'
import { air, bytes, collect, destroyAll, join, makeClient, sleep, withTimeout } from '../support/clients.js'
import { Attacker } from '../support/hostile/attacker.js'
import { poll } from '../support/wait.js'

/* eslint-disable @typescript-eslint/no-explicit-any */

/** The broadcaster's wire to the attacker (by its peer id), if it is still open. */
const wireOf = (bc: any, atk: Attacker): any => bc.torrent.wires.find((w: any) => w.peerId === atk.peerId)

/** Bytes the broadcaster holds for a wire and has not handed to the OS: the wire's buffer and its socket's. */
function held (bc: any, w: any): number {
  const peer = Object.values(bc.torrent._peers ?? {}).find((p: any) => p.wire === w) as any
  return (w?._readableState?.buffered ?? 0) + (peer?.conn?.writableLength ?? 0)
}

describe('hostile peers, our memory and our CPU', function () {
  this.timeout(60_000)
  afterEach(destroyAll)

  it('a message longer than any legal one: banned when its length arrives, nothing of it buffered', async () => {
    const a = await makeClient()
    const bc: any = await broadcast(a, { name: 'big.bin', pieceLength: 16384 })
    await air(bc, bytes(16384 * 4, 1))
    const atk = Attacker.connect(a.address().port, bc.infoHash)
    await withTimeout(atk.ready, 10_000, 'attacker accepted')
    const ban = new Promise<any>((resolve) => bc.live.once('peer-banned', resolve))
    const length = Buffer.alloc(4)
    length.writeUInt32BE(0x7fffffff)
    atk.wire.push(length)
    const chunk = new Uint8Array(65536)
    for (let i = 0; i < 64 && !atk.destroyed; i++) { atk.wire.push(chunk); await sleep(2) }
    const b = await withTimeout(ban, 10_000, 'ban')
    assert.match(b.reason, /a message of 2147483647 bytes/)
    await poll(() => !wireOf(bc, atk), 10_000, 'wire closed')
  })

  for (const what of ['hash requests', 'block requests'] as const) {
    it(`a peer that sends ${what} and never reads the answers: its connection is closed, what we hold for it bounded`, async () => {
      const a = await makeClient()
      const pl = what === 'hash requests' ? 1024 : 16384
      const bc: any = await broadcast(a, { name: 'amp.bin', pieceLength: pl })
      await air(bc, bytes(pl * (what === 'hash requests' ? 1100 : 64), 3), { chunk: pl * 64 })
      const atk = Attacker.connect(a.address().port, bc.infoHash)
      await withTimeout(atk.ready, 10_000, 'attacker handshake')
      if (what === 'block requests') {
        atk.wire.interested()
        await poll(() => !atk.wire.peerChoking, 10_000, 'unchoked')
      }
      const w = wireOf(bc, atk)
      atk.socket.pause() // never reads again: every answer can only queue at the broadcaster
      let most = 0
      let sent = 0
      // ~400 messages a second, under the flood limit (500/s): 17 bytes each way in, 10 KiB or 16 KiB out.
      for (let k = 0; k < 400 && wireOf(bc, atk); k++) {
        for (let j = 0; j < 10; j++) {
          if (what === 'hash requests') atk.send({ type: 'hash-request', start: 0, count: 512 })
          else atk.wire.request(sent % 64, 0, pl, () => {})
          sent++
        }
        most = Math.max(most, held(bc, w))
        await sleep(25)
      }
      assert.equal(wireOf(bc, atk), undefined, `still connected after ${sent} ${what}`)
      assert.ok(bc.live.uploads.stats.dropped >= 1)
      // The budget looks every 250 ms; the peer adds ~4 MiB a second at most.
      assert.ok(most <= MAX_UNSENT_BYTES + 2 * MAX_STUCK_BYTES + 4 * 2 ** 20, `held ${most} bytes for one peer`)
    })
  }

  it('hash requests as fast as the message budget allows: at most MAX_PAGES_PER_SECOND answered with a page, the rest HASH_REJECTed, no ban', async () => {
    const a = await makeClient()
    const bc: any = await broadcast(a, { name: 'pages.bin', pieceLength: 1024 })
    await air(bc, bytes(1024 * 1100, 4), { chunk: 1024 * 64 })
    const atk = Attacker.connect(a.address().port, bc.infoHash)
    await withTimeout(atk.ready, 10_000, 'attacker handshake')
    const bans: any[] = []
    bc.live.on('peer-banned', (b: any) => bans.push(b))
    const t0 = Date.now()
    for (let k = 0; k < 30; k++) { // 300 requests in ~0.75 s: under the flood limit (500/s)
      for (let j = 0; j < 10; j++) atk.send({ type: 'hash-request', start: 0, count: 512 })
      await sleep(25)
    }
    const count = (type: string): number => atk.received.filter((m) => m.type === type).length
    await poll(() => count('hashes') + count('hash-reject') === 300, 10_000, 'every request answered')
    const seconds = Math.ceil((Date.now() - t0) / 1000)
    assert.ok(count('hashes') <= MAX_PAGES_PER_SECOND * (seconds + 1), `${count('hashes')} pages in ${seconds} s`)
    assert.ok(count('hashes') >= MAX_PAGES_PER_SECOND, 'the first second\'s pages are answered')
    assert.ok(count('hash-reject') >= 300 - MAX_PAGES_PER_SECOND * (seconds + 1))
    assert.equal(bans.length, 0)
  })

  it('pushers that begin pieces and never finish them: what the viewer holds for them is capped (MAX_PUSH_BUFFERED_BYTES), and the stream goes on', async () => {
    const PL = 1024 * 1024 // the largest piece PUSH carries: each begun push would hold 1 MiB
    const a = await makeClient()
    const bc: any = await broadcast(a, { name: 'pushers.bin', pieceLength: PL })
    const data = bytes(PL * 5 + 7, 5)
    await air(bc, data.subarray(0, PL * 2))
    const v = await makeClient()
    const tv = join(v, bc.torrentFile, [a], { from: 'start' })
    await poll(() => tv.live?.count === 2, 20_000, 'viewer at 2 pieces')
    const out = collect(tv.live.createReadStream())
    const bans: any[] = []
    tv.live.on('peer-banned', (b: any) => bans.push(b))
    const attackers: Attacker[] = []
    for (let k = 0; k < 12; k++) { // 24 pieces begun: 24 MiB uncapped
      const atk = Attacker.connect(v.address().port, tv.infoHash)
      await withTimeout(atk.ready, 10_000, 'pusher handshake')
      for (const index of [2, 3]) atk.send({ type: 'push', index, begin: 0, data: new Uint8Array(16384) })
      attackers.push(atk)
    }
    await poll(() => tv.live.push.stats.unkept >= 8, 10_000, `pushes past the cap not kept (${JSON.stringify(tv.live.push.stats)})`)
    assert.ok(tv.live.push.stats.bufferedBytes <= MAX_PUSH_BUFFERED_BYTES, `${tv.live.push.stats.bufferedBytes} bytes held`)
    await air(bc, data.subarray(PL * 2))
    await bc.end()
    assert.ok((await withTimeout(out, 60_000, 'viewer read')).equals(data), 'byte-identical')
    assert.equal(bans.length, 0, 'a push begun is not misbehaviour')
    for (const atk of attackers) atk.destroy()
    await poll(() => tv.live.push.stats.bufferedBytes === 0, 10_000, 'every partial released as its pusher left')
  })

  it('BITFIELDs of the largest stream sent before any claim (and no claim after): what is kept aside for them is capped, the rest banned', async () => {
    const a = await makeClient()
    const bc: any = await broadcast(a, { name: 'bitfields.bin', pieceLength: 16384 })
    await air(bc, bytes(16384 * 4, 6))
    const v = await makeClient()
    const tv = join(v, bc.torrentFile, [a])
    await poll(() => tv.live?.count === 4, 20_000, 'viewer ready')
    const bans: any[] = []
    tv.live.on('peer-banned', (b: any) => bans.push(b))
    const before = pendingBitfieldBytes()
    const socks: net.Socket[] = []
    for (let k = 0; k < 3; k++) { // 3 × 8 MiB
      const hs = Buffer.alloc(68)
      hs[0] = 19; hs.write('BitTorrent protocol', 1); hs[25] = 0x10 // extended: its claim "may still come"
      Buffer.from(tv.infoHash, 'hex').copy(hs, 28); randomBytes(20).copy(hs, 48)
      const bf = Buffer.alloc(5 + 2 ** 23, 0xff)
      bf.writeUInt32BE(1 + 2 ** 23, 0); bf[4] = 5 // BITFIELD of 2^26 pieces
      const s = net.connect(v.address().port, '127.0.0.1', () => { s.write(hs); s.write(bf) })
      s.on('error', () => {}); s.on('data', () => {})
      socks.push(s)
    }
    await poll(() => bans.length >= 1, 20_000, 'the bitfield with no room banned')
    assert.match(bans[0].reason, /no room left to keep it aside/)
    assert.ok(pendingBitfieldBytes() <= MAX_PENDING_BITFIELD_BYTES, `${pendingBitfieldBytes()} bytes kept aside`)
    for (const s of socks) s.destroy()
    await poll(() => pendingBitfieldBytes() === before, 10_000, 'released as the wires closed')
  })

  it('a flood of re-sent extended handshakes (each makes us send our head): FLOOD ban', async () => {
    const a = await makeClient()
    const bc: any = await broadcast(a, { name: 'hs.bin', pieceLength: 16384 })
    await air(bc, bytes(16384 * 4, 2))
    const atk = Attacker.connect(a.address().port, bc.infoHash)
    await withTimeout(atk.ready, 10_000, 'attacker handshake')
    const ban = new Promise<any>((resolve) => bc.live.once('peer-banned', resolve))
    for (let i = 0; i < 600 && !atk.destroyed; i++) atk.wire.extended(0, { m: { ut_live: 3 }, live_v: atk.wire.peerExtendedHandshake.live_v })
    const b = await withTimeout(ban, 10_000, 'ban')
    assert.equal(b.code, 'FLOOD')
  })

  it('claims of huge streams before we know the torrent share the unproven-claim budget', async () => {
    const v = await makeClient()
    const infoHash = randomBytes(20).toString('hex') // metadata never comes: the viewer stays not ready
    const t = join(v, `magnet:?xt=urn:btih:${infoHash}`, [])
    await sleep(200)
    const bans: any[] = []
    t.live.on('peer-banned', (b: any) => bans.push(b))
    for (let i = 0; i < 6; i++) {
      const atk = Attacker.connect(v.address().port, infoHash, { liveN: 2 ** 26 })
      await withTimeout(atk.ready.catch(() => {}), 10_000, 'attacker handshake')
      if (!atk.destroyed) atk.wire.have(0)
    }
    await sleep(500)
    assert.equal(t.live.ready, false)
    let total = 0
    for (const w of t.wires) total += w.peerPieces.buffer.length
    // Each admitted claim's room (2^26 / 8 bytes) and a little slack per wire; six would be 48 MiB.
    assert.ok(total <= UNPROVEN_CLAIM_BYTES + 6 * 65536, `peers' bitfields hold ${total} bytes`)
    assert.ok(bans.some((b) => /unproved/.test(b.reason)), 'claims over the budget are banned')
  })
})
