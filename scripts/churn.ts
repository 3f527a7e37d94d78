/**
 * Churn, the full run (issue #8): 20 viewer processes during a two-minute broadcast; every ten
 * seconds 30 % of them are killed with SIGKILL and replaced (alternately from: 'start' and
 * from: 'live'). Prints the figures and exits 1 if any surviving viewer's output differs.
 *   node dist/scripts/churn.js [--viewers 20] [--seconds 120] [--period 10] [--kill 0.3] [--kbps 1000] [--json]
 */
import { destroyAll, tempDir } from '../test/support/clients.js'
import { runChurn } from '../test/support/churn.js'

function arg (name: string, def: number): number {
  const i = process.argv.indexOf(`--${name}`)
  return i >= 0 ? Number(process.argv[i + 1]) : def
}
const json = process.argv.includes('--json')

async function main (): Promise<void> {
  const r = await runChurn({
    viewers: arg('viewers', 20),
    seconds: arg('seconds', 120),
    periodSeconds: arg('period', 10),
    killFraction: arg('kill', 0.3),
    bytesPerSecond: arg('kbps', 1000) * 1000 / 8,
    pieceLength: arg('piece-length', 16384),
    dir: tempDir(),
    log: json ? undefined : (l) => console.log(l)
  } as Parameters<typeof runChurn>[0])
  await destroyAll()
  console.log(json ? JSON.stringify(r) : `\nspawned ${r.spawned}, killed ${r.killed}, survivors ${r.survivors}, byte-identical ${r.identical}/${r.survivors}${r.mismatches.length ? '\n' + r.mismatches.join('\n') : ''}`)
  process.exit(r.mismatches.length === 0 && r.identical === r.survivors ? 0 : 1)
}

main().catch((err) => { console.error(err); process.exit(1) })
