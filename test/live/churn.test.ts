import assert from 'node:assert/strict'
import { destroyAll, tempDir } from '../support/clients.js'
import { runChurn } from '../support/churn.js'

describe('churn (viewer processes killed with SIGKILL and replaced while the program airs)', function () {
  this.timeout(240_000)
  afterEach(destroyAll)

  it('every viewer still running at the end holds exactly the broadcast, or its suffix', async () => {
    // Short version; `npm run churn` runs the 20 viewers, 2 minutes, 30 % every 10 s.
    const r = await runChurn({ viewers: 8, seconds: 24, periodSeconds: 6, killFraction: 0.3, bytesPerSecond: 64 * 1024, pieceLength: 16384, dir: tempDir() })
    assert.ok(r.killed >= 1, `viewers were killed (${r.killed}; how many depends on the machine's pace: \`npm run churn\` prints it)`)
    assert.deepEqual(r.mismatches, [])
    assert.equal(r.identical, r.survivors)
    assert.ok(r.survivors >= 8)
  })
})
