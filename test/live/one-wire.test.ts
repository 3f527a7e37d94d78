/**
 * One connection per peer (lib/live/one-wire.ts): a peer that dials a peer already connected to it
 * (as each side does at a tracker's next announce: an incoming connection does not show the
 * peer's listening address) gets its second wire closed on both ends, is not redialled by
 * WebTorrent a second later, and the stream goes on over the wire kept. Real clients, real sockets.
 */
import assert from 'node:assert/strict'
import { broadcast } from '../../lib/index.js'
import { DUPLICATE_GRACE_MS } from '../../lib/live/limits.js'
import { addr, air, bytes, collect, destroyAll, join, makeClient, poll, sleep, withTimeout } from '../support/clients.js'

/* eslint-disable @typescript-eslint/no-explicit-any */

const openTo = (t: any, peerId: string): any[] => t.wires.filter((w: any) => !w.destroyed && !w.destroying && w.peerId === peerId)

describe('one connection per peer', function () {
  this.timeout(60_000)
  afterEach(destroyAll)

  it('the broadcaster dials a viewer already connected to it: the second wire is closed on both ends, not redialled, and the stream goes on byte-identical', async () => {
    const a = await makeClient()
    const bc = await broadcast(a, { name: 'one-wire.bin', pieceLength: 16384 })
    const data = bytes(16384 * 30 + 99, 4)
    await air(bc, data.subarray(0, 16384 * 10))
    const v = await makeClient()
    const tv = join(v, bc.torrentFile, [a])
    await poll(() => tv.live.ready && tv.live.has(9), 20_000, 'viewer synced')
    await sleep(DUPLICATE_GRACE_MS + 500) // the viewer's wire is older than the grace: not "dialled at once"
    const out = collect(tv.live.createReadStream())
    const seen: string[] = [] // every wire the broadcaster is handed to the viewer
    bc.torrent.on('wire', (w: any) => { if (w.peerId === v.peerId) seen.push(w.type) })

    bc.torrent.addPeer(addr(v)) // as after a tracker's announce listing the viewer
    await poll(() => bc.live.stats.duplicateWires > 0 && tv.live.stats.duplicateWires > 0, 10_000, 'the duplicate seen on both ends')
    await sleep(3000) // WebTorrent redials a closed outgoing peer after 1 s
    assert.deepEqual(seen, ['tcpOutgoing'], 'the broadcaster dialled once and was not redialled')
    assert.equal(openTo(bc.torrent, v.peerId).length, 1, 'one wire to the viewer at the broadcaster')
    assert.equal(openTo(tv, a.peerId).length, 1, 'one wire to the broadcaster at the viewer')
    assert.equal(openTo(tv, a.peerId)[0].type, 'tcpOutgoing', 'the older wire (the viewer dialled it) is the one kept')
    assert.equal(bc.torrent.addPeer(addr(v)), false, 'its address is not dialled again while it is connected')

    await air(bc, data.subarray(16384 * 10))
    await bc.end()
    const got = await withTimeout(out, 30_000, 'the viewer reads to the end')
    assert.ok(got.equals(data), 'byte-identical')
  })

  it('both dial at once: both ends keep the same connection (the one the lower peer id dialled) and the stream goes on byte-identical', async () => {
    const a = await makeClient()
    const bc = await broadcast(a, { name: 'one-wire-at-once.bin', pieceLength: 16384 })
    const data = bytes(16384 * 20 + 7, 5)
    await air(bc, data.subarray(0, 16384 * 5))
    const v = await makeClient()
    const tv = join(v, bc.torrentFile, [a]) // the viewer dials the broadcaster ...
    bc.torrent.addPeer(addr(v)) // ... and the broadcaster the viewer, in the same tick
    const out = collect(tv.live.createReadStream())
    await poll(() => bc.live.stats.duplicateWires > 0 && tv.live.stats.duplicateWires > 0, 10_000, 'the duplicate seen on both ends')
    await sleep(3000) // WebTorrent redials a closed outgoing peer after 1 s
    const atBc = openTo(bc.torrent, v.peerId)
    const atV = openTo(tv, a.peerId)
    assert.equal(atBc.length, 1, 'one wire to the viewer at the broadcaster')
    assert.equal(atV.length, 1, 'one wire to the broadcaster at the viewer')
    const bcLower = String(a.peerId).toLowerCase() < String(v.peerId).toLowerCase()
    assert.equal(atBc[0].type, bcLower ? 'tcpOutgoing' : 'tcpIncoming', 'the broadcaster keeps the wire the lower id dialled')
    assert.equal(atV[0].type, bcLower ? 'tcpIncoming' : 'tcpOutgoing', 'the viewer keeps the same connection')

    await air(bc, data.subarray(16384 * 5))
    await bc.end()
    const got = await withTimeout(out, 30_000, 'the viewer reads to the end')
    assert.ok(got.equals(data), 'byte-identical')
  })
})
