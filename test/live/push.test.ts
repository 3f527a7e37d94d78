/**
 * PUSH (spec §7.9): the broadcaster pushes each new piece to its first tier; viewers verify it
 * against the hash log before it enters their store. Real swarms on loopback; hostile pushes from
 * a real peer's wire.
 */
import assert from 'node:assert/strict'
import { readFileSync } from 'node:fs'
import { join as joinPath } from 'node:path'
import { broadcast, EXTENSION_NAME } from '../../lib/index.js'
import { encode, MSG_PUSH, PUSH_HEADER_BYTES } from '../../lib/protocol/index.js'
import { addr, air, bytes, collect, destroyAll, join, makeClient, tempDir, withTimeout } from '../support/clients.js'
import { poll } from '../support/wait.js'

/* eslint-disable @typescript-eslint/no-explicit-any */
const PL = 16384

function banned (t: any): Promise<{ code: string, reason: string }> {
  return new Promise((resolve) => t.live.once('peer-banned', resolve))
}

/** The wires of torrent `from` that lead to client `to`. */
function wiresTo (from: any, to: any): any[] {
  return from.wires.filter((w: any) => w.remotePort === to.address().port || w.peerId === to.peerId)
}

/** Sends raw ut_live bytes on every wire of `from` to `to`. */
function sendRaw (from: any, to: any, payload: Uint8Array): void {
  for (const w of wiresTo(from, to)) w.extended(EXTENSION_NAME, payload)
}

