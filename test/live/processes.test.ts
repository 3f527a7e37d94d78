/**
 * Broadcaster and viewers in separate processes: the broadcaster runs here (in mocha), each viewer
 * is a child Node process (test/fixtures/viewer-process.ts) talking to the others over loopback TCP.
 */
import assert from 'node:assert/strict'
import { existsSync, readFileSync } from 'node:fs'
import { broadcast } from '../../lib/index.js'
import { addr, air, bytes, destroyAll, makeClient, tempDir, withTimeout } from '../support/clients.js'
import type { WireLike } from '../../patches/index.js'
import { FIXTURE, Viewer } from '../support/viewer.js'

const PL = 16384

describe('live swarm across processes', function () {
  this.timeout(90_000)
  let viewers: Viewer[] = []

  afterEach(async () => {
    await Promise.all(viewers.map((v) => v.kill()))
    viewers = []
    await destroyAll()
  })

  it('viewers in other processes, one reaching the broadcaster only through another, and one from live', async () => {
    assert.ok(existsSync(FIXTURE), `compiled fixture at ${FIXTURE}`)
    const dir = tempDir()
    const client = await makeClient()
    const bc = await broadcast(client, { name: 'processes.bin', pieceLength: PL })
    const met = new Set<string>()
    bc.torrent.on('wire', (w: WireLike) => {
      if (w.peerId) met.add(w.peerId); else w.once('handshake', (_ih: string, peerId: string) => met.add(peerId))
    })
    const data = bytes(PL * 200 + 4321, 11)
    const half = PL * 100 + 555

    // V1 connects to the broadcaster and keeps seeding after its stream ends, for V2.
    const v1 = new Viewer('V1', { magnet: bc.magnetURI, peers: [addr(client)], hold: true }, dir)
    viewers.push(v1)
    const p1 = (await v1.event('listening', 15_000)).port as number
    assert.ok(Number.isInteger(p1) && p1 > 0, `V1 port ${p1}`)
    // V2 knows only V1.
    const v2 = new Viewer('V2', { magnet: bc.magnetURI, peers: [`127.0.0.1:${p1}`] }, dir)
    viewers.push(v2)
    await v2.event('listening', 15_000)

    await air(bc, data.subarray(0, PL * 10), { pauseMs: 2 })
    assert.equal((await v1.event('start', 15_000)).startPiece, 0)
    assert.equal((await v2.event('start', 15_000)).startPiece, 0)
    await air(bc, data.subarray(PL * 10, half), { pauseMs: 2 })

    // V3 joins from the live edge after half the stream aired.
    const v3 = new Viewer('V3', { magnet: bc.magnetURI, peers: [addr(client)], from: 'live' }, dir)
    viewers.push(v3)
    await v3.event('listening', 15_000)
    const start3 = (await v3.event('start', 15_000)).startPiece as number
    const aired = Math.floor(half / PL)
    assert.ok(Number.isInteger(start3) && start3 >= aired - 1 && start3 <= 200, `V3 starts near the edge: piece ${start3}, ${aired} aired`)

    await air(bc, data.subarray(half), { pauseMs: 2 })
    const fin = await bc.end()
    assert.equal(bc.live.count, 201)

    const [d1, d2, d3] = await Promise.all([v1.event('done', 30_000), v2.event('done', 30_000), v3.event('done', 30_000)])
    assert.equal(d1!.bytes, data.length)
    assert.equal(d2!.bytes, data.length)
    assert.equal(d3!.bytes, data.length - start3 * PL)
    assert.ok(readFileSync(v1.out).equals(data), 'V1 file is the stream')
    assert.ok(readFileSync(v2.out).equals(data), 'V2 file is the stream, through V1 only')
    assert.ok(readFileSync(v3.out).equals(data.subarray(start3 * PL)), 'V3 file is the suffix from its start piece')

    // V2 and V3 exit by themselves; V1 once released.
    await withTimeout(Promise.all([v2.exited, v3.exited]), 10_000, 'V2 and V3 exit')
    assert.equal(v2.exitCode, 0, `V2 exit code (${v2.stderr})`)
    assert.equal(v3.exitCode, 0, `V3 exit code (${v3.stderr})`)
    await v1.close(10_000)

    // V2 never talked to the broadcaster: every peer the broadcaster met was V1 or V3.
    const id = (v: Viewer): unknown => v.events.find((e) => e.event === 'listening')!.peerId
    assert.ok(met.size >= 2, `the broadcaster met V1 and V3 (${[...met].join(', ')})`)
    for (const p of met) assert.ok(p === id(v1) || p === id(v3), `the broadcaster met only V1 and V3, not ${p} (V2 is ${String(id(v2))})`)
    assert.match(fin.infoHash, /^[0-9a-f]{40}$/)
  })
})
