/** The Peer's own state: claims only grow (bounded), heads raise what it knows, the page back-off ends. */
import assert from 'node:assert/strict'
import { MAX_PIECES } from '../../lib/protocol/constants.js'
import { Peer } from '../../lib/live/peer.js'
import { MAX_MESSAGES_PER_SECOND } from '../../lib/live/limits.js'
import type { WireLike } from '../../patches/index.js'

const wire = (): WireLike => ({ destroyed: false } as unknown as WireLike)

describe('Peer', () => {
  it('claims only grow, and are bounded by the protocol', () => {
    const p = new Peer(wire())
    assert.equal(p.claim(10), true)
    assert.equal(p.claim(5), false)
    assert.equal(p.claim('20'), false)
    assert.equal(p.claim(1.5), false)
    assert.equal(p.claimedCount, 10)
    p.claim(MAX_PIECES * 4)
    assert.equal(p.claimedCount, MAX_PIECES)
  })

  it('a page back-off lowers knownCount until it ends; heads raise it meanwhile', async () => {
    const p = new Peer(wire())
    p.knows(100, 3)
    assert.equal(p.knownCount, 100)
    let retried = 0
    p.askOthersFirst(40, 20, () => { retried++ })
    assert.equal(p.knownCount, 40, 'pages above 40 go to others for now')
    p.knows(60, 4)
    assert.equal(p.knownCount, 60, 'a newer head from it: it holds those hashes')
    assert.equal(p.knownRank, 4)
    await new Promise<void>((resolve) => { const t = setInterval(() => { if (retried > 0) { clearInterval(t); resolve() } }, 5) })
    assert.equal(p.knownCount, 100, 'after the back-off, all it knows')
  })

  it('counts messages per second', () => {
    const p = new Peer(wire())
    for (let i = 0; i < MAX_MESSAGES_PER_SECOND; i++) assert.equal(p.withinRate(1000), true)
    assert.equal(p.withinRate(1000), false)
    assert.equal(p.withinRate(2000), true, 'a new second')
  })
})