describe('PUSH: the live edge pushed to the first tier', function () {
  this.timeout(90_000)
  afterEach(destroyAll)

  it('viewers get new pieces by push, byte-identical; a plugin-less client is never pushed to and downloads the final torrent', async () => {
    const a = await makeClient()
    const bc = await broadcast(a, { name: 'push.bin', pieceLength: PL, path: tempDir() })
    const data = bytes(PL * 40 + 123, 5)
    await air(bc, data.subarray(0, PL * 2))
    const v1 = await makeClient()
    const t1 = join(v1, bc.magnetURI, [a])
    const v2 = await makeClient()
    const t2 = join(v2, bc.magnetURI, [a, v1])
    // A stock WebTorrent client on the live infohash: a plain peer, which must never get a ut_live byte.
    const plain = await makeClient(false)
    const tp = plain.add(bc.magnetURI, { path: tempDir() })
    tp.once('infoHash', () => tp.addPeer(addr(a)))
    await poll(() => [t1, t2].every((t) => wiresTo(bc.torrent, t.client).some((w: any) => w.ut_live?.peer.supported)) && wiresTo(bc.torrent, plain).length > 0, 20_000, 'all connected')
    const toPlain: number[] = []
    for (const w of wiresTo(bc.torrent, plain)) {
      const extended = w.extended.bind(w)
      w.extended = (ext: unknown, payload: Uint8Array) => { toPlain.push(payload?.[0] ?? -1); return extended(ext, payload) }
    }
    const out1 = collect(t1.live.createReadStream())
    const out2 = collect(t2.live.createReadStream())
    await air(bc, data.subarray(PL * 2), { pauseMs: 5 })
    const fin = await bc.end()
    assert.ok((await withTimeout(out1, 40_000, 'viewer 1')).equals(data), 'viewer 1 byte-identical')
    assert.ok((await withTimeout(out2, 40_000, 'viewer 2')).equals(data), 'viewer 2 byte-identical')
    const received = t1.live.push.stats.received + t2.live.push.stats.received
    assert.ok(received > 0, 'pieces arrived by push')
    console.log(`      pushed: viewer 1 ${JSON.stringify(t1.live.push.stats)}, viewer 2 ${JSON.stringify(t2.live.push.stats)} of ${bc.live.count} pieces; relay ${JSON.stringify(bc.relay.stats)}`)
    const forwarded = t1.live.push.stats.forwarded + t2.live.push.stats.forwarded
    assert.ok(bc.live.push.stats.sent + forwarded >= received, 'every pushed piece was sent by the broadcaster or forwarded')
    assert.ok(bc.relay.stats.pushed > 0)
    assert.equal(bc.live.push.stats.received, 0, 'the broadcaster accepts no pushes')
    assert.equal(t1.live.stats.bannedPeers + t2.live.stats.bannedPeers, 0, 'no honest peer banned')
    assert.deepEqual(toPlain.filter((t) => t === MSG_PUSH), [], 'the plain client was never pushed to')
    // The plain client then downloads the final, ordinary torrent.
    const plainFinal = plain.add(fin.torrentFile, { path: tempDir() })
    const dir = plainFinal.path
    if (!plainFinal.infoHash) await new Promise((resolve) => plainFinal.once('infoHash', resolve))
    plainFinal.addPeer(addr(a))
    if (!plainFinal.done) await withTimeout(new Promise<void>((resolve) => plainFinal.once('done', resolve)), 30_000, 'plain client done')
    assert.ok(readFileSync(joinPath(dir, plainFinal.name as string)).equals(data), 'the plain client has every byte')
  })

  it('a stream aired as fast as it can be written: the pushes are piece data, not a message flood (no ban), byte-identical', async () => {
    // Before, every PUSH block counted against the 500-messages-a-second budget of ut_live
    // control messages: a broadcaster pushing a fast stream to a viewer that keeps up was banned.
    const a = await makeClient()
    const bc = await broadcast(a, { name: 'fast.bin', pieceLength: PL, path: tempDir() })
    const v = await makeClient()
    const t = join(v, bc.magnetURI, [a])
    await poll(() => wiresTo(bc.torrent, v).some((w: any) => w.ut_live?.peer.supported), 20_000, 'connected')
    const out = collect(t.live.createReadStream())
    const data = bytes(PL * 1500 + 5, 21)
    for (let off = 0; off < data.length; off += 4 * PL) await bc.write(data.subarray(off, off + 4 * PL)) // a head of 4 pieces each
    await bc.end()
    assert.ok((await withTimeout(out, 60_000, 'the viewer reads it all')).equals(data), 'byte-identical')
    assert.ok(bc.live.push.stats.sent > 0, `pushed: ${bc.live.push.stats.sent as number} pieces`)
    assert.equal(t.live.stats.bannedPeers, 0)
  })

  it('a viewer with push: false says so and is told by HAVE instead', async () => {
    const a = await makeClient()
    const bc = await broadcast(a, { name: 'nopush.bin', pieceLength: PL, path: tempDir() })
    const data = bytes(PL * 12 + 1, 6)
    const v = await makeClient()
    const tv = join(v, bc.magnetURI, [a], { push: false })
    await poll(() => wiresTo(bc.torrent, v).some((w: any) => w.ut_live?.peer.supported), 20_000, 'connected')
    assert.equal(wiresTo(bc.torrent, v)[0].ut_live.peer.acceptsPush, false)
    const out = collect(tv.live.createReadStream())
    await air(bc, data, { pauseMs: 5 })
    await bc.end()
    assert.ok((await withTimeout(out, 40_000, 'viewer')).equals(data))
    assert.equal(bc.live.push.stats.sent, 0)
    assert.equal(tv.live.push.stats.received, 0)
  })

  describe('hostile pushes', () => {
    /** A broadcaster that aired `aired` pieces (of 2 × aired), an evil peer synced to it, and a victim connected to both. */
    async function setup (opts: Record<string, unknown> = {}, pl = PL, aired = 20): Promise<{ a: any, bc: any, evil: any, te: any, v: any, tv: any, data: Buffer }> {
      const a = await makeClient()
      const bc = await broadcast(a, { name: 'target.bin', pieceLength: pl, path: tempDir() })
      const data = bytes(pl * 2 * aired + 10, 9)
      await air(bc, data.subarray(0, pl * aired))
      const evil = await makeClient()
      const te = join(evil, bc.magnetURI, [a])
      await poll(() => te.live.has(aired - 1), 20_000, 'evil peer synced')
      const v = await makeClient()
      const tv = join(v, bc.magnetURI, [a, evil], opts)
      await poll(() => wiresTo(te, v).some((w) => w.ut_live?.peer.supported) && tv.live.count === aired, 20_000, 'victim connected to evil peer')
      return { a, bc, evil, te, v, tv, data }
    }

    async function finish (a: any, bc: any, tv: any, data: Buffer, pl = PL, aired = 20): Promise<void> {
      tv.addPeer(addr(a))
      const out = collect(tv.live.createReadStream())
      await air(bc, data.subarray(pl * aired), { pauseMs: 2 })
      await bc.end()
      assert.ok((await withTimeout(out, 40_000, 'honest stream')).equals(data), 'the honest stream is intact')
    }

    it('a pushed piece that fails its hash is never stored; the pusher is banned (CORRUPT_PIECE)', async () => {
      // The victim meets only the evil peer at first: the evil peer's HEAD (genuine) makes piece 19
      // known, and the bad push of 19 follows it on the same wire, before any request could.
      const a = await makeClient()
      const bc = await broadcast(a, { name: 'corrupt.bin', pieceLength: PL, path: tempDir() })
      const data = bytes(PL * 40 + 10, 9)
      await air(bc, data.subarray(0, PL * 20))
      const evil = await makeClient()
      const te = join(evil, bc.magnetURI, [a])
      await poll(() => te.live.has(19), 20_000, 'evil peer synced')
      const bad = Buffer.from(data.subarray(19 * PL, 20 * PL)); bad[100] = bad[100]! ^ 0xff
      te.on('wire', (w: any) => {
        w.on('extended', (ext: unknown) => {
          if (ext === 'handshake' && w.ut_live?.peer.acceptsPush) w.extended(EXTENSION_NAME, encode({ type: 'push', index: 19, begin: 0, data: bad }))
        })
      })
      const v = await makeClient()
      const tv = join(v, bc.magnetURI, [evil])
      const ban = await withTimeout(banned(tv), 20_000, 'ban')
      assert.equal(ban.code, 'CORRUPT_PIECE')
      assert.match(ban.reason, /pushed piece 19/)
      assert.ok(tv.live.stats.corruptPieces >= 1)
      assert.equal(tv.live.push.stats.received, 0)
      await finish(a, bc, tv, data)
    })

    it('a push far beyond the edge is banned (TOO_LARGE)', async () => {
      const { a, bc, te, v, tv, data } = await setup()
      const ban = banned(tv)
      sendRaw(te, v, encode({ type: 'push', index: tv.live.count + 1000, begin: 0, data: new Uint8Array(PL) }))
      assert.equal((await withTimeout(ban, 10_000, 'ban')).code, 'TOO_LARGE')
      await finish(a, bc, tv, data)
    })

    it('a push far behind the viewer\'s edge is dropped unbuffered and counted, not banned (its count raced ahead)', async () => {
      const { a, bc, te, v, tv, data } = await setup({ from: 'start' }, PL, 80)
      let bans = 0
      tv.live.on('peer-banned', () => { bans++ })
      const unwanted = tv.live.push.stats.unwanted
      sendRaw(te, v, encode({ type: 'push', index: 3, begin: 0, data: data.subarray(3 * PL, 4 * PL) }))
      await poll(() => tv.live.push.stats.unwanted > unwanted, 10_000, 'push counted')
      await finish(a, bc, tv, data, PL, 80)
      assert.equal(bans, 0, 'the pusher was not banned')
      assert.ok(wiresTo(te, v).some((w) => !w.destroyed), 'the pusher is still connected')
    })

    it('a push just beyond the edge that no head proves is banned once the heads are checked (TOO_LARGE)', async () => {
      const { a, bc, te, v, tv, data } = await setup()
      const ban = banned(tv)
      sendRaw(te, v, encode({ type: 'push', index: tv.live.count + 1, begin: 0, data: new Uint8Array(PL) }))
      const b = await withTimeout(ban, 10_000, 'ban')
      assert.equal(b.code, 'TOO_LARGE')
      assert.match(b.reason, /no head/)
      await finish(a, bc, tv, data)
    })

    it('a push to a viewer that did not accept pushes is banned (BAD_TYPE)', async () => {
      const { a, bc, te, v, tv, data } = await setup({ push: false })
      assert.equal(wiresTo(te, v)[0].ut_live.peer.acceptsPush, false)
      const ban = banned(tv)
      sendRaw(te, v, encode({ type: 'push', index: 19, begin: 0, data: data.subarray(19 * PL, 20 * PL) }))
      assert.equal((await withTimeout(ban, 10_000, 'ban')).code, 'BAD_TYPE')
      await finish(a, bc, tv, data)
    })

    for (const [what, payload, code] of [
      ['an oversize PUSH (16 KiB + 1 of data)', Buffer.concat([Buffer.from(encode({ type: 'push', index: 20, begin: 0, data: new Uint8Array(PL) })), Buffer.of(0)]), 'TOO_LARGE'],
      ['a PUSH that starts mid-piece', encode({ type: 'push', index: 18, begin: PL, data: new Uint8Array(10) }), 'BAD_FIELD'],
      ['a PUSH block of the wrong length', encode({ type: 'push', index: 18, begin: 0, data: new Uint8Array(PL - 1) }), 'BAD_FIELD']
    ] as const) {
      it(`${what} is banned (${code})`, async () => {
        const { a, bc, te, v, tv, data } = await setup()
        assert.ok(payload.length >= PUSH_HEADER_BYTES)
        const ban = banned(tv)
        sendRaw(te, v, payload)
        assert.equal((await withTimeout(ban, 10_000, 'ban')).code, code)
        await finish(a, bc, tv, data)
      })
    }

    it('a third piece left half-pushed on one wire is banned (TOO_LARGE): partial pieces are bounded per wire', async () => {
      const pl = 2 * PL // two blocks a piece: a first block leaves the piece open
      const { a, bc, te, v, tv, data } = await setup({}, pl)
      const ban = banned(tv)
      for (const i of [17, 18]) sendRaw(te, v, encode({ type: 'push', index: i, begin: 0, data: data.subarray(i * pl, i * pl + PL) }))
      sendRaw(te, v, encode({ type: 'push', index: 19, begin: 0, data: data.subarray(19 * pl, 19 * pl + PL) }))
      const b = await withTimeout(ban, 10_000, 'ban')
      assert.equal(b.code, 'TOO_LARGE')
      assert.match(b.reason, /pieces pushed at once/)
      await finish(a, bc, tv, data, pl)
    })

    it('a peer that keeps pushing pieces the viewer has is flooding (FLOOD), beyond what honest races explain', async () => {
      const { a, bc, te, v, tv, data } = await setup()
      await poll(() => tv.live.has(19), 20_000, 'victim has piece 19')
      const ban = banned(tv)
      for (let k = 0; k < 300; k++) sendRaw(te, v, encode({ type: 'push', index: 19, begin: 0, data: data.subarray(19 * PL, 20 * PL) }))
      const b = await withTimeout(ban, 10_000, 'ban')
      assert.equal(b.code, 'FLOOD')
      assert.match(b.reason, /pushed pieces a second/)
      await finish(a, bc, tv, data)
    })

    it('a duplicate push of a piece the viewer has is dropped and counted, not banned', async () => {
      const { a, bc, te, v, tv, data } = await setup()
      await poll(() => tv.live.has(19), 20_000, 'victim has piece 19')
      sendRaw(te, v, encode({ type: 'push', index: 19, begin: 0, data: data.subarray(19 * PL, 20 * PL) }))
      await poll(() => tv.live.push.stats.duplicates >= 1, 10_000, 'duplicate counted')
      await finish(a, bc, tv, data)
      assert.equal(tv.live.stats.bannedPeers, 0)
    })
  })
})
