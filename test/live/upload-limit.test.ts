/**
 * WebTorrent's upload limit under the live layer (patches/client-throttle.ts): at most 100 ms of
 * bytes pass at once, also after a pause and after the limit is set again, and a live swarm whose
 * clients have limits stays byte-identical.
 */
import assert from 'node:assert/strict'
import { broadcast } from '../../lib/index.js'
import { air, bytes, collect, destroyAll, join, makeClient, sleep, withTimeout } from '../support/clients.js'

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
