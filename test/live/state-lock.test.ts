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

/**
 * One contender: waits for the instant `at`, takes the lock, prints won or busy, and holds it until
 * its stdin ends (the test ends it once every contender has answered: one that started late must
 * find the winner still holding, not a folder it has released).
 */
const CONTENDER = `
const { lockStateFolder } = await import(process.argv[1])
const [dir, at] = [process.argv[2], Number(process.argv[3])]
while (Date.now() < at) {}
let won = false
try { lockStateFolder(dir); won = true } catch (err) { if (err.code !== 'STATE_BUSY') throw err }
process.stdout.write(won ? 'won' : 'busy')
process.stdin.resume()
process.stdin.on('end', () => process.exit(0))
`

interface Contender { answer: Promise<string>, exited: Promise<void>, release: () => void }

function contend (dir: string, at: number): Contender {
  const p = spawn(process.execPath, ['--input-type=module', '-e', CONTENDER, LOCK, dir, String(at)], { stdio: ['pipe', 'pipe', 'inherit'] })
  const exited = new Promise<void>((resolve, reject) => {
    p.once('error', reject)
    p.once('exit', (code) => code === 0 ? resolve() : reject(new Error(`contender exited ${String(code)}`)))
  })
  const answer = new Promise<string>((resolve, reject) => {
    let out = ''
    p.stdout!.on('data', (b: Buffer) => { out += b.toString(); if (out === 'won' || out === 'busy') resolve(out) })
    exited.then(() => reject(new Error('contender exited without answering')), reject)
  })
  return { answer, exited, release: () => p.stdin!.end() }
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
      const cs = Array.from({ length: 6 }, () => contend(dir, at))
      const results = await Promise.all(cs.map((c) => c.answer))
      for (const c of cs) c.release()
      await Promise.all(cs.map((c) => c.exited))
      assert.equal(results.filter((r) => r === 'won').length, 1, `round ${round}: ${results.join(' ')}`)
      assert.equal(results.filter((r) => r === 'busy').length, 5)
      assert.deepEqual(readdirSync(dir), [], 'the winner released the lock at its exit, and no stale lock was left aside')
    }
  })
})
