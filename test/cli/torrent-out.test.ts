/**
 * broadcast --torrent-out in a folder that does not exist is refused at start-up (exit 1, before
 * anything airs); a folder that goes away while it airs makes the write at the end fail, which is
 * reported without cutting the end short: the final magnet, the seeding and the goodbye follow,
 * and the exit is 1.
 */
import assert from 'node:assert/strict'
import { mkdirSync, rmdirSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { bytes } from '../support/clients.js'
import { Cli, cleanup, run, STACK, tempDir } from '../support/cli.js'

const PL = 16384

describe('cli: broadcast --torrent-out that cannot be written', function () {
  this.timeout(60_000)
  afterEach(cleanup)

  it('a missing folder is refused at start-up, before broadcasting', async () => {
    const dir = tempDir()
    const input = join(dir, 'show.ts')
    writeFileSync(input, bytes(PL * 3, 91))
    const out = join(dir, 'missing', 'final.torrent')
    const r = await run(['broadcast', input, '--torrent-out', out, '--no-dht'])
    assert.equal(r.code, 1, r.describe())
    assert.equal(r.stderr, `webtorrent-live broadcast: --torrent-out ${out}: no such folder ${join(dir, 'missing')}\n`, 'one line, before anything aired')
    assert.doesNotMatch(r.stderr, STACK)
  })

  it('a write that fails at the end is reported; the final magnet, seeding and goodbye still follow (exit 1)', async () => {
    const dir = tempDir()
    const sub = join(dir, 'out')
    mkdirSync(sub)
    const bc = new Cli(['broadcast', '-', '--name', 'show.ts', '--torrent-out', join(sub, 'final.torrent'), '--grace', '0', '--no-dht', '--json'], { stdin: 'pipe' })
    await bc.event('ready')
    rmdirSync(sub) // gone while it airs
    bc.proc.stdin!.end(bytes(PL * 3 + 7, 92))
    const ended = await bc.until('ended', () => true, 30_000)
    assert.equal(ended.bytes, PL * 3 + 7)
    assert.equal(ended.torrentFile, undefined)
    assert.match(String(bc.last('error')?.message), /^--torrent-out: cannot write .*final\.torrent: .*no such file or directory.*; the final torrent is still served/)
    const deadline = Date.now() + 10_000
    while (!/seeding; Ctrl-C to stop/.test(bc.stderr) && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 100))
    assert.match(bc.stderr, /final magnet: magnet:\?xt=urn:btih:/)
    assert.match(bc.stderr, /seeding; Ctrl-C to stop/)
    assert.ok(bc.running, 'still seeding')
    await bc.interrupt(1)
    assert.ok(bc.events.some((e) => e.event === 'goodbye'), 'the goodbye ran')
  })
})
