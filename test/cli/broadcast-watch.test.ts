/**
 * The built CLI end to end on loopback: broadcast from a file, stdin and an HTTP URL; watch to a
 * file, to stdout and over HTTP while the program airs; --from live; info; a local tracker.
 */
import assert from 'node:assert/strict'
import { readFileSync, writeFileSync } from 'node:fs'
import { createServer, get as httpGet, type Server } from 'node:http'
import { join } from 'node:path'
import { bytes, withTimeout } from '../support/clients.js'
import { Cli, cleanup, feed, run, tempDir } from '../support/cli.js'

const PL = 16384

function fetchBytes (url: string, headers: Record<string, string> = {}): Promise<{ status: number, headers: Record<string, unknown>, body: Buffer }> {
  return new Promise((resolve, reject) => {
    httpGet(url, { headers }, (res) => {
      const parts: Buffer[] = []
      res.on('data', (b: Buffer) => parts.push(b))
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(parts) }))
      res.on('error', reject)
    }).on('error', reject)
  })
}

describe('cli: broadcast and watch', function () {
  this.timeout(90_000)
  afterEach(cleanup)

  it('an endless stream (broadcast --window --no-archive): window-only watchers write and serve the window they hold and finish at the end', async () => {
    const dir = tempDir()
    const input = join(dir, 'endless.ts')
    const data = bytes(PL * 160 + 99, 23)
    writeFileSync(input, data)
    const bc = new Cli(['broadcast', input, '--rate', '800k', '--window', '512k', '--no-archive', '--no-dht', '--json'])
    const ready = await bc.event('ready')
    const peer = `127.0.0.1:${String(ready.port)}`
    const toFile = new Cli(['watch', ready.magnetURI, '--peer', peer, '--no-dht', '--out', join(dir, 'out.ts'), '--json'])
    const overHttp = new Cli(['watch', ready.magnetURI, '--peer', peer, '--no-dht', '--http', '0', '--json'])
    await bc.event('ended', 60_000)
    await toFile.exit(0, 60_000)
    const out = readFileSync(join(dir, 'out.ts'))
    assert.ok(out.length > 0 && out.equals(data.subarray(data.length - out.length)), `watch --out: ${out.length} bytes, the broadcast's from the watcher's start on`)
    assert.equal((await toFile.event('done')).bytes, out.length)
    // The HTTP-only watcher kept the window only: it is done once it holds every piece it still keeps.
    const done = await overHttp.event('done', 60_000)
    assert.equal(done.pieces, 161)
    await overHttp.interrupt(0)
    await bc.interrupt(0)
  })

  it('a file aired at --rate: watch to a file, to stdout, over HTTP (GET while airing, ranges) and to a --player; info after the end', async () => {
    const dir = tempDir()
    const input = join(dir, 'program.ts')
    const data = bytes(PL * 150 + 1234, 5)
    writeFileSync(input, data)
    const torrentOut = join(dir, 'final.torrent')
    const bc = new Cli(['broadcast', input, '--rate', '600k', '--no-dht', '--json', '--torrent-out', torrentOut])
    const ready = await bc.event('ready')
    assert.match(ready.infoHash, /^[0-9a-f]{40}$/)
    assert.equal(ready.length, 0)
    const peer = `127.0.0.1:${String(ready.port)}`
    const magnet = ready.magnetURI as string

    const toFile = new Cli(['watch', magnet, '--peer', peer, '--no-dht', '--out', join(dir, 'out.ts'), '--json'])
    const toStdout = new Cli(['watch', magnet, '--peer', peer, '--no-dht', '--stdout', '--quiet'])
    const overHttp = new Cli(['watch', magnet, '--peer', peer, '--no-dht', '--http', '0', '--json'])
    // A "player" (curl) started by watch on its own HTTP URL; watch exits when the player does.
    const played = join(dir, 'played.ts')
    const withPlayer = new Cli(['watch', magnet, '--peer', peer, '--no-dht', '--player', `curl -s -o ${played}`, '--quiet'])
    const url = (await overHttp.event('ready')).url as string
    assert.match(url, /^http:\/\/127\.0\.0\.1:\d+\/$/)
    // A player's GET while the program airs: the response stays open until the end.
    const whole = fetchBytes(url)

    // A range request for bytes that exist, while live.
    await overHttp.event('head', 30_000, (e) => e.pieces >= 25)
    let part = await fetchBytes(url, { Range: `bytes=${PL * 3 + 7}-${PL * 9}` })
    for (let k = 0; k < 50 && part.status !== 206; k++) { // the viewer may still be fetching those pieces
      await new Promise((resolve) => setTimeout(resolve, 100))
      part = await fetchBytes(url, { Range: `bytes=${PL * 3 + 7}-${PL * 9}` })
    }
    assert.equal(part.status, 206)
    assert.match(String(part.headers['content-range']), new RegExp(`^bytes ${PL * 3 + 7}-${PL * 9}/(\\*|${data.length})$`)) // * while live
    assert.ok(part.body.equals(data.subarray(PL * 3 + 7, PL * 9 + 1)), 'range bytes')
    const beyond = await fetchBytes(url, { Range: `bytes=${data.length + 10}-${data.length + 20}` })
    assert.equal(beyond.status, 416)

    const ended = await bc.event('ended', 60_000)
    assert.match(ended.finalInfoHash, /^[0-9a-f]{40}$/)
    assert.equal(ended.torrentFile, torrentOut)
    assert.ok(readFileSync(torrentOut).length > 0)

    await toFile.exit(0, 60_000)
    assert.ok(readFileSync(join(dir, 'out.ts')).equals(data), 'watch --out: the file is the program')
    const wEnded = await toFile.event('ended')
    assert.equal(wEnded.finalInfoHash, ended.finalInfoHash)
    assert.equal((await toFile.event('done')).bytes, data.length)
    await toStdout.exit(0, 60_000)
    assert.ok(toStdout.output.equals(data), 'watch --stdout: stdout is the program')
    const got = await withTimeout(whole, 20_000, `GET ${url} (${overHttp.describe()})`)
    assert.equal(got.status, 200)
    assert.ok(got.body.equals(data), 'watch --http: the open GET delivered the program')
    // After the end it keeps serving the recording (with its length) until Ctrl-C.
    await overHttp.event('done', 30_000)
    const after = await fetchBytes(url)
    assert.equal(after.status, 200)
    assert.equal(after.headers['content-length'], String(data.length))
    assert.ok(after.body.equals(data), 'watch --http after the end: the whole recording')
    assert.equal(overHttp.code, null, 'watch --http serves until Ctrl-C')
    await overHttp.interrupt(0)
    await withPlayer.exit(0, 30_000)
    assert.ok(readFileSync(played).equals(data), 'watch --player: the player received the program')

    // After the end: ranges with the final length, info says ended with the final infohash.
    const info2 = await run(['info', magnet, '--peer', peer, '--no-dht', '--json'])
    const i2 = JSON.parse(info2.output.toString()) as Record<string, any> // eslint-disable-line @typescript-eslint/no-explicit-any
    assert.equal(i2.publicKey, ready.publicKey)
    assert.equal(i2.ended, true)
    assert.equal(i2.bytes, data.length)
    assert.equal(i2.finalInfoHash, ended.finalInfoHash)

    // The broadcaster seeds until Ctrl-C, then exits 0.
    assert.equal(bc.code, null)
    await bc.interrupt(0)
  })

  it('stdin (with --key) and an HTTP URL as input; --from live; info while live; a local tracker instead of --peer; --keep-seeding', async () => {
    const dir = tempDir()
    const tracker = new Cli(['tracker', '--port', '0', '--host', '127.0.0.1', '--json'])
    const announce = ((await tracker.event('ready')).announce as string[])[0]!
    assert.match(announce, /^http:\/\/127\.0\.0\.1:\d+\/announce$/)

    // From stdin, found through the tracker.
    const a = bytes(PL * 60 + 99, 21)
    const key = join(dir, 'stream.key')
    const keygen = await run(['keygen', '--out', key, '--json'])
    const publicKey = (JSON.parse(keygen.output.toString()) as { publicKey: string }).publicKey
    const bcA = new Cli(['broadcast', '-', '--name', 'stdin.ts', '--key', key, '--no-dht', '--announce', announce, '--json'], { stdin: 'pipe' })
    const readyA = await bcA.event('ready')
    assert.equal(readyA.publicKey, publicKey, '--key')
    const wA = new Cli(['watch', readyA.magnetURI, '--no-dht', '--announce', announce, '--out', join(dir, 'a.ts'), '--keep-seeding', '--json'])
    await wA.event('ready')
    await feed(bcA.proc.stdin!, a, 7000, 5)

    // From an HTTP URL (a live source on 127.0.0.1 that trickles its bytes), watched from the live edge.
    const b = bytes(PL * 120 + 5, 22)
    let source: Server | null = null
    const half = { reached: null as null | (() => void) }
    const halfway = new Promise<void>((resolve) => { half.reached = resolve })
    const gate = { open: null as null | (() => void) }
    const opened = new Promise<void>((resolve) => { gate.open = resolve })
    source = createServer((req, res) => {
      res.writeHead(200, { 'Content-Type': 'video/mp2t' })
      void (async () => {
        for (let off = 0; off < b.length; off += 8192) {
          res.write(b.subarray(off, off + 8192))
          if (off >= b.length / 2 && half.reached) { half.reached(); half.reached = null; await opened }
          await new Promise((resolve) => setTimeout(resolve, 3))
        }
        res.end()
      })()
    })
    await new Promise<void>((resolve) => source!.listen(0, '127.0.0.1', resolve))
    const src = `http://127.0.0.1:${(source.address() as { port: number }).port}/show.ts`
    try {
      // Its only viewer starts at the live edge: the first half never leaves the broadcaster, whose
      // goodbye would wait the whole grace for it; --grace 0 leaves at once (test/cli/goodbye tests the wait).
      const bcB = new Cli(['broadcast', src, '--no-dht', '--grace', '0', '--json'])
      const readyB = await bcB.event('ready')
      assert.ok(String(readyB.magnetURI).includes('dn=show.ts'), 'the name comes from the URL')
      await halfway
      await bcB.event('head', 30_000, (e) => e.pieces >= 50)
      // info while live (the source is paused halfway): the stream's key and figures from its newest head.
      const info = await run(['info', readyB.magnetURI, '--peer', `127.0.0.1:${String(readyB.port)}`, '--no-dht', '--json'])
      assert.equal(info.code, 0, info.describe())
      const i1 = JSON.parse(info.output.toString()) as Record<string, any> // eslint-disable-line @typescript-eslint/no-explicit-any
      assert.equal(i1.event, 'info')
      assert.equal(i1.publicKey, readyB.publicKey)
      assert.equal(i1.pieceLength, PL)
      assert.equal(i1.infoHash, readyB.infoHash)
      assert.equal(i1.live, true, JSON.stringify(i1))
      assert.ok(i1.pieces >= 50 && i1.bytes === i1.pieces * PL, JSON.stringify(i1))
      const live = new Cli(['watch', readyB.magnetURI, '--peer', `127.0.0.1:${String(readyB.port)}`, '--no-dht', '--from', 'live', '--out', join(dir, 'b.ts'), '--json'])
      await live.event('head')
      gate.open!()
      await bcB.event('ended', 60_000)
      await live.exit(0, 60_000)
      const got = readFileSync(join(dir, 'b.ts'))
      const skipped = b.length - got.length
      assert.ok(skipped >= PL * 49 && skipped % PL === 0, `--from live starts at a piece near the edge (skipped ${skipped} bytes)`)
      assert.ok(got.equals(b.subarray(skipped)), 'from live: the rest of the program, exactly')
      await bcB.interrupt(0)
    } finally {
      source.close()
      source.closeAllConnections()
    }

    await bcA.event('ended', 60_000)
    await wA.event('done', 60_000)
    assert.ok(readFileSync(join(dir, 'a.ts')).equals(a), 'stdin program through the tracker, exactly')
    assert.equal(wA.code, null, '--keep-seeding: still sharing after the end')
    await wA.interrupt(0)
    await bcA.interrupt(0)
    await tracker.interrupt(0)
  })
})
