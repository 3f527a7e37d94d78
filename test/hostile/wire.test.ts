/**
 * Hostile peers on real sockets (issue #8): an honest broadcaster and viewer (real WebTorrent
 * clients on loopback TCP) and a raw attacker; see cases.ts for what each case asserts.
 */
import * as cases from '../support/hostile/cases.js'

describe('hostile peers on the wire', function () {
  this.timeout(90_000)
  afterEach(cases.destroyAll)
  after(() => {
    const f = cases.figures
    cases.sampleRss()
    console.log(`      hostile figures: ${f.casesTried} cases tried, ${f.acceptedForgeries} accepted forgeries, ${f.corruptBytes} corrupt bytes delivered, peak RSS ${f.peakRssMiB.toFixed(0)} MiB`)
  })

  it('1. heads signed with another key: BAD_SIGNATURE, banned, reconnect refused, stream intact', cases.forgedKey)
  it('2. replayed old heads (and re-signed/re-timed copies): no signature work, stream intact', cases.replays)
  it('3. equivocation with the real key: EQUIVOCATION error with evidence, no fork accepted, others finish', cases.equivocation)
  it('4a. a hash page with a wrong hash: BAD_CHAIN, banned', () => cases.badPages('hashes'))
  it('4b. a hash page with a wrong anchor: BAD_CHAIN, banned', () => cases.badPages('anchor'))
  it('4c. a hash page for a range nobody asked: BAD_FIELD, banned', () => cases.badPages('range'))
  it('4d. a hash request never answered: the page comes from another peer after the timeout; the late answer is ignored, not banned', () => cases.badPages('silent'))
  it('6a. HAVEs for absurd indices (2^31, 2^32−1): banned; a HAVE just ahead is tolerated', () => cases.absurdIndices('have'))
  it('6b. requests for pieces that do not exist, absurd indices and lengths: banned, no data', () => cases.absurdIndices('request'))
  it('7. bitfields of the wrong length: too long banned, short tolerated', cases.badBitfield)
  it('8a. a flood of replayed heads: FLOOD ban, no signature work, bounded CPU', () => cases.flood('replay'))
  it('8b. a flood of heads and hash requests: FLOOD ban', () => cases.flood('mixed'))
  it('9. corrupt piece data from a raw peer claiming every piece: CORRUPT_PIECE, the honest source never blamed', cases.corruptData)
  it('9b. corrupt blocks inside pieces the honest source also served (64 KiB pieces): only the corrupter is banned', () => cases.corruptData(65536))
  it('9c. a subtle corrupter (real bytes, one block in three with a bit flipped) among an honest source: only it is banned', () => cases.corruptData(65536, true))
  it('9d. unsolicited PIECE messages (32 MiB): not kept, stream intact', cases.unsolicitedPieces)
  it('10. requests accepted and never answered: the honest viewer does not stall; the peer is dropped (TIMEOUT) and kept away', async () => {
    await cases.silentSeeder() // completes (its own timeout); how long it took is a figure of `npm run hostile`
  })
  it('10b. the same with 256 KiB pieces (16 blocks each)', async () => {
    await cases.silentSeeder(262144, false)
  })
  it('10c. a block that starts and never finishes: waited for once, no stall; banned at the second timeout', async function () {
    this.timeout(90_000)
    await cases.stalledBlock()
  })
  it('10d. a narrow uplink (1 400 B/s) whose block takes longer than the timeout: waited for, not banned', async function () {
    this.timeout(90_000)
    await cases.narrowUplink()
  })
  it('10e. a holder that REJECTs every request: backed off 150 ms, doubling to 1 s, not banned', async function () {
    this.timeout(90_000)
    await cases.rejectingHolder()
  })
  it('11. ut_live messages without negotiating ut_live (or with another live_v): BAD_TYPE, banned', cases.unnegotiated)
})
