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
})
