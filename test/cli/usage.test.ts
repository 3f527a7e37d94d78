/** The command line's contract for mistakes: exit 2 for bad usage, 1 for other user mistakes, one line, no stack. */
import assert from 'node:assert/strict'
import { readFileSync, statSync, writeFileSync } from 'node:fs'
import { createServer, type Server } from 'node:net'
import { join } from 'node:path'
import { decodeKeyFile } from '../../lib/index.js'
import { cleanup, run, STACK, tempDir } from '../support/cli.js'

describe('cli: usage, user mistakes, keygen', function () {
  this.timeout(60_000)
  afterEach(cleanup)

  const usage: Array<[string, string[], RegExp]> = [
    ['no command', [], /usage: webtorrent-live/],
    ['an unknown command', ['bogus'], /unknown command 'bogus'/],
    ['an unknown option', ['broadcast', '-', '--bogus'], /unknown option --bogus/],
    ['broadcast without INPUT', ['broadcast'], /missing INPUT/],
    ['watch without a magnet', ['watch'], /missing MAGNET_OR_TORRENT_FILE/],
    ['a bad --from', ['watch', 'magnet:?xt=urn:btih:0123456789012345678901234567890123456789', '--from', 'sideways'], /--from must be start or live/],
    ['a piece length that is not a power of two', ['broadcast', '-', '--piece-length', '1000'], /--piece-length must be a power of two/],
    ['a bad --peer', ['broadcast', '-', '--peer', 'nowhere'], /--peer must be HOST:PORT/],
    ['a flag without its value', ['broadcast', '-', '--name'], /--name needs a value/],
    ['--stdout with --json', ['watch', 'magnet:?xt=urn:btih:0123456789012345678901234567890123456789', '--stdout', '--json'], /choose one/],
    ['a bad --port', ['tracker', '--port', '70000'], /--port must be from 0 to 65535/],
    ['a --window duration without --rate', ['broadcast', '-', '--window', '90s'], /--window 90s is a duration: give --rate/],
    ['a bad --window', ['broadcast', '-', '--window', 'lots'], /--window must be a number of bytes/],
    ['--no-archive without --window', ['broadcast', '-', '--no-archive'], /--no-archive needs --window/],
    ['an unknown relay policy', ['broadcast', '-', '--relay', 'cheap'], /--relay must be reach or copies, not 'cheap'/],
    ['a bad --upload-limit', ['watch', 'magnet:?xt=urn:btih:0123456789012345678901234567890123456789', '--upload-limit', 'fast'], /--upload-limit must be a number of bytes/]
  ]
  it(`exit 2 and the reason on stderr, no stack, for: ${usage.map((u) => u[0]).join('; ')}`, async () => {
    const runs = await Promise.all(usage.map(([, args]) => run(args)))
    usage.forEach(([what, , re], k) => {
      const c = runs[k]!
      assert.equal(c.code, 2, `${what}: ${c.describe()}`)
      assert.match(c.stderr, re, what)
      assert.doesNotMatch(c.stderr, STACK, what)
    })
  })

  it('exit 1 with one clear line for a missing file, an unreachable URL, a bad magnet, a missing .torrent file and a port in use', async () => {
    const missing = await run(['broadcast', 'no-such-file.ts', '--no-dht'])
    assert.equal(missing.code, 1, missing.describe())
    assert.equal(missing.stderr.trim(), 'webtorrent-live broadcast: no such file: no-such-file.ts')

    const magnet = await run(['watch', 'magnet:?dn=nothing', '--no-dht'])
    assert.equal(magnet.code, 1, magnet.describe())
    assert.match(magnet.stderr.trim(), /^webtorrent-live watch: not a valid magnet link/)
    assert.equal(magnet.stderr.trim().split('\n').length, 1)

    const unreachable = await run(['broadcast', 'http://127.0.0.1:9/none.ts', '--no-dht'])
    assert.equal(unreachable.code, 1, unreachable.describe())
    assert.match(unreachable.stderr.trim(), /^webtorrent-live broadcast: cannot read http:\/\/127\.0\.0\.1:9\/none\.ts: /)
    assert.equal(unreachable.stderr.trim().split('\n').length, 1)

    const notTorrent = join(tempDir(), 'x.torrent')
    writeFileSync(notTorrent, 'hello')
    for (const args of [['info', 'missing.torrent', '--no-dht'], ['watch', notTorrent, '--no-dht']]) {
      const c = await run(args)
      assert.equal(c.code, 1, c.describe())
      assert.equal(c.stderr.trim().split('\n').length, 1, c.stderr)
      assert.doesNotMatch(c.stderr, STACK)
    }

    const busy: Server = createServer()
    await new Promise<void>((resolve) => busy.listen(0, '127.0.0.1', resolve))
    const port = (busy.address() as { port: number }).port
    try {
      const c = await run(['broadcast', '-', '--no-dht', '--port', String(port), '--json'])
      assert.equal(c.code, 1, c.describe())
      assert.match(c.stderr, new RegExp(`port ${port} is in use`))
      assert.equal(c.stderr.trim().split('\n').length, 1, c.stderr)
      assert.doesNotMatch(c.stderr, STACK)
      const lines = c.output.toString().trim().split('\n').map((l) => JSON.parse(l) as { event: string })
      assert.deepEqual(lines.map((l) => l.event), ['error'])
    } finally {
      busy.close()
    }
  })

  it('keygen writes a key file with mode 0600, and does not overwrite one', async () => {
    const dir = tempDir()
    const path = join(dir, 'stream.key')
    const c = await run(['keygen', '--out', path, '--json'])
    assert.equal(c.code, 0, c.describe())
    assert.equal(statSync(path).mode & 0o777, 0o600)
    const kp = await decodeKeyFile(readFileSync(path, 'utf8'))
    const ev = JSON.parse(c.output.toString()) as { event: string, publicKey: string }
    assert.equal(ev.event, 'key')
    assert.equal(ev.publicKey, Buffer.from(kp.publicKey).toString('hex'))
    const again = await run(['keygen', '--out', path])
    assert.equal(again.code, 1, again.describe())
    assert.match(again.stderr, /exists/)
    assert.deepEqual(await decodeKeyFile(readFileSync(path, 'utf8')), kp)
  })
})
