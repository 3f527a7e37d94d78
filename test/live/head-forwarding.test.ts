/**
 * Bounded HEAD forwarding (lib/live/head-sync.ts, spec §8 "Bounded forwarding"): a viewer with
 * more neighbours than HEAD_FANOUT does not send every head to every one of them, yet each
 * neighbour ends up with the newest head (the sweep), and an END reaches all of them at once.
 * The neighbours are raw ut_live peers (test/support/hostile/attacker.ts) that only listen.
 */
import assert from 'node:assert/strict'
import { HEAD_FANOUT, HEAD_QUIET_MS, HEAD_SWEEP_MS, MAX_PACE_MS } from '../../lib/live/head-sync.js'
import type { Message } from '../../lib/protocol/messages.js'
import { destroyAll, withTimeout } from '../support/clients.js'
import { Attacker } from '../support/hostile/attacker.js'
import { poll, sleep, stage } from '../support/hostile/cases.js'

type HeadMsg = Extract<Message, { type: 'head' }>
const headsOf = (a: Attacker): HeadMsg[] => a.received.filter((m): m is HeadMsg => m.type === 'head')
const newest = (a: Attacker): number => Math.max(-1, ...headsOf(a).map((m) => m.head.count))

describe('bounded HEAD forwarding', function () {
  this.timeout(60_000)
  afterEach(destroyAll)

  it('a viewer with 3 × HEAD_FANOUT listeners sends fewer HEADs than heads × listeners, yet each gets the newest head, and the END', async () => {
    const s = await stage({ pieces: 60, first: 10 })
    const listeners = Array.from({ length: 3 * HEAD_FANOUT }, () => Attacker.connect(s.port, s.infoHash))
    await withTimeout(Promise.all(listeners.map((l) => l.ready)), 20_000, 'listeners handshaken')
    await poll(() => listeners.every((l) => newest(l) === s.first), 10_000, 'every listener has the current head')
    const before = listeners.map((l) => headsOf(l).length)

    // 20 more heads, one per piece, faster than HEAD_QUIET_MS: forwarding is by fanout.
    const heads = 20
    for (let k = s.first; k < s.first + heads; k++) {
      await s.bc.write(s.data.subarray(s.pl * k, s.pl * (k + 1)))
      await sleep(20)
    }
    const count = s.first + heads
    await poll(() => s.tv.live.count === count, 10_000, 'the viewer has every head')
    await poll(() => listeners.every((l) => newest(l) === count), HEAD_SWEEP_MS + 10_000, 'every listener has the newest head (the sweep)')
    const sent = listeners.reduce((a, l, i) => a + headsOf(l).length - before[i]!, 0)
    assert.ok(sent < heads * listeners.length * 0.75, `${sent} HEADs for ${heads} heads to ${listeners.length} listeners`)

    // The END goes to every listener at once (no sweep needed, none missed).
    await s.bc.end()
    await poll(() => listeners.every((l) => headsOf(l).some((m) => m.head.ended)), 10_000, 'every listener has the END')
    for (const l of listeners) l.destroy()
  })

  it('the broadcaster spreads its own heads the same way, and tells no peer of a piece before a head covering it', async () => {
    const s = await stage({ pieces: 60, first: 10 })
    const listeners = Array.from({ length: 3 * HEAD_FANOUT }, () => Attacker.connect(s.a.address().port, s.infoHash))
    await withTimeout(Promise.all(listeners.map((l) => l.ready)), 20_000, 'listeners handshaken')
    await poll(() => listeners.every((l) => newest(l) === s.first), 10_000, 'every listener has the current head')
    const before = listeners.map((l) => headsOf(l).length)
    const early: string[] = [] // HAVEs that came before a head covering their piece
    const told = listeners.map(() => new Set<number>())
    listeners.forEach((l, k) => l.wire.on('have', (i: number) => { told[k]!.add(i); if (newest(l) <= i) early.push(`HAVE ${i} at head ${newest(l)}`) }))

    const heads = 20
    for (let k = s.first; k < s.first + heads; k++) {
      await s.bc.write(s.data.subarray(s.pl * k, s.pl * (k + 1)))
      await sleep(20)
    }
    const count = s.first + heads
    await poll(() => listeners.every((l) => newest(l) === count), HEAD_SWEEP_MS + 10_000, 'every listener has the newest head')
    const sent = listeners.reduce((a, l, i) => a + headsOf(l).length - before[i]!, 0)
    assert.ok(sent < heads * listeners.length * 0.75, `${sent} HEADs for ${heads} heads to ${listeners.length} listeners`)
    // The listeners ask for nothing: each is told of every piece by the relay policy's fallback, a head first.
    await poll(() => told.every((t) => t.has(count - 1)), 20_000, 'every listener told of the newest piece')
    assert.deepEqual(early, [])

    await s.bc.end()
    await poll(() => listeners.every((l) => headsOf(l).some((m) => m.head.ended)), 10_000, 'every listener has the END')
    for (const l of listeners) l.destroy()
  })

  it('on a slow stream (heads 2 s apart, longer than HEAD_QUIET_MS) heads are paced by the stream: not every head to every listener, yet none waits longer than MAX_PACE_MS plus two head intervals', async function () {
    this.timeout(120_000)
    const s = await stage({ pieces: 60, first: 10 })
    const listeners = Array.from({ length: 3 * HEAD_FANOUT }, () => Attacker.connect(s.port, s.infoHash))
    await withTimeout(Promise.all(listeners.map((l) => l.ready)), 20_000, 'listeners handshaken')
    await poll(() => listeners.every((l) => newest(l) === s.first), 10_000, 'every listener has the current head')
    // The pace is an average that follows the stream within a few heads (one pause must not stretch
    // it): WARM heads at the slow pace first, then the heads counted.
    const interval = 2 * HEAD_QUIET_MS
    const WARM = 6
    for (let k = s.first; k < s.first + WARM; k++) {
      await s.bc.write(s.data.subarray(s.pl * k, s.pl * (k + 1)))
      await sleep(interval)
    }
    s.first += WARM
    // When each listener got each new head.
    const got = listeners.map(() => [] as number[])
    const seen = listeners.map((l) => headsOf(l).length)
    listeners.forEach((l, k) => l.wire.on('extended', () => { // after the listener decoded it
      const n = headsOf(l).length
      if (n > seen[k]!) { seen[k] = n; got[k]!.push(Date.now()) }
    }))
    const heads = 8
    const t0 = Date.now()
    for (let k = s.first; k < s.first + heads; k++) {
      await s.bc.write(s.data.subarray(s.pl * k, s.pl * (k + 1)))
      await sleep(interval)
    }
    const count = s.first + heads
    await poll(() => listeners.every((l) => newest(l) === count), MAX_PACE_MS + 10_000, 'every listener has the newest head (the sweep)')
    const sent = got.reduce((a, g) => a + g.length, 0)
    // Quiet measured in seconds, every listener was quiet at every head and got each one (heads ×
    // listeners). Paced, a head goes to those that missed the one before and to HEAD_FANOUT others:
    // about (24 + 8) / 48 = 2/3 of them.
    assert.ok(sent < heads * listeners.length * 0.8, `${sent} HEADs for ${heads} heads to ${listeners.length} listeners`)
    // No listener went without a head for longer than MAX_PACE_MS (quiet at most that long) and a head's interval of slack.
    for (const [k, g] of got.entries()) {
      const times = [t0, ...g]
      const longest = Math.max(...times.slice(1).map((t, i) => t - times[i]!))
      assert.ok(longest <= MAX_PACE_MS + 2 * interval, `listener ${k} went ${longest} ms without a head (${g.length} heads)`)
    }
    await s.bc.end()
    for (const l of listeners) l.destroy()
  })
})
