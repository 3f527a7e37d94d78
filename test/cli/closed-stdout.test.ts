/**
 * A reader that closes our stdout early (`| head`) is not a failure, and costs nothing else:
 * `watch --out FILE --stdout` records FILE to the end (only the copy to stdout stops), and
 * `broadcast --json`, read for its first line, goes on airing and seeding (no more events).
 */
import assert from 'node:assert/strict'
import { readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { bytes } from '../support/clients.js'
import { Cli, cleanup, STACK, tempDir } from '../support/cli.js'

const PL = 16384

describe('cli: a stdout its reader closed', function () {
  this.timeout(90_000)
  afterEach(cleanup)

  it('watch --out FILE --stdout | head -c: FILE is still the whole broadcast, exit 0', async () => {
    const dir = tempDir()
    const input = join(dir, 'show.ts')
    const data = bytes(PL * 128 + 77, 91) // 2 MiB: more than a pipe holds
    writeFileSync(input, data)
    const bc = new Cli(['broadcast', input, '--no-dht', '--json'])
    const ready = await bc.event('ready')
    await bc.event('ended', 60_000)
    const rec = join(dir, 'rec.ts')
    const viewer = new Cli(['watch', ready.magnetURI, '--peer', `127.0.0.1:${String(ready.port)}`, '--no-dht', '--out', rec, '--stdout'])
    await new Promise<void>((resolve) => viewer.proc.stdout!.once('data', () => resolve()))
    viewer.proc.stdout!.destroy() // `| head -c 1000`: the reader is gone
    await viewer.exit(0, 60_000)
    assert.ok(readFileSync(rec).equals(data), `the recording is whole (${viewer.describe()})`)
    assert.doesNotMatch(viewer.stderr, STACK)
  })

  it('broadcast --json | head -n1: the broadcast goes on (a watcher gets every byte), and Ctrl-C still ends it cleanly', async () => {
    const dir = tempDir()
    const data = bytes(PL * 40 + 5, 92)
    const bc = new Cli(['broadcast', '-', '--name', 'show.ts', '--no-dht', '--json'], { stdin: 'pipe' })
    const ready = await bc.event('ready')
    bc.proc.stdout!.destroy() // the magnet was all the reader wanted
    // Written slowly: head events follow, each a write to the closed pipe.
    for (let off = 0; off < data.length; off += PL) {
      bc.proc.stdin!.write(data.subarray(off, off + PL))
      await new Promise((resolve) => setTimeout(resolve, 20))
    }
    bc.proc.stdin!.end()
    const rec = join(dir, 'rec.ts')
    const viewer = new Cli(['watch', ready.magnetURI, '--peer', `127.0.0.1:${String(ready.port)}`, '--no-dht', '--out', rec])
    await viewer.exit(0, 60_000)
    assert.ok(readFileSync(rec).equals(data), `the watcher got every byte (${viewer.describe()}; broadcaster: ${bc.describe()})`)
    await bc.interrupt(0)
    assert.doesNotMatch(bc.stderr, /EPIPE/)
  })
})
