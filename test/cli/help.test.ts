/** `CMD --help` / `-h` print that command's options and exit 0, whatever else is on the line; every port clash says the same. */
import assert from 'node:assert/strict'
import { existsSync } from 'node:fs'
import { createServer, type Server } from 'node:net'
import { join } from 'node:path'
import { cleanup, run, STACK, tempDir } from '../support/cli.js'

describe('cli: help and port clashes', function () {
  this.timeout(60_000)
  afterEach(cleanup)

  const commands = ['broadcast', 'watch', 'info', 'keygen', 'tracker', 'demo']
  it(`${commands.join(', ')}: --help and -h print the command's usage on stdout and exit 0 (also with other arguments)`, async () => {
    const lines = [...commands.map((c) => [c, '--help']), ['watch', '-h'], ...['broadcast', 'watch', 'info'].map((c) => [c, 'x', 'y', 'z', '--bogus', '--help'])]
    const runs: Array<Awaited<ReturnType<typeof run>>> = []
    for (let k = 0; k < lines.length; k += 2) runs.push(...await Promise.all(lines.slice(k, k + 2).map((args) => run(args)))) // two at a time: each starts a whole Node
    lines.forEach((args, k) => {
      const c = runs[k]!
      assert.equal(c.code, 0, `${args.join(' ')}: ${c.describe()}`)
      assert.match(c.output.toString(), new RegExp(`^usage: webtorrent-live ${args[0]!}`), args.join(' '))
      assert.equal(c.stderr, '', args.join(' '))
    })
  })

  it('a port in use: the same one-line message for tracker --port, watch --http, broadcast --port and broadcast --web', async () => {
    const busy: Server = createServer()
    await new Promise<void>((resolve) => busy.listen(0, '0.0.0.0', resolve))
    const port = (busy.address() as { port: number }).port
    try {
      const lines = [
        ['tracker', '--port', String(port)],
        ['broadcast', '-', '--no-dht', '--port', String(port)],
        ['watch', 'magnet:?xt=urn:btih:0123456789012345678901234567890123456789', '--no-dht', '--http', String(port)],
        ['broadcast', '-', '--no-dht', '--web', String(port)]
      ]
      const runs = await Promise.all(lines.map((args) => run(args)))
      lines.forEach((args, k) => {
        const c = runs[k]!
        assert.equal(c.code, 1, `${args.join(' ')}: ${c.describe()}`)
        const flag = args.includes('--http') ? '--http' : args.includes('--web') ? '--web' : '--port'
        assert.equal(c.stderr.trim(), `webtorrent-live ${args[0]!}: port ${port} is in use (choose another with ${flag}, or 0 for any)`)
        assert.doesNotMatch(c.stderr, STACK)
      })
    } finally {
      busy.close()
    }
  })

  it('broadcast --name that no file system can hold (a:b, CON, x.) is a usage error (exit 2) before anything is created', async () => {
    const dir = tempDir()
    for (const name of ['a:b', 'CON', 'x.']) {
      const state = join(dir, `state-${name.replace(/\W/g, '_')}`)
      const c = await run(['broadcast', '-', '--no-dht', '--name', name, '--state', state])
      assert.equal(c.code, 2, c.describe())
      assert.match(c.stderr, new RegExp(`--name '${name.replace('.', '\\.')}'`))
      assert.equal(existsSync(state), false, 'no state folder made for it')
    }
  })
})
