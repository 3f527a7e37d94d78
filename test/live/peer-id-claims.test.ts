/**
 * A peer id is only what a handshake claims. A raw peer on another IP (127.0.0.2) that claims the
 * broadcaster's id must not get the real broadcaster refused: not by misbehaving under its id (the
 * ban is keyed by id and IP), nor by holding a wire open under it (one-wire.ts counts two wires as
 * one peer's only from the same IP). Real clients and sockets on loopback.
 */
import assert from 'node:assert/strict'
import net from 'node:net'
import { broadcast } from '../../lib/index.js'
import { addr, air, bytes, collect, destroyAll, makeClient, poll, sleep, tempDir, withTimeout } from '../support/clients.js'

/* eslint-disable @typescript-eslint/no-explicit-any */

/** A BitTorrent handshake (extended and fast bits) claiming `peerId`, from 127.0.0.2; keep-alives every 5 s. */
function claimant (port: number, infoHash: string, peerId: string): net.Socket {
  const b = Buffer.alloc(68)
  b[0] = 19; b.write('BitTorrent protocol', 1)
  b[25] = 0x10; b[27] = 0x04
  Buffer.from(infoHash, 'hex').copy(b, 28); Buffer.from(peerId, 'hex').copy(b, 48)
  const s = net.connect({ port, host: '127.0.0.1', localAddress: '127.0.0.2' }, () => s.write(b))
  s.on('data', () => {}); s.on('error', () => {})
  const ka = setInterval(() => { if (!s.destroyed) s.write(Buffer.alloc(4)) }, 5000)
  s.on('close', () => clearInterval(ka))
  return s
}

describe('peer ids are claims: another IP claiming the broadcaster\'s id', function () {
  this.timeout(60_000)
  afterEach(destroyAll)

  for (const mode of ['banned', 'held open'] as const) {
    it(`a claimant ${mode === 'banned' ? 'banned under that id' : 'holding a wire open under that id'} does not cut the viewer off the real broadcaster`, async () => {
      const a = await makeClient()
      const bc = await broadcast(a, { name: `claim-${mode}.bin`, pieceLength: 16384 })
      const data = bytes(16384 * 12 + 5, 7)
      await air(bc, data.subarray(0, 16384 * 4))
      const v = await makeClient()
      const tv = v.add(bc.torrentFile, { live: true, path: tempDir(), from: 'start' })
      await poll(() => tv.infoHash, 5000, 'infohash')
      const bans: any[] = []
      tv.live.on('peer-banned', (b: any) => bans.push(b))
      const s = claimant(v.address().port, tv.infoHash, a.peerId)
      await poll(() => tv.wires.some((w: any) => /127\.0\.0\.2$/.test(w.remoteAddress ?? '')), 10_000, `the claimant's wire at the viewer (wires: ${JSON.stringify(tv.wires.map((w: any) => [w.remoteAddress, w.peerId]))})`)
      if (mode === 'banned') {
        await sleep(300)
        const have = Buffer.alloc(9); have.writeUInt32BE(5, 0); have[4] = 4; have.writeUInt32BE(50_000_000, 5)
        s.write(have) // a HAVE far beyond any stream: banned
        await poll(() => bans.length > 0, 10_000, 'the claimant banned')
        assert.equal(bans[0].peerId, a.peerId)
      }
      const out = collect(tv.live.createReadStream())
      tv.addPeer(addr(a)) // the viewer dials the real broadcaster
      await air(bc, data.subarray(16384 * 4))
      await bc.end()
      assert.ok((await withTimeout(out, 30_000, 'the viewer reads to the end')).equals(data), 'byte-identical, from the real broadcaster')
      assert.equal(tv.live.stats.duplicateWires, 0, 'the claimant\'s wire and the broadcaster\'s are not one peer\'s')
      s.destroy()
    })
  }
})
