/**
 * WebTorrent's upload limit under the live layer (patches/client-throttle.ts): at most 100 ms of
 * bytes pass at once, also after a pause and after the limit is set again, and a live swarm whose
 * clients have limits stays byte-identical. A limit too narrow to send a block before the requester
 * gives up refuses requests at once (upload-budget.ts, MAX_SERVE_MS).
 */
import assert from 'node:assert/strict'
import { broadcast } from '../../lib/index.js'
import { addr, air, bytes, collect, destroyAll, join, makeClient, poll, sleep, withTimeout } from '../support/clients.js'

/* eslint-disable @typescript-eslint/no-explicit-any */

/** Bytes of `data` that pass one throttle of `client`'s upload group within `ms` of being written. */
async function burst (client: any, data: Buffer, ms: number): Promise<number> {
  const throttle = client.throttleGroups.up.throttle()
  let passed = 0
  throttle.on('data', (c: Uint8Array) => { passed += c.length })
  throttle.write(data)
  await sleep(ms)
  const n = passed
  throttle.destroy()
  return n
}

describe('upload limit (WebTorrent uploadLimit) on a live client', function () {
  this.timeout(60_000)
  afterEach(destroyAll)

  it('lets through about 100 ms of the limit at once after a pause, not a second of it', async () => {
    const stock = await makeClient(false, { uploadLimit: 200_000 })
    const live = await makeClient(true, { uploadLimit: 200_000 })
    await sleep(1100) // both buckets fill while idle
    const data = bytes(150_000, 3)
    const stockBurst = await burst(stock, data, 30)
    const liveBurst = await burst(live, data, 30)
    assert.ok(stockBurst >= 100_000, `stock WebTorrent passes a second's worth at once (${stockBurst} bytes)`)
    assert.ok(liveBurst < 40_000, `a live client passes 100 ms of tokens and what comes meanwhile, less than 200 ms (${liveBurst} bytes)`)
    live.throttleUpload(400_000)
    await sleep(1100)
    const again = await burst(live, data, 30)
    assert.ok(again < 80_000, `after throttleUpload(400 000): ${again} bytes`)
  })

  it('a lower limit set while a slice waits for its tokens fails nothing: every byte still passes', async () => {
    const live = await makeClient(true, { uploadLimit: 400_000 })
    const throttle = live.throttleGroups.up.throttle()
    const errors: unknown[] = []
    throttle.on('error', (err: unknown) => errors.push(err))
    let passed = 0
    throttle.on('data', (c: Uint8Array) => { passed += c.length })
    throttle.write(bytes(60_000, 6)) // the bucket starts empty: slices cut at 400 000 B/s wait for tokens
    await sleep(20)
    live.throttleUpload(40_000)
    await withTimeout(new Promise<void>((resolve) => { const t = setInterval(() => { if (passed >= 60_000 || errors.length) { clearInterval(t); resolve() } }, 20) }), 20_000, 'the bytes through the lowered limit')
    throttle.destroy()
    assert.deepEqual(errors, [])
    assert.equal(passed, 60_000)
  })

  it('a viewer whose limit cannot send a block in time REJECTs requests at once: nobody waits 10 s on it or bans it', async () => {
    const src = await makeClient(true)
    const bc = await broadcast(src, { name: 'narrow.bin', pieceLength: 16384 })
    const narrow = await makeClient(true, { uploadLimit: 1000 }) // one 16 KiB block: 16 s, past a requester's 10 s timeout
    const tn = join(narrow, bc.magnetURI, [src])
    const outN = collect(tn.live.createReadStream())
    const data = bytes(16384 * 8 + 99, 5)
    await air(bc, data.subarray(0, 16384 * 6))
    await poll(() => [0, 1, 2, 3, 4, 5].every((i) => tn.live.has(i)), 20_000, 'the narrow viewer holds the first 6 pieces')
    // A viewer from the start meets the narrow one first, and asks it; then the broadcaster (asked last).
    const v = await makeClient(true)
    const tv = join(v, bc.magnetURI, [narrow], { from: 'start' })
    let bans = 0
    tv.live.on('peer-banned', () => { bans++ })
    const outV = collect(tv.live.createReadStream())
    await poll(() => tn.live.uploads.stats.rejected + tn.live.uploads.stats.admitted > 0, 20_000, 'the new viewer asks the narrow one')
    tv.addPeer(addr(src))
    await air(bc, data.subarray(16384 * 6))
    await bc.end()
    assert.ok((await withTimeout(outV, 40_000, 'the new viewer')).equals(data))
    assert.ok((await withTimeout(outN, 40_000, 'the narrow viewer')).equals(data))
    assert.equal(bans, 0)
    const budget = tn.live.uploads.stats
    assert.equal(budget.admitted, 0, 'the narrow viewer admitted a request it could not serve in time')
    assert.ok(budget.rejected > 0, 'the new viewer asked the narrow one (and was refused)')
  })

  it('a broadcaster whose limit is under the viewers\' bound still serves: it is the one source of each piece', async () => {
    const src = await makeClient(true, { uploadLimit: 3000 }) // a 16 KiB block: 5.5 s, over the 5 s a viewer's budget allows
    const bc = await broadcast(src, { name: 'narrow-source.bin', pieceLength: 16384 })
    const v = await makeClient(true)
    const tv = join(v, bc.magnetURI, [src])
    const out = collect(tv.live.createReadStream())
    const data = bytes(16384 + 5000, 9)
    await air(bc, data)
    await bc.end()
    assert.ok((await withTimeout(out, 60_000, 'the viewer of a narrow broadcaster')).equals(data))
    assert.ok(bc.live.uploads.stats.admitted > 0)
  })

  it('a live swarm of clients with upload limits delivers every byte, in order', async () => {
    const src = await makeClient(true, { uploadLimit: 400_000 })
    const bc = await broadcast(src, { name: 'limited.bin', pieceLength: 16384 })
    const v1 = await makeClient(true, { uploadLimit: 100_000 })
    const v2 = await makeClient(true, { uploadLimit: 100_000 })
    const t1 = join(v1, bc.magnetURI, [src])
    const t2 = join(v2, bc.magnetURI, [src, v1])
    const out1 = collect(t1.live.createReadStream())
    const out2 = collect(t2.live.createReadStream())
    const data = bytes(16384 * 30 + 123, 4)
    await air(bc, data, { pauseMs: 20 })
    await bc.end()
    assert.ok((await withTimeout(out1, 40_000, 'first viewer')).equals(data))
    assert.ok((await withTimeout(out2, 40_000, 'second viewer')).equals(data))
  })
})
