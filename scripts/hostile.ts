/**
 * The long hostile-peers run (issue #8): `npm run hostile` (after a build).
 *
 *   - the decoder-level fuzz: FUZZ_DECODER_RUNS hostile ut_live messages (default 20 000) through
 *     decode and StreamState;
 *   - the over-the-wire fuzz: FUZZ_RUNS messages (default 2 000) from fresh raw peers;
 *   - every wire case of test/hostile, HOSTILE_REPEAT times (default 3);
 *   - HOSTILE_CLAIMERS peers (default 20) claiming 2^26 pieces with a bitfield to match, unproven;
 *   - the ban list under HOSTILE_BAN_PEERS fresh peer ids (default 6 000).
 *
 * Prints: cases tried, accepted forgeries (must be 0), corrupt bytes delivered (must be 0), bans by
 * code, peak RSS. Exits 1 if any case failed or either figure is not 0.
 */
import * as cases from '../test/support/hostile/cases.js'
import { fuzzDecoders } from '../test/support/hostile/fuzz.js'

const env = (name: string, def: number): number => { const v = Number(process.env[name]); return Number.isFinite(v) && v >= 0 ? v : def }
const DECODER_RUNS = env('FUZZ_DECODER_RUNS', 20_000)
const WIRE_RUNS = env('FUZZ_RUNS', 2000)
const REPEAT = env('HOSTILE_REPEAT', 3)
const BAN_PEERS = env('HOSTILE_BAN_PEERS', 6000)

const failures: string[] = []
const t0 = Date.now()
const sampler = setInterval(cases.sampleRss, 250)

async function run (name: string, f: () => Promise<unknown>): Promise<void> {
  const t = Date.now()
  try {
    const r = await f()
    console.log(`  ok   ${name} (${Date.now() - t} ms)${r !== undefined ? ` ${JSON.stringify(r)}` : ''}`)
  } catch (err) {
    failures.push(`${name}: ${(err as Error).message}`)
    console.log(`  FAIL ${name}: ${(err as Error).message}`)
  } finally {
    await cases.destroyAll()
    cases.sampleRss()
  }
}

const wireCases: Array<[string, () => Promise<unknown>]> = [
  ['1 heads signed with another key', cases.forgedKey],
  ['2 replayed heads', cases.replays],
  ['3 equivocation with the real key', cases.equivocation],
  ['4a page with a wrong hash', () => cases.badPages('hashes')],
  ['4b page with a wrong anchor', () => cases.badPages('anchor')],
  ['4c page for a range nobody asked', () => cases.badPages('range')],
  ['4d hash request never answered', () => cases.badPages('silent')],
  ['6a HAVE of absurd indices', () => cases.absurdIndices('have')],
  ['6b REQUEST of absurd indices', () => cases.absurdIndices('request')],
  ['7 bitfields of the wrong length', cases.badBitfield],
  ['8a flood of replayed heads', () => cases.flood('replay')],
  ['8b flood of heads and hash requests', () => cases.flood('mixed')],
  ['9 corrupt piece data', () => cases.corruptData()],
  ['9b corrupt blocks shared with the honest source', () => cases.corruptData(65536)],
  ['9c subtle corrupter', () => cases.corruptData(65536, true)],
  ['9d unsolicited PIECE messages', cases.unsolicitedPieces],
  ['10 requests never answered', () => cases.silentSeeder()],
  ['10b requests never answered, 256 KiB pieces', () => cases.silentSeeder(262144, false)],
  ['11 ut_live messages not negotiated', cases.unnegotiated]
]

console.log(`hostile peers: ${DECODER_RUNS} decoder cases, ${WIRE_RUNS} wire fuzz messages, wire cases × ${REPEAT}, ${BAN_PEERS} banned peer ids`)
await run(`decoder fuzz (${DECODER_RUNS})`, async () => {
  const f = await fuzzDecoders(DECODER_RUNS)
  cases.figures.casesTried += f.cases
  cases.figures.acceptedForgeries += f.forgeries
  return f
})
await run(`wire fuzz (${WIRE_RUNS})`, () => cases.wireFuzz(WIRE_RUNS, { concurrency: 16 }))
for (let r = 1; r <= REPEAT; r++) {
  for (const [name, f] of wireCases) await run(`${name} [${r}/${REPEAT}]`, f)
}
const CLAIMERS = env('HOSTILE_CLAIMERS', 20)
if (CLAIMERS > 0) await run(`${CLAIMERS} peers claiming 2^26 pieces with an 8 MiB bitfield`, () => cases.inflatedClaims(CLAIMERS))
if (BAN_PEERS > 0) await run(`ban list under ${BAN_PEERS} fresh peer ids`, () => cases.banListBound(BAN_PEERS))
clearInterval(sampler)
cases.sampleRss()

const f = cases.figures
console.log('\nfigures')
console.log(`  cases tried              ${f.casesTried}`)
console.log(`  accepted forgeries       ${f.acceptedForgeries}`)
console.log(`  corrupt bytes delivered  ${f.corruptBytes}`)
console.log(`  bans by code             ${Object.entries(f.bans).map(([k, v]) => `${k} ${v}`).join(', ')}`)
console.log(`  peak RSS                 ${f.peakRssMiB.toFixed(0)} MiB`)
console.log(`  CPU for a 5000-message flood ${f.floodCpuMs} ms`)
console.log(`  done behind a silent peer ${f.silentSeederMs} ms (the most seen)`)
console.log(`  duration                 ${((Date.now() - t0) / 1000).toFixed(1)} s`)
console.log(`  failed cases             ${failures.length}`)
const bad = failures.length > 0 || f.acceptedForgeries > 0 || f.corruptBytes > 0
process.exit(bad ? 1 : 0)
