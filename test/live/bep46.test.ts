import assert from 'node:assert/strict'
import DHT from 'bittorrent-dht'
import WebTorrent from 'webtorrent'
import { broadcast, createKeyPair, enableLive } from '../../lib/index.js'
import { dhtVerify, parseStreamKeyLink, publishPointer, resolvePointer, resolveStreamKeyLink, streamKeyLink } from '../../lib/live/bep46.js'
import { toHex } from '../../lib/protocol/bytes.js'
import { CLIENT_OPTS, air, bytes, collect, tempDir, withTimeout } from '../support/clients.js'

/* eslint-disable @typescript-eslint/no-explicit-any */

describe('BEP 46: the stream key points to the stream in a local DHT (loopback)', function () {
  this.timeout(90_000)
  const nodes: any[] = []
  const clients: any[] = []

  before(async () => {
    for (let i = 0; i < 4; i++) {
      const d = new DHT({ bootstrap: false, verify: dhtVerify })
      await new Promise<void>((resolve) => d.listen(0, '127.0.0.1', () => resolve()))
      nodes.push(d)
    }
    for (const a of nodes) for (const b of nodes) if (a !== b) a.addNode({ host: '127.0.0.1', port: b.address().port })
  })
  after(async () => {
    await Promise.all(clients.splice(0).map((c) => new Promise<void>((resolve) => c.destroy(() => resolve()))))
    await Promise.all(nodes.splice(0).map((d) => new Promise<void>((resolve) => d.destroy(() => resolve()))))
  })

  async function dhtClient (): Promise<any> {
    const bootstrap = nodes.map((d) => `127.0.0.1:${d.address().port}`)
    const c = enableLive(new WebTorrent({ ...CLIENT_OPTS, dht: { bootstrap, verify: dhtVerify } }))
    clients.push(c)
    await new Promise((resolve) => c.dht.ready ? resolve(null) : c.dht.once('ready', resolve))
    return c
  }

  it('parses and builds magnet:?xs=urn:btpk: links', async () => {
    const { publicKey } = await createKeyPair()
    const link = streamKeyLink(publicKey, 'my show')
    assert.equal(toHex(parseStreamKeyLink(link)!), toHex(publicKey))
    assert.equal(parseStreamKeyLink('magnet:?xt=urn:btih:' + '0'.repeat(40)), null)
    assert.equal(parseStreamKeyLink('magnet:?xs=urn:btpk:abcd'), null)
  })

  it('points to the live infohash while airing and to the final infohash after; a viewer finds the stream by key alone', async () => {
    const bcClient = await dhtClient()
    const bc = await broadcast(bcClient, { name: 'dht-show.bin', pieceLength: 16384, path: tempDir() })
    assert.ok(bc.pointer, 'a broadcaster with a DHT keeps a pointer')
    assert.ok(await withTimeout(bc.pointer.published, 30_000, 'live pointer put') >= 1, 'DHT nodes stored the item')

    const viewerClient = await dhtClient()
    const link = streamKeyLink(bc.keyPair.publicKey, 'dht-show.bin')
    const r = await withTimeout(resolveStreamKeyLink(viewerClient, link), 30_000, 'resolve live')
    assert.equal(r.infoHash, bc.infoHash)
    assert.equal(r.live, true)

    // Peers are found through the same DHT (get_peers/announce_peer on loopback): no addPeer.
    const t = viewerClient.add(r.magnetURI, { live: true, path: tempDir() })
    const out = collect(t.live.createReadStream())
    const data = bytes(16384 * 12 + 5, 21)
    await withTimeout(new Promise((resolve) => t.live.once('ready', resolve)), 60_000, 'viewer found the broadcaster through the DHT')
    await air(bc, data, { pauseMs: 2 })
    const fin = await bc.end()
    assert.ok((await withTimeout(out, 60_000, 'viewer bytes')).equals(data))

    await withTimeout(bc.pointer.published, 30_000, 'final pointer put')
    const p = await withTimeout(resolvePointer(viewerClient.dht, bc.keyPair.publicKey), 30_000, 'resolve final')
    assert.equal(p?.infoHash, fin.infoHash, 'after the end the key points to the final torrent')
    assert.equal(p?.live, false)
  })

  it('an item under the key signed by anyone else is not stored or returned', async () => {
    const c = await dhtClient()
    const owner = await createKeyPair()
    const other = await createKeyPair()
    await publishPointer(c.dht, owner, 'aa'.repeat(20), true, 1000)
    // A forger signs with its own secret key but claims the owner's public key.
    const forged = { publicKey: owner.publicKey, secretKey: other.secretKey }
    await publishPointer(c.dht, forged, 'bb'.repeat(20), true, 2000).catch(() => 0)
    const p = await resolvePointer(c.dht, owner.publicKey)
    assert.equal(p?.infoHash, 'aa'.repeat(20), 'the forged, newer item was rejected')
    assert.equal(p?.seq, 1000)
  })
})
