/**
 * An input that fails mid-stream (an HTTP source that resets its connection) is the end of the
 * input, not a crash: without --state the broadcaster publishes every byte read (the short last
 * piece too) and the end, a viewer ends with exactly those bytes, and the broadcaster reports the
 * failure and exits 1. With --state it stops without ending (exit 1), and the same stream goes on.
 */
import assert from 'node:assert/strict'
import { createServer, type Server } from 'node:http'
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { bytes } from '../support/clients.js'
import { Cli, cleanup, feed, STACK, tempDir } from '../support/cli.js'

const PL = 16384

/** An HTTP source that sends `data` once `go` resolves, then destroys the socket (no proper end). */
async function resettingSource (data: Buffer, go: Promise<void>): Promise<{ url: string, server: Server }> {
  const server = createServer((req, res) => {
    res.writeHead(200, { 'Content-Type': 'video/mp2t' })
    res.flushHeaders()
    void (async () => {
      await go
      for (let off = 0; off < data.length; off += 8192) {
        res.write(data.subarray(off, off + 8192))
        await new Promise((resolve) => setTimeout(resolve, 5))
      }
      await new Promise((resolve) => setTimeout(resolve, 200)) // the bytes reach the broadcaster first
      req.socket.destroy()
    })()
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  return { url: `http://127.0.0.1:${(server.address() as { port: number }).port}/show.ts`, server }
}

describe('cli: an input that fails mid-stream', function () {
  this.timeout(90_000)
  const servers: Server[] = []
  afterEach(async () => {
    for (const s of servers.splice(0)) { s.close(); s.closeAllConnections() }
    await cleanup()
  })

  it('without --state: every byte read is published and ended, the viewer exits with exactly them, the broadcaster exits 1 naming the error', async () => {
    const dir = tempDir()
    const data = bytes(PL * 12 + 1234, 71) // 1234 bytes in a partial piece when the source dies
    let start = (): void => {}
    const { url, server } = await resettingSource(data, new Promise<void>((resolve) => { start = resolve }))
    servers.push(server)
    // --grace 5: the viewer may leave before it told us it holds the last piece (goodbye.test.ts tests the wait).
    const bc = new Cli(['broadcast', url, '--no-dht', '--grace', '5', '--json'])
    const ready = await bc.event('ready')
    const viewer = new Cli(['watch', ready.magnetURI, '--peer', `127.0.0.1:${String(ready.port)}`, '--no-dht', '--out', join(dir, 'out.ts'), '--json'])
    await viewer.event('ready')
    start()
    await viewer.exit(0, 60_000)
    assert.ok(readFileSync(join(dir, 'out.ts')).equals(data), 'the viewer has every byte read, the partial last piece included')
    await bc.exit(1, 60_000)
    const ended = bc.last('ended')
    assert.ok(ended, `the end was published (${bc.describe()})`)
    assert.equal(ended.bytes, data.length)
    assert.equal(ended.pieces, 13)
    const err = bc.last('error')
    assert.match(String(err?.message), new RegExp(`^reading ${url.replace(/[.]/g, '\\.')} failed: terminated`))
    assert.match(bc.stderr, /webtorrent-live broadcast: reading http:\/\/127\.0\.0\.1:\d+\/show\.ts failed: terminated/)
    assert.ok(bc.events.some((e) => e.event === 'goodbye' && e.waiting === false), 'the goodbye ran, as at Ctrl-C')
    assert.doesNotMatch(bc.stderr, /seeding; Ctrl-C to stop/, 'no seeding on after a failure')
    assert.doesNotMatch(bc.stderr, STACK)
  })

  it('with --state: stops without ending (exit 1), and a restart on the folder continues the same stream', async () => {
    const dir = tempDir()
    const state = join(dir, 'state')
    const data = bytes(PL * 12 + 1234, 72)
    const { url, server } = await resettingSource(data.subarray(0, PL * 8 + 500), Promise.resolve())
    servers.push(server)
    const bc = new Cli(['broadcast', url, '--state', state, '--no-dht', '--json'])
    const ready = await bc.event('ready')
    await bc.exit(1, 60_000)
    assert.equal(bc.last('ended'), undefined, 'the stream was not ended')
    assert.match(String(bc.last('error')?.message), /^reading http:\/\/127\.0\.0\.1:\d+\/show\.ts failed: terminated/)
    assert.match(bc.stderr, new RegExp(`stopped at ${PL * 8} bytes published; run again with --state .* to continue the same stream`))

    const again = new Cli(['broadcast', '-', '--state', state, '--no-dht', '--json'], { stdin: 'pipe' })
    const r2 = await again.event('ready')
    assert.equal(r2.infoHash, ready.infoHash, 'same stream')
    assert.equal(r2.length, PL * 8, 'whole pieces were published; the caller resumes its source there')
    await feed(again.proc.stdin!, data.subarray(r2.length), 8192, 2)
    const ended = await again.event('ended', 60_000)
    assert.equal(ended.bytes, data.length)
    const late = new Cli(['watch', ready.magnetURI, '--peer', `127.0.0.1:${String(r2.port)}`, '--no-dht', '--stdout', '--quiet'])
    await late.exit(0, 60_000)
    assert.ok(late.output.equals(data), 'one history across the failure')
    await again.interrupt(0)
  })

  it('with --state, a SIGINT just after the input ends (Ctrl-C reached the pipeline\'s producer first) stops without ending', async () => {
    const state = join(tempDir(), 'state')
    const bc = new Cli(['broadcast', '-', '--state', state, '--no-dht', '--json'], { stdin: 'pipe' })
    await bc.event('ready')
    bc.proc.stdin!.write(bytes(PL * 3, 73))
    await bc.event('head', 30_000)
    await new Promise((resolve) => setTimeout(resolve, 500))
    bc.proc.stdin!.end() // the producer, interrupted, closes the pipe …
    await new Promise((resolve) => setTimeout(resolve, 100))
    bc.proc.kill('SIGINT') // … and our SIGINT comes a moment later
    await bc.exit(0, 30_000)
    assert.equal(bc.last('ended'), undefined, 'the stream was not ended')
    assert.match(bc.stderr, new RegExp(`stopped at ${PL * 3} bytes published; run again with --state .* to continue the same stream`))
  })
})
