/**
 * Decoder-level fuzz (issue #8): hostile ut_live messages built from a stream's genuine signed
 * messages, arbitrary and oversized bytes. decode never throws; nothing a viewer accepts differs
 * from what the broadcaster signed. FUZZ_DECODER_RUNS sets the number of cases (default 10 000).
 */
import assert from 'node:assert/strict'
import { fuzzDecoders } from '../support/hostile/fuzz.js'
import { figures, sampleRss } from '../support/hostile/cases.js'

describe('hostile ut_live messages, in process (fast-check)', function () {
  this.timeout(120_000)
  it('decode never throws and never lets a mutated signed message through', async () => {
    const runs = Number(process.env.FUZZ_DECODER_RUNS ?? 10_000)
    const f = await fuzzDecoders(runs)
    figures.casesTried += f.cases
    figures.acceptedForgeries += f.forgeries
    sampleRss()
    assert.equal(f.cases, runs)
    assert.equal(f.throws, 0)
    assert.equal(f.forgeries, 0, 'accepted forgeries')
    assert.ok(f.decodedOk > runs / 10, `enough inputs reach StreamState (${f.decodedOk})`)
  })
})
