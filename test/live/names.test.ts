/**
 * A live torrent's name comes from whoever made the torrent. A name that would resolve outside the
 * download folder (or misbehave on some OS) is refused by the receiver before a byte is stored:
 * from a .torrent file, from a magnet (metadata from a peer), and by the store itself.
 */
import assert from 'node:assert/strict'
import { existsSync, mkdirSync, readdirSync } from 'node:fs'
import { join } from 'node:path'
import bencode from 'bencode'
import FileStore from '../../lib/store/file-store.js'
import { SIGNATURE_METHOD, PROTOCOL_VERSION, infoHashOf, pureHashes, toHex } from '../../lib/protocol/index.js'
import { addr, destroyAll, makeClient, tempDir, withTimeout } from '../support/clients.js'

/* eslint-disable @typescript-eslint/no-explicit-any */

/** A live .torrent (valid in every way but its name) and its infohash. */
function hostileTorrent (name: string, extra: Record<string, unknown> = {}): { torrentFile: Uint8Array, infoHash: string } {
  const info = { length: 0, live: { nonce: new Uint8Array(16).fill(7), pk: new Uint8Array(32).fill(9), sig: SIGNATURE_METHOD, v: PROTOCOL_VERSION }, name, 'piece length': 16384, pieces: new Uint8Array(0), ...extra }
  return { torrentFile: bencode.encode({ info }), infoHash: toHex(infoHashOf(pureHashes, bencode.encode(info))) }
}

function rejected (t: any): Promise<any> {
  return withTimeout(new Promise((resolve) => {
    t.live.once('error', resolve)
    t.live.once('failed', resolve)
  }), 30_000, 'the live torrent is rejected')
}

describe('unsafe names in a live info dict', function () {
  this.timeout(60_000)
  afterEach(destroyAll)

  it('a .torrent whose name climbs out of the download folder is rejected, and nothing is written outside it', async () => {
    const root = tempDir()
    const path = join(root, 'downloads')
    const outside = join(root, 'outside')
    const v = await makeClient()
    // The store keeps <path>/<infohash>/<name>: two levels up is <root>.
    const { torrentFile, infoHash } = hostileTorrent('../../outside/x')
    const t = v.add(torrentFile, { live: true, path })
    const err = await rejected(t)
    assert.equal(err.code, 'NOT_LIVE')
    assert.match(err.message, /not a safe file name/)
    assert.ok(!existsSync(outside), 'nothing outside the download folder')
    assert.equal(infoHash.length, 40)
  })

  it('the same name arriving by magnet (metadata from a peer) is rejected; nothing written outside', async () => {
    const root = tempDir()
    const outside = join(root, 'outside')
    const { torrentFile, infoHash } = hostileTorrent('../../../outside/x') // from <root>/a/b/<infohash>/
    const seeder = await makeClient(false) // plain WebTorrent, as an attacker's would be
    const st = seeder.add(torrentFile, { path: join(root, 'seeder') })
    st.on('error', () => {})
    const v = await makeClient()
    const t = v.add(`magnet:?xt=urn:btih:${infoHash}&dn=show.ts`, { live: true, path: join(root, 'a', 'b') })
    t.once('infoHash', () => t.addPeer(addr(seeder)))
    const err = await rejected(t)
    assert.equal(err.code, 'NOT_LIVE')
    assert.ok(!existsSync(outside), `nothing outside the download folder (${readdirSync(root).join(', ')})`)
  })

  it('a safe name beside a hostile name.utf-8 (which WebTorrent reads first) is rejected by magnet; nothing written outside', async () => {
    const root = tempDir()
    const outside = join(root, 'outside')
    const { torrentFile, infoHash } = hostileTorrent('show.ts', { 'name.utf-8': '../../../outside/x' })
    const seeder = await makeClient(false)
    const st = seeder.add(torrentFile, { path: join(root, 'seeder') })
    st.on('error', () => {})
    const v = await makeClient()
    const t = v.add(`magnet:?xt=urn:btih:${infoHash}&dn=show.ts`, { live: true, path: join(root, 'a', 'b') })
    t.once('infoHash', () => t.addPeer(addr(seeder)))
    const err = await rejected(t)
    assert.equal(err.code, 'NOT_LIVE')
    assert.match(err.message, /name\.utf-8/)
    assert.ok(!existsSync(outside), `nothing outside the download folder (${readdirSync(root).join(', ')})`)
  })

  it('the file store refuses an unsafe name: every put fails and nothing is created', async () => {
    const root = tempDir()
    const path = join(root, 'downloads')
    mkdirSync(path)
    for (const name of ['../../x', '../x', 'a/../../x', 'C:x', 'CON', 'x.']) {
      const store = new FileStore(16384, { path, torrent: { name, infoHash: 'ab'.repeat(20) } })
      const err = await new Promise<Error | null>((resolve) => store.put(0, new Uint8Array(16384).fill(1), (e) => resolve(e)))
      assert.ok(err instanceof Error && /not a safe file name/.test(err.message), `${name}: ${String(err)}`)
      await new Promise<void>((resolve) => store.destroy(() => resolve()))
    }
    assert.deepEqual(readdirSync(root), ['downloads'])
    assert.deepEqual(readdirSync(path), [])
  })
})
