/**
 * watch --skip-behind with a real slow consumer: a reader of its stdout that stops reading while an
 * endless stream (broadcast --window) airs on. When it reads again, watch has fallen behind the
 * window and skips: it says so on stderr for each gap (pieces and bytes), its done line gives the
 * total, and the output is exactly the broadcast minus those gaps.
 */
import assert from 'node:assert/strict'
import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { bytes } from '../support/clients.js'
import { Cli, cleanup, tempDir } from '../support/cli.js'

const PL = 16384
const SKIP = /fell behind the sliding window: skipped pieces (\d+)…(\d+) \((\d+) bytes\); going on from piece (\d+)/g

describe('cli: watch --skip-behind', function () {
  this.timeout(90_000)
  afterEach(cleanup)

  it('a consumer that stalls past the window: each skip is reported, done gives the total, the output is the broadcast minus the gaps', async () => {
    const dir = tempDir()
    const input = join(dir, 'endless.ts')
    const data = bytes(PL * 400 + 321, 81)
    writeFileSync(input, data)
    // --grace 0: the pieces the viewer skipped exist only on the broadcaster; its goodbye would wait for them.
    const bc = new Cli(['broadcast', input, '--rate', '2M', '--window', '256k', '--grace', '0', '--no-dht', '--json'])
    const ready = await bc.event('ready')
    const viewer = new Cli(['watch', ready.magnetURI, '--peer', `127.0.0.1:${String(ready.port)}`, '--no-dht', '--skip-behind', '--stdout'])
    viewer.proc.stdout!.pause() // the slow consumer: nothing read until the whole stream has aired
    await bc.event('ended', 60_000)
    viewer.proc.stdout!.resume()
    await viewer.exit(0, 60_000)

    const skips = [...viewer.stderr.matchAll(SKIP)].map((m) => ({ from: Number(m[1]), last: Number(m[2]), bytes: Number(m[3]), to: Number(m[4]) }))
    assert.ok(skips.length >= 1, `a skip was reported (${viewer.describe()})`)
    // From the start of an endless stream is from the oldest piece still in the window.
    let at = Number(/starting at piece (\d+)/.exec(viewer.stderr)?.[1])
    assert.ok(Number.isInteger(at), viewer.describe())
    let expected = Buffer.alloc(0)
    for (const s of skips) {
      assert.equal(s.to, s.last + 1)
      assert.equal(s.bytes, (s.to - s.from) * PL)
      expected = Buffer.concat([expected, data.subarray(at * PL, s.from * PL)])
      at = s.to
    }
    expected = Buffer.concat([expected, data.subarray(at * PL)])
    const total = skips.reduce((n, s) => n + s.bytes, 0)
    assert.ok(viewer.output.equals(expected), `the output is the broadcast minus the ${total} bytes skipped (got ${viewer.output.length} bytes)`)
    assert.match(viewer.stderr, new RegExp(`done: ${expected.length} bytes; ${total} bytes skipped behind the window`))
    await bc.interrupt(0)
  })
})
