/**
 * What an existing WebTorrent app sees on a live torrent through WebTorrent's own API: `done` only
 * once the program has ended and every piece is here; `file.createReadStream()` following the
 * growing file; `client.createServer()` serving the snapshot it announces; clients destroyed in
 * either order letting the process exit.
 */
import assert from 'node:assert/strict'
import { spawn } from 'node:child_process'
import { get } from 'node:http'
import { fileURLToPath } from 'node:url'
import { broadcast, type Broadcaster } from '../../lib/index.js'
import { air, bytes, collect, destroyAll, join, makeClient, tempDir, withTimeout } from '../support/clients.js'

/* eslint-disable @typescript-eslint/no-explicit-any */

const PL = 16384

/** Resolves once the viewer has verified every piece of the broadcaster's current head. */
async function caughtUp (t: any, bc: Broadcaster): Promise<void> {
  for (;;) {
    const n = bc.live.count
    if (t.live.count >= n && [...Array(n).keys()].every((i) => t.live.has(i))) return
    await t.live.changed()
  }
}

describe('stock WebTorrent API on a live torrent', function () {
  this.timeout(90_000)
  afterEach(destroyAll)

  async function source (): Promise<{ client: any, bc: Broadcaster }> {
    const client = await makeClient()
    const bc = await broadcast(client, { name: 'show.bin', pieceLength: PL, path: tempDir() })
    return { client, bc }
  }

  it("done is false and 'done' does not fire while the program airs, however caught up; both after the end", async () => {
    const { client, bc } = await source()
    const v = await makeClient()
    const t = join(v, bc.magnetURI, [client])
    let doneEvents = 0
    t.on('done', () => doneEvents++)
    let sourceDone = 0
    bc.torrent.on('done', () => sourceDone++)
    const data = bytes(PL * 20 + 100)
    await air(bc, data.subarray(0, PL * 12))
    await withTimeout(caughtUp(t, bc), 30_000, 'viewer catches up')
    // Every piece aired so far is verified here: a 'done' would have fired synchronously by now.
    assert.equal(t.done, false)
    assert.equal(doneEvents, 0)
    assert.equal(t.files[0].done, false)
    assert.equal(bc.torrent.done, false, 'the broadcaster holds every piece, but the program goes on')
    assert.equal(sourceDone, 0)
    await air(bc, data.subarray(PL * 12))
    const done = new Promise<void>((resolve) => t.once('done', () => resolve()))
    await bc.end()
    await withTimeout(done, 30_000, "viewer 'done' after the end")
    assert.equal(t.done, true)
    assert.equal(t.files[0].done, true)
    assert.equal(bc.torrent.done, true)
    assert.equal(sourceDone, 1)
    assert.equal(doneEvents, 1)
  })

  it('torrent.files[0].createReadStream() follows the growing file to the end of the broadcast; byte ranges too', async () => {
    const { client, bc } = await source()
    const data = bytes(PL * 30 + 4321, 3)
    await air(bc, data.subarray(0, PL * 5))
    const v = await makeClient()
    const t = join(v, bc.magnetURI, [client])
    await new Promise<void>((resolve) => { if (t.ready) resolve(); else t.once('ready', () => resolve()) })
    const whole = collect(t.files[0].createReadStream())
    const range = collect(t.files[0].createReadStream({ start: 5000, end: PL * 22 + 17 }))
    await air(bc, data.subarray(PL * 5), { pauseMs: 2 })
    await bc.end()
    assert.ok((await withTimeout(whole, 60_000, 'whole file')).equals(data), 'the whole program, not a snapshot')
    assert.ok((await withTimeout(range, 60_000, 'range')).equals(data.subarray(5000, PL * 22 + 18)))
  })

  it('client.createServer() serves a snapshot: the bytes verified when asked, with a matching Content-Length', async () => {
    const { client, bc } = await source()
    const data = bytes(PL * 10, 4)
    await air(bc, data.subarray(0, PL * 6))
    const v = await makeClient()
    const t = join(v, bc.magnetURI, [client])
    await withTimeout(caughtUp(t, bc), 30_000, 'viewer catches up')
    const server = v.createServer()
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()))
    try {
      const url = `http://127.0.0.1:${(server.address() as { port: number }).port}${t.files[0].streamURL as string}`
      const body = await new Promise<{ length: string | undefined, bytes: Buffer }>((resolve, reject) => {
        get(url, (res) => { collect(res).then((b) => resolve({ length: res.headers['content-length'], bytes: b }), reject) }).on('error', reject)
      })
      assert.equal(body.length, String(PL * 6))
      assert.ok(body.bytes.equals(data.subarray(0, PL * 6)))
    } finally {
      await new Promise<void>((resolve) => server.close(() => resolve()))
    }
  })

  for (const order of ['viewer-first', 'broadcaster-first']) {
    it(`a process whose clients are destroyed ${order} exits by itself`, async () => {
      const script = fileURLToPath(new URL('../fixtures/destroy-order.js', import.meta.url))
      const child = spawn(process.execPath, [script, order, tempDir()], { stdio: ['ignore', 'pipe', 'pipe'] })
      let out = ''
      child.stdout.on('data', (d: Buffer) => { out += d.toString() })
      child.stderr.on('data', (d: Buffer) => { out += d.toString() })
      const code = await withTimeout(new Promise<number | null>((resolve) => child.on('close', resolve)), 60_000, `exit after destroy (${order}): ${out}`).finally(() => child.kill('SIGKILL'))
      assert.equal(code, 0, out)
      assert.match(out, /destroyed/)
    })
  }
})
