/**
 * One broadcaster per --state folder (lib/live/state-lock.ts): a second `broadcast` on a folder a
 * running one holds refuses at start-up (exit 1, a message naming the holder) and changes nothing;
 * the first airs on, and after it dies by SIGKILL (a stale lock: its pid is gone) the next
 * broadcaster takes the folder over and resumes the same, single history to the end.
 */
import assert from 'node:assert/strict'
import { existsSync, readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { bytes } from '../support/clients.js'
import { Cli, cleanup, STACK, tempDir } from '../support/cli.js'

const PL = 16384

describe('cli: one broadcaster per --state folder', function () {
  this.timeout(120_000)
  afterEach(cleanup)

  it('a second broadcaster on a held folder exits 1 before touching it; a dead holder\'s lock is taken over and the stream resumes', async () => {
    const dir = tempDir()
    const state = join(dir, 'state')
    const input = join(dir, 'program.ts')
    const data = bytes(PL * 120 + 555, 61)
    writeFileSync(input, data)
    const common = ['--state', state, '--no-dht', '--json']

    const first = new Cli(['broadcast', input, '--rate', '300k', ...common])
    const r1 = await first.event('ready')
    await first.event('head', 60_000, (e) => e.pieces >= 10)
    const lock = join(state, 'lock')
    assert.equal(readFileSync(lock, 'utf8').trim(), String(first.proc.pid), 'the lock names the holder')
    const portFile = readFileSync(join(state, 'cli.json'), 'utf8')

    const second = new Cli(['broadcast', input, ...common])
    await second.exit(1, 30_000)
    assert.match(second.stderr, new RegExp(`--state .*state is in use by another broadcaster \\(pid ${String(first.proc.pid)}\\): one broadcaster per state folder`))
    assert.doesNotMatch(second.stderr, STACK)
    assert.equal(second.events.find((e) => e.event === 'ready'), undefined, 'it never aired')
    assert.equal(readFileSync(lock, 'utf8').trim(), String(first.proc.pid), 'the lock is still the first one\'s')
    assert.equal(readFileSync(join(state, 'cli.json'), 'utf8'), portFile, 'its port is not remembered over the first one\'s')

    // The first airs on, undisturbed.
    const later = await first.event('head', 60_000, (e) => e.pieces >= 40)
    assert.ok(first.running)
    await first.kill()
    assert.equal(first.signal, 'SIGKILL')
    assert.equal(readFileSync(lock, 'utf8').trim(), String(first.proc.pid), 'SIGKILL leaves a stale lock')

    // Stale: its pid is gone. The next broadcaster takes it over and resumes the same stream.
    const third = new Cli(['broadcast', input, ...common])
    const r3 = await third.event('ready')
    assert.equal(r3.infoHash, r1.infoHash, 'same stream')
    assert.ok(r3.length >= later.bytes, `resumed at ${String(r3.length)}`)
    assert.equal(readFileSync(lock, 'utf8').trim(), String(third.proc.pid), 'taken over')
    const ended = await third.event('ended', 60_000)
    assert.equal(ended.bytes, data.length)
    const late = new Cli(['watch', r1.magnetURI, '--peer', `127.0.0.1:${String(r3.port)}`, '--no-dht', '--stdout', '--quiet'])
    await late.exit(0, 60_000)
    assert.ok(late.output.equals(data), 'one history: a viewer from the start gets exactly the input')
    await third.interrupt(0)
    assert.ok(!existsSync(lock), 'released on exit')
  })
})
