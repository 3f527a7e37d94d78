/**
 * Over-the-wire fuzz (issue #8): hostile ut_live messages from fresh raw peers at a viewer and at
 * the broadcaster during a broadcast. FUZZ_RUNS sets the number of messages (default 300).
 */
import assert from 'node:assert/strict'
import * as cases from '../support/hostile/cases.js'

describe('hostile ut_live messages over real sockets (fast-check)', function () {
  this.timeout(120_000)
  afterEach(cases.destroyAll)
  it('no crash, no forgery, not one wrong byte; malformed senders are banned', async () => {
    const runs = Number(process.env.FUZZ_RUNS ?? 300)
    const r = await cases.wireFuzz(runs)
    assert.equal(r.cases, runs)
    assert.ok(r.bans > runs / 2, `most hostile senders are banned (${r.bans} of ${runs})`)
    assert.equal(cases.figures.acceptedForgeries, 0)
    assert.equal(cases.figures.corruptBytes, 0)
  })
})
