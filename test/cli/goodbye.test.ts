/**
 * Ctrl-C on a broadcaster without --state: it publishes the end and stays until every piece has
 * reached another peer (the last, short piece only ever existed on the broadcaster), so a viewer is
 * never stranded at "200/201 pieces". A second Ctrl-C leaves at once.
 */
import assert from 'node:assert/strict'
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { bytes } from '../support/clients.js'
import { Cli, cleanup, tempDir } from '../support/cli.js'

const PL = 16384

describe("cli: the broadcaster's goodbye at Ctrl-C", function () {
  this.timeout(90_000)
  afterEach(cleanup)

  it('Ctrl-C mid-stream: the end is published, the broadcaster waits for the swarm, the viewer gets every byte', async () => {
    const dir = tempDir()
    const bc = new Cli(['broadcast', '-', '--name', 'show.ts', '--no-dht', '--json'], { stdin: 'pipe' })
    const ready = await bc.event('ready')
    const viewer = new Cli(['watch', ready.magnetURI, '--peer', `127.0.0.1:${String(ready.port)}`, '--no-dht', '--out', join(dir, 'out.ts'), '--json'])
    const data = bytes(PL * 40 + 5000, 21) // the last 5000 bytes wait for the end in a partial piece
    bc.proc.stdin!.write(data)
    await viewer.event('head', 60_000, (e) => e.pieces >= 40)
    bc.proc.kill('SIGINT')
    const ended = await bc.event('ended', 30_000)
    assert.equal(ended.bytes, data.length)
    assert.equal(ended.pieces, 41)
    await bc.exit(0, 60_000)
    assert.ok(bc.events.some((e) => e.event === 'goodbye' && e.waiting === true), bc.describe())
    assert.ok(bc.events.some((e) => e.event === 'goodbye' && e.complete === true), bc.describe())
    assert.match(bc.stderr, /waiting up to 30 s for the swarm to hold the \d+ pieces that exist only here/)
    assert.match(bc.stderr, /no piece exists only here: leaving/)
    await viewer.exit(0, 60_000)
    assert.ok(readFileSync(join(dir, 'out.ts')).equals(data), 'the viewer has every byte, the last piece included')
  })

  it('a second Ctrl-C leaves at once while it waits for the swarm', async () => {
    const bc = new Cli(['broadcast', '-', '--name', 'alone.ts', '--no-dht', '--grace', '600', '--json'], { stdin: 'pipe' })
    await bc.event('ready')
    bc.proc.stdin!.write(bytes(PL * 3 + 10, 5))
    await bc.event('head', 30_000, (e) => e.pieces >= 3)
    bc.proc.kill('SIGINT')
    const waiting = await bc.event('goodbye', 30_000)
    assert.equal(waiting.waiting, true)
    assert.equal(waiting.missing, 4)
    for (let k = 0; k < 100 && !/waiting up to 600 s for the swarm/.test(bc.stderr); k++) await new Promise((resolve) => setTimeout(resolve, 50)) // stderr may trail stdout
    assert.match(bc.stderr, /waiting up to 600 s for the swarm/)
    bc.proc.kill('SIGINT')
    await bc.exit(130, 10_000)
  })

  it('--state: SIGTERM after the input ended waits too; when the grace is over it leaves with exit 0 and a warning', async () => {
    const state = join(tempDir(), 'state')
    const bc = new Cli(['broadcast', '-', '--name', 'kept.ts', '--state', state, '--no-dht', '--grace', '1', '--json'], { stdin: 'pipe' })
    await bc.event('ready')
    bc.proc.stdin!.end(bytes(PL * 2 + 3, 8))
    const ended = await bc.event('ended', 30_000)
    assert.equal(ended.pieces, 3)
    bc.proc.kill('SIGTERM')
    const waiting = await bc.event('goodbye', 30_000)
    assert.deepEqual([waiting.waiting, waiting.missing, waiting.grace], [true, 3, 1])
    await bc.exit(0, 30_000)
    assert.ok(bc.events.some((e) => e.event === 'goodbye' && e.waiting === false && e.complete === false && e.missing === 3), bc.describe())
    assert.match(bc.stderr, /warning: leaving with 3 pieces no other peer holds \(the grace of 1 s is over\)/)
  })
})
