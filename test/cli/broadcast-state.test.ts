/**
 * The broadcaster's state folder (`broadcast(client, { state })`, behind `broadcast --state`), in
 * process: a restart after a torn write (hashes and bytes on disk beyond the persisted head, as a
 * crash between the write-ahead steps leaves them) discards them, re-applies the persisted head and
 * continues the same stream; a viewer connected across the restart sees one history.
 */
import assert from 'node:assert/strict'
import { appendFileSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs'
import { join as joinPath } from 'node:path'
import { broadcast, createKeyPair } from '../../lib/index.js'
import { addr, air, bytes, collect, destroyAll, join, makeClient, tempDir, withTimeout } from '../support/clients.js'

const PL = 16384

describe('broadcast state folder (resume)', function () {
  this.timeout(60_000)
  afterEach(destroyAll)

  it('after a torn write, a restart drops what no head covers and continues the same stream', async () => {
    const state = joinPath(tempDir(), 'state')
    const data = bytes(PL * 50 + 321, 41)
    const c1 = await makeClient()
    const bc1 = await broadcast(c1, { name: 'torn.ts', pieceLength: PL, state })
    // One broadcaster per folder: a second one, even in this process, is refused while bc1 holds it.
    await assert.rejects(broadcast(await makeClient(), { name: 'torn.ts', pieceLength: PL, state }), (err: { code?: string }) => err.code === 'STATE_BUSY')
    const v = await makeClient()
    const t = join(v, bc1.magnetURI, [c1])
    const out = collect(t.live.createReadStream())
    let evidence = 0
    t.live.on('error', () => { evidence++ })
    const cut = PL * 20 + 5000
    await air(bc1, data.subarray(0, cut), { pauseMs: 1 })
    assert.equal(bc1.length, PL * 20, 'only full pieces are published')
    await withTimeout((async () => { while (t.live.count < 20) await new Promise((resolve) => t.live.once('head', resolve)) })(), 20_000, 'viewer at 20 pieces')
    await new Promise<void>((resolve) => c1.destroy(() => resolve()))
    bc1.close()

    // A crash in the middle of the next publish: its bytes and hashes on disk, its head not.
    const dataDir = joinPath(state, 'data', bc1.infoHash) // the store keeps <path>/<infoHash>/<name>
    const file = joinPath(dataDir, readdirSync(dataDir)[0]!)
    appendFileSync(file, bytes(PL * 2, 99))
    appendFileSync(joinPath(state, 'hashes'), bytes(40, 98))

    const c2 = await makeClient()
    const bc2 = await broadcast(c2, { name: 'ignored', pieceLength: 1024, state })
    assert.equal(bc2.infoHash, bc1.infoHash, 'same stream')
    assert.equal(bc2.name, 'torn.ts')
    assert.equal(bc2.length, PL * 20)
    assert.equal(bc2.resumedLength, PL * 20)
    assert.equal(bc2.live.count, 20)
    assert.equal(statSync(joinPath(state, 'hashes')).size, 20 * 20, 'hashes beyond the head dropped')
    assert.equal(statSync(file).size, PL * 20, 'bytes beyond the head dropped')
    t.addPeer(addr(c2))
    // The caller resumes its input at `length`; the remainder of the lost piece is aired again.
    await air(bc2, data.subarray(bc2.length), { pauseMs: 1 })
    await bc2.end()
    assert.ok((await withTimeout(out, 30_000, 'viewer across the restart')).equals(data))
    assert.equal(evidence, 0)
    assert.equal(t.live.evidence.length, 0)
    bc2.close()

    // The stored key is the stream's: another key is refused.
    const c3 = await makeClient()
    await assert.rejects(broadcast(c3, { name: 'x', state, keyPair: await createKeyPair() }), (err: { code?: string }) => err.code === 'KEY_MISMATCH')
  })

  it('a folder with other files and no stream in it is refused (its files untouched): `state: "."` is a typo, not a state; one that holds a stream resumes whatever lies beside it', async () => {
    const dir = tempDir()
    writeFileSync(joinPath(dir, 'notes.txt'), 'my notes\n')
    const c = await makeClient()
    await assert.rejects(broadcast(c, { name: 'x.ts', state: dir }), (err: { code?: string, message?: string }) => err.code === 'BAD_STATE' && /notes\.txt/.test(err.message ?? ''))
    assert.deepEqual(readdirSync(dir), ['notes.txt'], 'nothing written there')
    assert.equal(readFileSync(joinPath(dir, 'notes.txt'), 'utf8'), 'my notes\n')
    // A folder that holds a stream is a state, whatever was put beside it (a .torrent, .DS_Store).
    const state = joinPath(tempDir(), 'state')
    const bc1 = await broadcast(c, { name: 'y.ts', pieceLength: PL, state })
    await air(bc1, bytes(PL * 2, 43))
    bc1.close()
    await new Promise<void>((resolve) => bc1.torrent.destroy(() => resolve()))
    writeFileSync(joinPath(state, 'final.torrent'), 'x')
    writeFileSync(joinPath(state, '.DS_Store'), 'x')
    const bc2 = await broadcast(await makeClient(), { name: 'y.ts', state })
    assert.equal(bc2.resumedLength, PL * 2)
    bc2.close()
  })
})
