/** The broadcaster's goodbye: after the end it can wait until every piece has reached another peer. */
import assert from 'node:assert/strict'
import { broadcast } from '../../lib/index.js'
import { air, bytes, collect, destroyAll, join, makeClient, tempDir, withTimeout } from '../helpers/swarm.js'

const PL = 16384

describe("the broadcaster's goodbye (whenReplicated)", function () {
  this.timeout(90_000)
  afterEach(destroyAll)

  it('resolves complete once a viewer holds every piece; the broadcaster leaves and the viewer still finishes byte-identical', async () => {
    const source = await makeClient()
    const bc = await broadcast(source, { name: 'show.bin', pieceLength: PL, path: tempDir() })
    const v = await makeClient()
    const t = join(v, bc.magnetURI, [source])
    const out = collect(t.live.createReadStream())
    const data = bytes(PL * 60 + 1234, 11)
    await air(bc, data)
    const progress: number[] = []
    bc.live.on('replication', (r: { missing: number }) => progress.push(r.missing))
    await bc.end()
    const r = await bc.whenReplicated({ timeout: 60_000 })
    assert.deepEqual(r, { complete: true, missing: 0 })
    assert.equal(bc.piecesOnlyHere, 0)
    assert.ok(progress.length > 0 && progress[progress.length - 1] === 0, JSON.stringify(progress))
    await new Promise<void>((resolve) => source.destroy(() => resolve())) // the broadcaster is gone
    assert.equal(bc.piecesOnlyHere, 0, 'pieces that reached a peer stay counted')
    assert.ok((await withTimeout(out, 30_000, 'viewer output after the broadcaster left')).equals(data))
  })

  it('with nobody to take the pieces, gives up after the timeout and says how many exist only here', async () => {
    const source = await makeClient()
    const bc = await broadcast(source, { name: 'alone.bin', pieceLength: PL, path: tempDir() })
    await air(bc, bytes(PL * 5 + 10, 3))
    await bc.end()
    const r = await bc.whenReplicated({ timeout: 200 })
    assert.deepEqual(r, { complete: false, missing: 6 })
  })
})
