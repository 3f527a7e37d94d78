/** HashLog.forget (the sliding window, lib/live/window.ts): old hashes go, the chain above still verifies. */
import assert from 'node:assert/strict'
import { createHash } from 'node:crypto'
import { nativeHashes } from '../../lib/crypto/native-node.js'
import { concat, genesis, step, toHex } from '../../lib/protocol/index.js'
import { HashLog } from '../../lib/state/hash-log.js'

const sha1 = (i: number): Uint8Array => createHash('sha1').update(`piece ${i}`).digest()

describe('HashLog.forget (sliding window)', () => {
  it('forgets hashes below the window, keeps c[start] and every chain value above, answers no range below', () => {
    const g = genesis(nativeHashes, new Uint8Array(20).fill(7))
    const log = new HashLog(nativeHashes, g)
    const chain = [g]
    for (let i = 0; i < 300; i++) chain.push(log.append(sha1(i)))
    log.forget(150)
    assert.equal(log.has(149), false)
    assert.equal(log.get(149), null)
    assert.equal(log.range(0, 10), null)
    assert.equal(log.range(149, 151), null)
    assert.equal(toHex(log.get(150)!), toHex(sha1(150)))
    for (const p of [150, 151, 191, 192, 256, 299, 300]) assert.equal(toHex(log.chainAt(p)!), toHex(chain[p]!), `c[${p}]`)
    assert.equal(log.chainAt(149), null)
    assert.deepEqual(log.gaps(300), [[0, 150]])
    assert.equal(log.end, 300)
    // A page of the window still verifies against the kept anchor, and the log keeps growing.
    const page = concat(Array.from({ length: 50 }, (_, k) => sha1(150 + k)))
    assert.ok(log.verifySegment(150, log.chainAt(150)!, page, chain[200]!))
    log.forget(100) // lower than before: nothing changes
    assert.equal(toHex(log.chainAt(150)!), toHex(chain[150]!))
    assert.equal(toHex(log.get(150)!), toHex(sha1(150)))
    // Forgetting everything: the log still continues from the last chain value.
    log.forget(300)
    assert.equal(log.has(299), false)
    assert.equal(toHex(log.chainAt(300)!), toHex(chain[300]!))
    const c301 = log.append(sha1(300))
    assert.equal(toHex(c301), toHex(step(nativeHashes, chain[300]!, sha1(300))))
  })

  it('a log that keeps forgetting holds a buffer of the window, not of the history, and still answers right', () => {
    const g = genesis(nativeHashes, new Uint8Array(20).fill(9))
    const log = new HashLog(nativeHashes, g)
    const chain = [g]
    const W = 500
    let most = 0
    for (let i = 0; i < 20_000; i++) {
      chain.push(log.append(sha1(i)))
      if (i % 100 === 99) log.forget(i + 1 - W)
      most = Math.max(most, (log as unknown as { buf: Uint8Array }).buf.byteLength)
    }
    assert.ok(most <= 4 * W * 20 * 2, `buffer peaked at ${most} bytes for a window of ${W} hashes`)
    for (const p of [19_500, 19_501, 19_563, 19_999]) assert.equal(toHex(log.get(p)!), toHex(sha1(p)), `h[${p}]`)
    for (const p of [19_500, 19_520, 19_600, 20_000]) assert.equal(toHex(log.chainAt(p)!), toHex(chain[p]!), `c[${p}]`)
    assert.equal(toHex(concat([log.range(19_990, 20_000)!])), toHex(concat(Array.from({ length: 10 }, (_, k) => sha1(19_990 + k)))))
    assert.equal(log.get(19_000), null)
    // A late page reaching below what was forgotten is kept only from the window on.
    const page = concat(Array.from({ length: 64 }, (_, k) => sha1(19_450 + k)))
    const cps = log.verifySegment(19_450, chain[19_450]!, page, chain[19_514]!)
    assert.ok(cps)
    assert.equal(log.insert(19_450, chain[19_450]!, page, chain[19_514]!, cps, null), null)
    assert.equal(log.has(19_499), false)
    assert.equal(toHex(log.get(19_500)!), toHex(sha1(19_500)))
    assert.equal(toHex(log.get(19_513)!), toHex(sha1(19_513)))
  })
})
