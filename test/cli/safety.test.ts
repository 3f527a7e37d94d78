/**
 * The command line never destroys a user's file and leaves nothing behind: an ordinary torrent
 * given to watch changes nothing (and info and watch say the same about it); a second recording
 * and a second --torrent-out go beside the first ('NAME (1).EXT') unless --force; Ctrl-C or
 * SIGTERM before the metadata exits 130 without a temporary folder left; a magnet nobody seeds is
 * reported as such ('no-peers') instead of "0.0 s behind live".
 */
import assert from 'node:assert/strict'
import { readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { addr, bytes, destroyAll, makeClient, tempDir as swarmDir, withTimeout } from '../support/clients.js'
import { Cli, cleanup, run, STACK, tempDir } from '../support/cli.js'

/* eslint-disable @typescript-eslint/no-explicit-any */

const PL = 16384
const NOBODY = 'magnet:?xt=urn:btih:0123456789abcdef0123456789abcdef01234567&dn=nobody.ts'

/** What a process left in its TMPDIR: our temporary folders only. */
const leftovers = (c: Cli): string[] => readdirSync(c.tmp).filter((f) => f.startsWith('webtorrent-live'))

/** Waits until `pred` holds, looking again on each of the process's outputs (or every 100 ms). */
async function until (c: Cli, pred: () => boolean, what: string, ms = 20_000): Promise<void> {
  await withTimeout((async () => {
    while (!pred()) {
      if (c.code !== null || c.signal !== null) throw new Error(`exited before ${what} (${c.describe()})`)
      await new Promise((resolve) => setTimeout(resolve, 100))
    }
  })(), ms, `${what} (${c.describe()})`)
}

/** An ordinary torrent of `data`, seeded by a plain WebTorrent client in this process. */
async function ordinary (data: Buffer): Promise<{ seeder: any, torrent: any }> {
  const seeder = await makeClient(false)
  const torrent = await new Promise<any>((resolve) => seeder.seed(data, { name: 'show.ts', pieceLength: PL, path: swarmDir() }, resolve))
  return { seeder, torrent }
}

/** A short broadcast of `data` (ends at once, then seeds); its ready and ended events. */
async function aired (data: Buffer, extra: string[] = []): Promise<{ bc: Cli, ready: any, ended: any, dir: string }> {
  const dir = tempDir()
  const input = join(dir, 'show.ts')
  writeFileSync(input, data)
  const bc = new Cli(['broadcast', input, '--no-dht', '--json', ...extra])
  const ready = await bc.event('ready')
  const ended = await bc.event('ended', 60_000)
  return { bc, ready, ended, dir }
}

describe('cli: never destroy a file, leave nothing behind', function () {
  this.timeout(120_000)
  afterEach(async () => { await cleanup(); await destroyAll() })

  it('watch of an ordinary .torrent leaves ./show.ts as it was, creates no --store folder and no temporary folder', async () => {
    const { torrent } = await ordinary(bytes(PL * 5 + 11, 41))
    const here = tempDir()
    const mine = bytes(300_000, 42) // the user's own show.ts, about to be "recorded over"
    writeFileSync(join(here, 'show.ts'), mine)
    writeFileSync(join(here, 'final.torrent'), torrent.torrentFile)
    const before = readdirSync(here).sort()

    const plain = new Cli(['watch', 'final.torrent', '--no-dht'], { cwd: here })
    const stored = new Cli(['watch', 'final.torrent', '--no-dht', '--store', 'pieces', '--json'], { cwd: here })
    await Promise.all([plain.exited, stored.exited])
    assert.ok(readFileSync(join(here, 'show.ts')).equals(mine), 'show.ts untouched')
    assert.deepEqual(readdirSync(here).sort(), before, 'no file or folder created (not even --store pieces)')
    for (const c of [plain, stored]) {
      await c.exit(1)
      assert.match(c.stderr, /is an ordinary torrent, not a live stream/, c.describe())
      assert.equal(c.stderr.trim().split('\n').length, 1, `one line: ${c.stderr}`)
      assert.doesNotMatch(c.stderr, STACK)
      assert.deepEqual(leftovers(c), [], 'no temporary folder left')
    }
    assert.deepEqual(stored.events.map((e) => e.event), ['error'], 'nothing announced before the verdict')

    // A --store that is a file is refused before anything starts, and left as it was.
    const notes = await run(['watch', NOBODY, '--no-dht', '--store', 'show.ts'], 30_000, { cwd: here })
    assert.equal(notes.code, 1, notes.describe())
    assert.equal(notes.stderr.trim(), 'webtorrent-live watch: --store show.ts is a file, not a folder; not touching it')
    assert.ok(readFileSync(join(here, 'show.ts')).equals(mine))
  })

  it('info and watch say the same one line about an ordinary torrent, from a .torrent file and from a magnet (metadata from a peer)', async () => {
    const { seeder, torrent } = await ordinary(bytes(PL * 5 + 11, 43))
    const here = tempDir()
    writeFileSync(join(here, 'final.torrent'), torrent.torrentFile)
    const peer = ['--peer', addr(seeder), '--no-dht']
    const [infoFile, watchFile, infoMagnet, watchMagnet] = await Promise.all([
      run(['info', 'final.torrent', '--no-dht'], 30_000, { cwd: here }),
      run(['watch', 'final.torrent', '--no-dht'], 30_000, { cwd: here }),
      run(['info', torrent.magnetURI, ...peer], 30_000, { cwd: here }),
      run(['watch', torrent.magnetURI, ...peer], 30_000, { cwd: here })
    ])
    const expected = `${torrent.infoHash as string} is an ordinary torrent, not a live stream (a finished broadcast's final torrent, say): open it with any BitTorrent client`
    for (const [cmd, c] of [['info', infoFile], ['watch', watchFile], ['info', infoMagnet], ['watch', watchMagnet]] as Array<[string, Cli]>) {
      assert.equal(c.code, 1, c.describe())
      const errors = c.stderr.split('\n').filter((l) => l.startsWith(`webtorrent-live ${cmd}: `))
      assert.deepEqual(errors, [`webtorrent-live ${cmd}: ${expected}`], c.describe())
      assert.ok(c.stderr.trimEnd().endsWith(expected), `the error is the last word: ${c.stderr}`)
      assert.equal(c.output.length, 0, 'nothing on stdout')
    }
    assert.equal(watchFile.stderr.trim().split('\n').length, 1, `a .torrent file: the error alone: ${watchFile.stderr}`)
    assert.deepEqual(readdirSync(here), ['final.torrent'], 'no file created')
  })

  it('watch run twice keeps both recordings (./show.ts, then ./show (1).ts); --force overwrites', async () => {
    const data = bytes(PL * 12 + 321, 44)
    const { bc, ready } = await aired(data)
    const here = tempDir()
    const peer = ['--peer', `127.0.0.1:${String(ready.port)}`, '--no-dht', '--json']

    const first = new Cli(['watch', ready.magnetURI, ...peer], { cwd: here })
    assert.equal((await first.event('done')).out, join(here, 'show.ts'))
    await first.exit(0)
    assert.ok(readFileSync(join(here, 'show.ts')).equals(data))
    const st = statSync(join(here, 'show.ts'))

    const second = new Cli(['watch', ready.magnetURI, ...peer], { cwd: here })
    const renamed = await second.event('renamed')
    assert.equal(renamed.requested, join(here, 'show.ts'))
    assert.equal(renamed.out, join(here, 'show (1).ts'))
    assert.equal((await second.event('done')).out, join(here, 'show (1).ts'))
    await second.exit(0)
    assert.match(second.stderr, /show\.ts exists: writing to .*show \(1\)\.ts instead/)
    assert.ok(readFileSync(join(here, 'show (1).ts')).equals(data), 'the second recording')
    const st2 = statSync(join(here, 'show.ts'))
    assert.equal(st2.ino, st.ino)
    assert.equal(st2.mtimeMs, st.mtimeMs, 'the first recording was not opened for writing')

    // --out FILE follows the same rule; --force writes over it.
    writeFileSync(join(here, 'mine.ts'), 'my notes')
    const third = new Cli(['watch', ready.magnetURI, ...peer, '--out', 'mine.ts'], { cwd: here })
    assert.equal((await third.event('renamed')).out, 'mine (1).ts')
    await third.exit(0)
    assert.equal(readFileSync(join(here, 'mine.ts'), 'utf8'), 'my notes')
    assert.ok(readFileSync(join(here, 'mine (1).ts')).equals(data))
    const forced = new Cli(['watch', ready.magnetURI, ...peer, '--out', 'mine.ts', '--force'], { cwd: here })
    assert.equal((await forced.event('done')).out, 'mine.ts')
    await forced.exit(0)
    assert.equal(forced.events.filter((e) => e.event === 'renamed').length, 0)
    assert.ok(readFileSync(join(here, 'mine.ts')).equals(data), '--force overwrote mine.ts')
    assert.deepEqual(readdirSync(here).sort(), ['mine (1).ts', 'mine.ts', 'show (1).ts', 'show.ts'])
    await bc.kill() // (its own Ctrl-C is not what this tests)
  })

  it('broadcast --torrent-out does not write over an existing file (FILE (1) instead); --force does', async () => {
    const dir = tempDir()
    const out = join(dir, 'final.torrent')
    writeFileSync(out, 'an older final torrent')
    const forcedOut = join(dir, 'forced.torrent')
    writeFileSync(forcedOut, 'to be replaced')
    const bp = aired(bytes(PL * 3 + 6, 46), ['--torrent-out', forcedOut, '--force'])
    bp.catch(() => {}) // judged below, after the case without --force
    const a = await aired(bytes(PL * 3 + 5, 45), ['--torrent-out', out])
    assert.equal(readFileSync(out, 'utf8'), 'an older final torrent', 'the existing file is untouched')
    const fresh = join(dir, 'final (1).torrent')
    assert.equal(a.ended.torrentFile, fresh)
    assert.deepEqual(a.bc.events.find((e) => e.event === 'renamed'), { event: 'renamed', requested: out, torrentFile: fresh })
    await until(a.bc, () => /final\.torrent exists: writing the final torrent to .*final \(1\)\.torrent instead/.test(a.bc.stderr), 'the line saying so') // stderr: its own pipe
    assert.ok(readFileSync(fresh).length > 0 && readFileSync(fresh).includes(Buffer.from('6:pieces')), 'a .torrent')
    const b = await bp
    assert.equal(b.ended.torrentFile, forcedOut)
    assert.ok(readFileSync(forcedOut).includes(Buffer.from('6:pieces')), '--force wrote over it')
    assert.equal(b.bc.events.filter((e) => e.event === 'renamed').length, 0)
    await Promise.all([a.bc.kill(), b.bc.kill()])
  })

  it('Ctrl-C or SIGTERM before the metadata (watch, watch --store, info) exits 130 and leaves no temporary folder', async () => {
    const here = tempDir()
    const watch = new Cli(['watch', NOBODY, '--no-dht', '--json'], { cwd: here })
    const stored = new Cli(['watch', NOBODY, '--no-dht', '--json', '--store', 'pieces'], { cwd: here })
    const info = new Cli(['info', NOBODY, '--no-dht'], { cwd: here })
    await watch.event('ready')
    await stored.event('ready')
    assert.equal(leftovers(watch).length, 1, 'watch made its temporary folder')
    await until(info, () => leftovers(info).length === 1, 'info made its temporary folder')
    await Promise.all([watch.interrupt(130), info.interrupt(130), (async () => { stored.proc.kill('SIGTERM'); await stored.exit(130) })()])
    for (const c of [watch, stored, info]) {
      assert.deepEqual(leftovers(c), [], `nothing left in TMPDIR (${c.describe()})`)
      assert.doesNotMatch(c.stderr, STACK)
    }
    assert.deepEqual(readdirSync(here), [], 'the empty --store folder made for it is gone too')
  })

  it('a second Ctrl-C exits at once and still removes the temporary folder; Ctrl-C while recording exits 130 (incomplete, said) with the bytes so far and nothing left', async () => {
    const twice = new Cli(['watch', NOBODY, '--no-dht', '--json'])
    await twice.event('ready')
    twice.proc.kill('SIGINT')
    twice.proc.kill('SIGINT')
    await twice.exit(130)
    assert.deepEqual(leftovers(twice), [])

    const data = bytes(PL * 200, 47)
    const dir = tempDir()
    writeFileSync(join(dir, 'show.ts'), data)
    const bc = new Cli(['broadcast', join(dir, 'show.ts'), '--rate', '300k', '--no-dht', '--json'])
    const ready = await bc.event('ready')
    const rec = new Cli(['watch', ready.magnetURI, '--peer', `127.0.0.1:${String(ready.port)}`, '--no-dht', '--out', join(dir, 'rec.ts'), '--json'])
    await rec.event('head', 30_000, (e) => e.pieces >= 10)
    assert.equal(leftovers(rec).length, 1)
    await rec.interrupt(130) // a recording stopped before the end is not a success
    assert.deepEqual(leftovers(rec), [], 'the temporary store is gone')
    const stopped = rec.events.find((e: any) => e.event === 'stopped')
    assert.ok(stopped && stopped.complete === false, 'a stopped event says the recording is incomplete')
    assert.match(rec.stderr, /stopped before the end: \d+ bytes in .*rec\.ts; the recording is incomplete/)
    const got = readFileSync(join(dir, 'rec.ts'))
    assert.ok(got.equals(data.subarray(0, got.length)), `a prefix of the stream (${got.length} bytes)`)
    await bc.kill() // (its own Ctrl-C is not what this tests)
  })

  it('a magnet nobody seeds: watch says "no peers yet" (stderr and a no-peers event), never "0.0 s behind live"', async () => {
    const c = new Cli(['watch', NOBODY, '--no-dht', '--json'])
    const ev = await c.event('no-peers', 40_000)
    assert.ok(ev.seconds >= 10 && ev.seconds < 20, JSON.stringify(ev))
    assert.equal(ev.connectedBefore, false)
    await until(c, () => /no peers yet after \d+ s; still looking/.test(c.stderr), 'the no-peers line')
    assert.match(c.stderr, /waiting {2}no peers yet/, 'the status line')
    assert.doesNotMatch(c.stderr, /behind live/)
    assert.deepEqual(c.events.map((e) => e.event), ['ready', 'no-peers'])
    assert.deepEqual(readdirSync(c.tmp).filter((f) => !f.startsWith('webtorrent-live-watch-')), [], 'nothing written')
    await c.interrupt(130)
    assert.deepEqual(leftovers(c), [])
  })
})
