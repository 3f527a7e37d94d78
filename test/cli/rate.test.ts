/** Status-line rates are current rates: they fall to 0 once bytes stop, unlike total ÷ elapsed. */
import assert from 'node:assert/strict'
import { RateMeter } from '../../lib/cli/common.js'

describe('cli: current rates', () => {
  it('is the rate over the last window, and 0 once the source has stopped for a window', () => {
    const m = new RateMeter(5000)
    let total = 0
    let r = 0
    for (let t = 0; t <= 20_000; t += 500) { r = m.sample(total, t); total += 50_000 } // 100 kB/s for 20 s
    assert.ok(Math.abs(r - 100_000) < 1, `while airing: ${r}`)
    const stopped = total
    for (let t = 20_500; t <= 30_000; t += 500) r = m.sample(stopped, t)
    assert.equal(r, 0, 'after the end, no bytes in the window: 0, not a decaying average')
  })
})
