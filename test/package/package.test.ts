/**
 * The package as an app gets it: `npm pack`, installed into a fresh app beside the app's own
 * webtorrent; one copy of webtorrent, the README's example run unchanged, no source maps. And
 * enableLive refusing a client whose internals it cannot adapt.
 */
import assert from 'node:assert/strict'
import { execFileSync, spawn } from 'node:child_process'
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import WebTorrent from 'webtorrent'
import { broadcast, enableLive, createKeyPair } from '../../lib/index.js'
import { SUPPORTED_WEBTORRENT } from '../../patches/check.js'
import { CLIENT_OPTS } from '../support/clients.js'

/* eslint-disable @typescript-eslint/no-explicit-any */

const root = fileURLToPath(new URL('../../../', import.meta.url))
const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { name: string, version: string, peerDependencies: Record<string, string>, devDependencies: Record<string, string>, overrides: Record<string, string> }

/** The README's block marked `<!-- example:NAME -->`, as written there. */
export function readmeExample (name: string): string {
  const readme = readFileSync(join(root, 'README.md'), 'utf8')
  const at = readme.indexOf(`<!-- example:${name}`)
  assert.ok(at >= 0, `README has no example:${name}`)
  const m = /```js\n([\s\S]*?)```/.exec(readme.slice(at))
  assert.ok(m, `README example:${name} has no js block`)
  return m[1]!
}

function run (cmd: string, args: string[], cwd: string, timeoutMs: number): Promise<{ code: number | null, stdout: string, stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { cwd, env: { ...process.env, npm_config_yes: 'true' }, stdio: ['ignore', 'pipe', 'pipe'] })
    let stdout = ''
    let stderr = ''
    child.stdout.on('data', (d: Buffer) => { stdout += d.toString() })
    child.stderr.on('data', (d: Buffer) => { stderr += d.toString() })
    const timer = setTimeout(() => { child.kill('SIGKILL'); reject(new Error(`${cmd} ${args.join(' ')} did not exit within ${timeoutMs} ms\nstdout: ${stdout}\nstderr: ${stderr}`)) }, timeoutMs)
    child.on('error', (err) => { clearTimeout(timer); reject(err) })
    child.on('close', (code) => { clearTimeout(timer); resolve({ code, stdout, stderr }) })
  })
}

describe('package: the tarball in a fresh app', function () {
  this.timeout(300_000)
  let dir = ''
  let app = ''
  let tarball = ''

  before(async function () {
    dir = mkdtempSync(join(tmpdir(), 'wtl-pack-'))
    const packed = JSON.parse(execFileSync('npm', ['pack', '--ignore-scripts', '--json', '--pack-destination', dir], { cwd: root, encoding: 'utf8' })) as Array<{ filename: string, files: Array<{ path: string }> }>
    tarball = join(dir, packed[0]!.filename)
    app = join(dir, 'app')
    execFileSync('mkdir', ['-p', app])
    writeFileSync(join(app, '.npmrc'), 'yes=true\nfund=false\naudit=false\n')
    writeFileSync(join(app, 'package.json'), JSON.stringify({
      name: 'fresh-app',
      private: true,
      type: 'module',
      dependencies: { webtorrent: pkg.devDependencies.webtorrent, [pkg.name]: `file:${tarball}` },
      overrides: pkg.overrides
    }, null, 2))
    // From npm's cache when it has the packages (CI's `npm ci` just filled it), else the registry.
    const r = await run('npm', ['install', '--prefer-offline', '--no-audit', '--no-fund', '--loglevel=error'], app, 240_000)
    assert.equal(r.code, 0, `npm install failed:\n${r.stderr}`)
  })

  after(() => { if (dir) rmSync(dir, { recursive: true, force: true }) })

  it('holds the built library, the spec and a LICENSE, and no source maps', () => {
    const files = JSON.parse(execFileSync('npm', ['pack', '--ignore-scripts', '--dry-run', '--json'], { cwd: root, encoding: 'utf8' }))[0].files.map((f: { path: string }) => f.path) as string[]
    assert.ok(files.includes('LICENSE'))
    assert.ok(files.includes('dist/lib/index.js'))
    assert.ok(files.includes('dist/browser/webtorrent-live.js'))
    assert.ok(files.includes('lib/protocol/ut_live.md'))
    assert.deepEqual(files.filter((f) => f.endsWith('.map')), [])
    assert.deepEqual(files.filter((f) => f.startsWith('dist/test/') || f.startsWith('dist/scripts/')), [])
  })

  it('gives the app exactly one webtorrent, and one of each package the plugin adapts', async () => {
    for (const name of Object.keys(pkg.peerDependencies)) {
      const r = await run('npm', ['ls', name, '--all', '--parseable'], app, 60_000)
      const copies = r.stdout.split('\n').filter((l) => l.trim() !== '')
      assert.equal(copies.length, 1, `${name}: ${copies.join(', ')}`)
    }
  })

  it("runs the README's example unchanged, and the process exits by itself", async () => {
    writeFileSync(join(app, 'app.mjs'), readmeExample('app.mjs'))
    const r = await run(process.execPath, ['app.mjs'], app, 120_000)
    assert.equal(r.code, 0, r.stderr)
    assert.match(r.stdout, /^magnet:\?xt=urn:btih:[0-9a-f]{40}/m)
    assert.match(r.stdout, /^received 200000 bytes$/m)
  })
})

describe('enableLive checks the client it is given', () => {
  const clients: any[] = []
  afterEach(async () => { await Promise.all(clients.splice(0).map((c) => new Promise<void>((resolve) => c.destroy(() => resolve())))) })

  it('refuses a client of another WebTorrent version with WEBTORRENT_INTERNALS, before touching it', async () => {
    // A real client whose class says it is another release, as a second copy of webtorrent would.
    const OldWebTorrent: any = class extends (WebTorrent as any) {}
    OldWebTorrent.VERSION = '2.8.5'
    const old = new OldWebTorrent(CLIENT_OPTS)
    clients.push(old)
    const add = old.add
    assert.throws(() => enableLive(old), (err: Error & { code?: string }) => {
      assert.equal(err.code, 'WEBTORRENT_INTERNALS')
      assert.ok(err.message.includes('2.8.5') && err.message.includes(SUPPORTED_WEBTORRENT), err.message)
      return true
    })
    assert.equal(old.add, add, 'client.add is untouched')
    await assert.rejects(broadcast(old, { name: 'x.bin', keyPair: await createKeyPair() }), (err: Error & { code?: string }) => err.code === 'WEBTORRENT_INTERNALS')
    assert.equal(old.torrents.length, 0)
  })

  it('refuses what is not a WebTorrent client', () => {
    for (const bad of [null, {}, { add () {}, torrents: [] }]) {
      assert.throws(() => enableLive(bad), (err: Error & { code?: string }) => err.code === 'WEBTORRENT_INTERNALS')
    }
  })

  it('accepts the supported WebTorrent', () => {
    const c = new WebTorrent(CLIENT_OPTS)
    clients.push(c)
    assert.equal(enableLive(c), c)
  })
})
