/** The upload budget's admission rule (lib/live/upload-budget.ts): what an uplink accepts to send soon. */
import assert from 'node:assert/strict'
import Wire from 'bittorrent-protocol'
import { IDLE_BYTES, MAX_STUCK_BYTES, MAX_UNSENT_BYTES, MIN_QUEUE_BYTES, STUCK_TICKS, TARGET_QUEUE_MS, TICK_MS, UploadBudget } from '../../lib/live/upload-budget.js'

const BLOCK = 16384

/** A budget whose backlog is `backlog` bytes (promised, not yet sent) and whose drain rate is `rate` B/s. */
function budget (backlog: number, rate: number): UploadBudget {
  const b = new UploadBudget()
  b.reserve(backlog)
  b.rate = rate
  return b
}

describe('upload budget: admission', () => {
  it('an idle uplink admits a block whatever its rate; a few bytes of messages on their way still count as idle', () => {
    assert.equal(budget(0, 0).admit(BLOCK), true, 'no rate measured yet')
    assert.equal(budget(0, 16_000).admit(BLOCK), true, 'a block takes a narrow uplink a second: still one at a time')
    assert.equal(budget(IDLE_BYTES, 16_000).admit(BLOCK), true)
  })

  it('a narrow uplink serves one block at a time: a second is refused while the first is on its way', () => {
    const rate = 48_000 // 1.5 × 256 kbit/s: sends ~12 KB in TARGET_QUEUE_MS, less than a block
    assert.ok(rate * TARGET_QUEUE_MS / 1000 < MIN_QUEUE_BYTES)
    // Half of a block still to send: two blocks side by side would both arrive late.
    assert.equal(budget(BLOCK / 2, rate).admit(BLOCK), false)
    assert.equal(budget(IDLE_BYTES + 1, rate).admit(BLOCK), false)
  })

  it('a wide uplink admits what it sends within TARGET_QUEUE_MS, and refuses beyond', () => {
    const rate = 131_072 // 4 × 32 KiB/s: two blocks in 250 ms
    assert.equal(budget(BLOCK, rate).admit(BLOCK), true, 'two blocks fit')
    assert.equal(budget(BLOCK + 1, rate).admit(BLOCK), false)
    const b = budget(BLOCK, rate)
    b.admit(BLOCK)
    b.admit(BLOCK * 4)
    assert.deepEqual(b.stats, { admitted: 1, rejected: 1, dropped: 0 })
  })
})

describe('upload budget: what we hold for a peer', () => {
  /* eslint-disable @typescript-eslint/no-explicit-any */
  it('a wire whose connection counts no bytes (WebRTC) is closed once its own buffer passes MAX_UNSENT_BYTES, or MAX_STUCK_BYTES while it does not drain', async () => {
    const b = new UploadBudget()
    const torrent: any = { _peers: new Map() } // the wire's connection is not a net.Socket: no byte counters
    const full: any = new (Wire as any)()
    const stuck: any = new (Wire as any)()
    const fine: any = new (Wire as any)()
    for (const w of [full, stuck, fine]) b.watch(torrent, w)
    // Nothing reads these wires, as a data channel that stopped draining: what they produce stays in them.
    full.push(new Uint8Array(MAX_UNSENT_BYTES + 1))
    stuck.push(new Uint8Array(MAX_STUCK_BYTES + 1))
    fine.push(new Uint8Array(MAX_STUCK_BYTES / 2))
    await new Promise((resolve) => setTimeout(resolve, 2 * TICK_MS + 50))
    assert.equal(full.destroyed, true, 'over MAX_UNSENT_BYTES')
    assert.equal(stuck.destroyed, false, 'not yet: it may drain')
    await new Promise((resolve) => setTimeout(resolve, (STUCK_TICKS + 1) * TICK_MS))
    assert.equal(stuck.destroyed, true, 'nothing left it for STUCK_TICKS ticks')
    assert.equal(fine.destroyed, false)
    assert.equal(b.stats.dropped, 2)
    fine.destroy()
    b.close()
  })
})
