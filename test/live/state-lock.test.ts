/**
 * The state folder's lock under a race (lib/live/state-lock.ts): several broadcasters started at
 * the same instant on a folder whose lock is stale (its holder died) — a supervisor restarting one
 * while a person starts another — and exactly one of them gets the folder, every time. Real
 * processes, real files: two that both got in would sign different heads with one key.
 */
import assert from 'node:assert/strict'
import { spawn, spawnSync } from 'node:child_process'
import { mkdirSync, readdirSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { tempDir } from '../support/clients.js'

const LOCK = new URL('../../lib/live/state-lock.js', import.meta.url).href

/** One contender: waits for the instant `at`, then takes the lock; prints won or busy, holds it `holdMs`. */
const CONTENDER = `
const { lockStateFolder } = await import(process.argv[1])
const [dir, at, holdMs] = [process.argv[2], Number(process.argv[3]), Number(process.argv[4])]
while (Date.now() < at) {}
let won = false
try { lockStateFolder(dir); won = true } catch (err) { if (err.code !== 'STATE_BUSY') throw err }
process.stdout.write(won ? 'won' : 'busy')
setTimeout(() => {}, holdMs)
`

function contend (dir: string, at: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const p = spawn(process.execPath, ['--input-type=module', '-e', CONTENDER, LOCK, dir, String(at), '500'], { stdio: ['ignore', 'pipe', 'inherit'] })
    let out = ''
    p.stdout.on('data', (b: Buffer) => { out += b.toString() })
    p.once('error', reject)
    p.once('exit', (code) => code === 0 ? resolve(out) : reject(new Error(`contender exited ${String(code)}`)))
  })
}

describe('state folder lock: a stale lock taken over at once by several', function () {
  this.timeout(120_000)

  it('exactly one of six broadcasters started at the same instant gets a folder whose holder died, in every round', async () => {
    // A pid that is surely gone: a process that has exited.
    const dead = spawnSync(process.execPath, ['-e', '0']).pid!
    for (let round = 0; round < 8; round++) {
      const dir = join(tempDir(), 'state')
      mkdirSync(dir)
      writeFileSync(join(dir, 'lock'), `${dead}\n`)
      const at = Date.now() + 700 // every contender is started and spinning by then
      const results = await Promise.all(Array.from({ length: 6 }, () => contend(dir, at)))
      assert.equal(results.filter((r) => r === 'won').length, 1, `round ${round}: ${results.join(' ')}`)
      assert.equal(results.filter((r) => r === 'busy').length, 5)
      assert.deepEqual(readdirSync(dir), [], 'the winner released the lock at its exit, and no stale lock was left aside')
    }
  })
})
