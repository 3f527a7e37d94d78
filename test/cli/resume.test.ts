/**
 * A broadcaster killed with SIGKILL and started again with the same --state continues the same
 * stream: same infohash, `ready` reports the bytes already published, no gap, and the viewer that
 * stayed connected throughout ends with exactly the bytes ingested (a head signed twice for the
 * same pieces would have been caught as equivocation and made it fail).
 */
import assert from 'node:assert/strict'
import { readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { bytes } from '../support/clients.js'
import { Cli, cleanup, feed, run, tempDir } from '../support/cli.js'

const PL = 16384

describe('cli: broadcaster resume with --state', function () {
  this.timeout(120_000)
  afterEach(cleanup)

  it('SIGKILL twice mid-air; restarted from the file (resumed automatically) and from stdin (resumed by the caller at `length`)', async () => {
    const dir = tempDir()
    const state = join(dir, 'state')
    const input = join(dir, 'program.ts')
    const data = bytes(PL * 180 + 777, 31)
    writeFileSync(input, data)
    const common = ['--state', state, '--no-dht', '--json']

    const first = new Cli(['broadcast', input, '--rate', '400k', ...common])
    const r1 = await first.event('ready')
    assert.equal(r1.length, 0)
    const viewer = new Cli(['watch', r1.magnetURI, '--peer', `127.0.0.1:${String(r1.port)}`, '--no-dht', '--out', join(dir, 'out.ts'), '--json'])
    const vp = `127.0.0.1:${String((await viewer.event('ready')).port)}`
    const seen1 = await first.event('head', 60_000, (e) => e.pieces >= 40)
    await viewer.event('head', 60_000, (e) => e.pieces >= 40)
    await first.kill()
    assert.equal(first.signal, 'SIGKILL')

    // Restart 1: the same file; it resumes reading at the published length by itself.
    const second = new Cli(['broadcast', input, '--rate', '400k', '--peer', vp, ...common])
    const r2 = await second.event('ready')
    assert.equal(r2.infoHash, r1.infoHash, 'same stream')
    assert.equal(r2.magnetURI, r1.magnetURI)
    assert.equal(r2.publicKey, r1.publicKey, 'the key kept in the state folder')
    assert.equal(r2.port, r1.port, 'listening where it did before')
    assert.ok(r2.length >= seen1.bytes && r2.length % PL === 0 && r2.length < data.length, `resumed at ${String(r2.length)} (last head seen ${String(seen1.bytes)})`)
    const seen2 = await second.event('head', 60_000, (e) => e.pieces >= Math.floor(r2.length / PL) + 30)
    await second.kill()

    // Restart 2: from stdin; the caller resumes its input at `length`.
    const third = new Cli(['broadcast', '-', '--peer', vp, ...common], { stdin: 'pipe' })
    const r3 = await third.event('ready')
    assert.equal(r3.infoHash, r1.infoHash)
    assert.ok(r3.length >= seen2.bytes && r3.length % PL === 0, `resumed at ${String(r3.length)} (last head seen ${String(seen2.bytes)})`)
    await feed(third.proc.stdin!, data.subarray(r3.length), 20000, 2)
    const ended = await third.event('ended', 60_000)
    assert.equal(ended.bytes, data.length)

    await viewer.exit(0, 60_000)
    assert.ok(readFileSync(join(dir, 'out.ts')).equals(data), 'the viewer holds exactly the bytes ingested, across both restarts')

    // A viewer joining after the end, from the start, gets the same single history.
    const late = new Cli(['watch', r1.magnetURI, '--peer', `127.0.0.1:${String(r3.port)}`, '--no-dht', '--stdout', '--quiet'])
    await late.exit(0, 60_000)
    assert.ok(late.output.equals(data), 'late viewer')

    // Started again after the end: nothing more to publish; it serves the ended stream.
    await third.interrupt(0)
    const fourth = new Cli(['broadcast', input, ...common])
    const r4 = await fourth.event('ready')
    assert.equal(r4.infoHash, r1.infoHash)
    assert.equal(r4.ended, true)
    assert.equal(r4.length, data.length)
    assert.equal((await fourth.event('ended')).finalInfoHash, ended.finalInfoHash)
    // info from the live .torrent file kept in the state folder.
    const info = await run(['info', join(state, 'live.torrent'), '--peer', `127.0.0.1:${String(r4.port)}`, '--no-dht', '--json'])
    assert.equal(info.code, 0, info.describe())
    const i = JSON.parse(info.output.toString()) as Record<string, unknown>
    assert.equal(i.infoHash, r1.infoHash)
    assert.equal(i.ended, true)
    assert.equal(i.bytes, data.length)
    assert.equal(i.finalInfoHash, ended.finalInfoHash)
    await fourth.interrupt(0)
  })

  it('watch killed with SIGKILL and restarted with the same --store reuses the pieces it verified; output identical', async () => {
    const dir = tempDir()
    const store = join(dir, 'store')
    const input = join(dir, 'program.ts')
    const data = bytes(PL * 160 + 123, 33)
    writeFileSync(input, data)
    const bc = new Cli(['broadcast', input, '--rate', '300k', '--no-dht', '--json'])
    const r = await bc.event('ready')
    const peer = ['--peer', `127.0.0.1:${String(r.port)}`, '--no-dht', '--json']
    const w1 = new Cli(['watch', r.magnetURI, '--store', store, '--out', join(dir, 'out1.ts'), ...peer])
    await w1.event('head', 60_000, (e) => e.pieces >= 60)
    await w1.kill()
    assert.equal(w1.signal, 'SIGKILL')
    const w2 = new Cli(['watch', r.magnetURI, '--store', store, '--out', join(dir, 'out2.ts'), ...peer])
    const done = await w2.event('done', 90_000)
    await w2.exit(0, 30_000)
    assert.ok(readFileSync(join(dir, 'out2.ts')).equals(data), 'the restarted watch wrote exactly the broadcast')
    assert.ok(done.adopted >= 40, `it reused the pieces verified before the kill (${String(done.adopted)} adopted)`)
    await bc.interrupt(0)
  })
})
