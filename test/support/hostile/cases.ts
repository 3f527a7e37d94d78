/**
 * Hostile-peer cases over real sockets (issue #8): an honest broadcaster and viewers (real
 * WebTorrent clients on loopback TCP) and an attacker (a raw bittorrent-protocol Wire, see
 * attacker.ts). Each case asserts: no crash, the honest stream does not stall, not one wrong byte
 * in any reader's output, the offender banned (with its code) and a reconnect refused. Shared by
 * the mocha suite (test/hostile/*.test.ts) and the long run (scripts/hostile.ts), which repeats them.
 */
import assert from 'node:assert/strict'
import { randomBytes } from 'node:crypto'
import { broadcast, createKeyPair } from '../../../lib/index.js'
import { ed25519, hashes } from '../../../lib/crypto/index.js'
import { equal, fromHex } from '../../../lib/protocol/bytes.js'
import { genesis, runChain } from '../../../lib/protocol/chain.js'
import { MAX_PIECES, PIECE_HASH_BYTES } from '../../../lib/protocol/constants.js'
import { signable, type Head, type SignedHead } from '../../../lib/protocol/head.js'
import { encode, type Message, type Tail } from '../../../lib/protocol/messages.js'
import fc from 'fast-check'
import { hostile } from './fuzz.js'
import { CLAIM_PROOF_MS, MAX_BANS, PAGE_TIMEOUT_MS, PIECE_TIMEOUT_MS as PIECE_TIMEOUT } from '../../../lib/live/limits.js'
import { MAX_MESSAGES_PER_SECOND } from '../../../lib/live/limits.js'
import { addr, air, bytes, collect, destroyAll, join, makeClient, withTimeout } from '../clients.js'
import { poll, sleep } from '../wait.js'
import { Attacker, reconnectRefused, within, type AttackerOptions } from './attacker.js'

/* eslint-disable @typescript-eslint/no-explicit-any */

/** The figures the issue asks for, summed over every case run in this process. */
export const figures = {
  /** Hostile inputs tried (messages, connections, cases). */
  casesTried: 0,
  /** Heads or pages from an attacker that a peer accepted as the stream's (must stay 0). */
  acceptedForgeries: 0,
  /** Bytes in any reader's output that differ from the broadcast (must stay 0). */
  corruptBytes: 0,
  /** Peers banned, by code. */
  bans: {} as Record<string, number>,
  /** Peak resident set size seen, MiB. */
  peakRssMiB: 0,
  /** CPU time of the victim's process while a flood of 5000 heads/requests came in, ms (the most seen). */
  floodCpuMs: 0,
  /** How long an honest viewer took to finish behind a peer that holds every request, ms (the most seen). */
  silentSeederMs: 0
}

export function sampleRss (): void {
  const mib = process.memoryUsage().rss / 2 ** 20
  if (mib > figures.peakRssMiB) figures.peakRssMiB = mib
  const max = process.resourceUsage().maxRSS / 1024 // KiB → MiB, the kernel's own peak
  if (max > figures.peakRssMiB) figures.peakRssMiB = max
}

export interface Ban { addr: string | null, peerId: string, code: string, reason: string }

export interface Stage {
  a: any
  bc: any
  v: any
  tv: any
  data: Buffer
  pl: number
  first: number
  /** The honest viewer's reader output (resolves when the broadcast ends). */
  out: Promise<Buffer>
  bans: Ban[]
  port: number
  infoHash: string
}

export { poll, sleep }

/**
 * A broadcaster airing `first` of `pieces` pieces and one honest viewer that has them all and a
 * reader running. The viewer is joined with the torrent file (so it needs nobody's metadata) and
 * connected to the broadcaster unless `connect` is false.
 */
export async function stage (opts: { pieces?: number, first?: number, pl?: number, seed?: number, connect?: boolean, from?: 'start' | 'live' } = {}): Promise<Stage> {
  const pl = opts.pl ?? 16384
  const pieces = opts.pieces ?? 40
  const first = opts.first ?? 15
  const a = await makeClient()
  const bc = await broadcast(a, { name: 'hostile.bin', pieceLength: pl })
  const data = bytes(pl * pieces + 777, opts.seed ?? 5)
  await air(bc, data.subarray(0, pl * first), { chunk: pl * 8 })
  const v = await makeClient()
  const tv = join(v, bc.torrentFile, opts.connect === false ? [] : [a], opts.from ? { from: opts.from } : {})
  const bans: Ban[] = []
  tv.live.on('peer-banned', (b: Ban) => {
    bans.push(b)
    figures.bans[b.code] = (figures.bans[b.code] ?? 0) + 1
    if (process.env.HOSTILE_DEBUG) console.log(`  banned ${b.peerId.slice(0, 8)} ${b.code}: ${b.reason}`)
  })
  bc.live.on('peer-banned', (b: Ban) => { figures.bans[b.code] = (figures.bans[b.code] ?? 0) + 1 })
  tv.live.on('error', () => {}) // asserted where expected; an unexpected one fails the output check
  if (process.env.HOSTILE_DIAG) {
    tv.on('wire', (w: any) => w.on('timeout', () => console.log(`  timeout on ${w.peerId?.slice(0, 8)}: requests ${JSON.stringify(w.requests.map((r: any) => [r.piece, r.offset, r.length]))} peerChoking ${w.peerChoking}`)))
    bc.torrent.on('wire', (w: any) => {
      w.on('request', (i: number, o: number, l: number) => { if (bc.torrent.pieces[i]) console.log(`  broadcaster ignores request ${i} ${o} ${l} (piece not had)`) })
      w.on('choke', () => {}) // (remote)
    })
  }
  if (opts.connect !== false) await poll(() => tv.live.ready && tv.live.has(first - 1), 20_000, 'viewer synced')
  else await poll(() => tv.live.ready, 20_000, 'viewer ready')
  const out = collect(tv.live.createReadStream())
  out.catch(() => {})
  return { a, bc, v, tv, data, pl, first, out, bans, port: v.address().port, infoHash: bc.infoHash }
}

/** Prints why a viewer may be stuck (HOSTILE_DEBUG). */
export function diagnose (s: Stage): void {
  const t = s.tv
  let miss = 0
  while (miss < t.pieces.length && t.bitfield.get(miss)) miss++
  const ban = (t.live as any).smartBan
  console.log(`  stuck: count ${t.live.count}, first missing ${miss}, pieces.length ${t.pieces.length}, hash known ${Boolean(t.live.state?.log.get(miss))}`)
  console.log(`  piece ${miss}: ${JSON.stringify(t.pieces[miss] ? { missing: t.pieces[miss].missing, reservations: t.pieces[miss]._reservations, chunks: t.pieces[miss]._chunks, buffered: t.pieces[miss]._buffered } : null)} reservations ${JSON.stringify((t._reservations[miss] ?? []).map((w: any) => w ? w.peerId?.slice(0, 8) : null))}`)
  console.log(`  solo ${JSON.stringify([...ban.solo].map(([i, w]: [number, any]) => [i, w ? `${w.peerId?.slice(0, 8)}${w.destroyed ? '(destroyed)' : ''}` : null]))} suspects ${JSON.stringify([...ban.suspects.keys()])} blocks ${JSON.stringify([...ban.blocks.keys()])}`)
  for (const w of t.wires) console.log(`  wire ${w.peerId?.slice(0, 8)} destroyed ${w.destroyed} peerChoking ${w.peerChoking} amInterested ${w.amInterested} requests ${w.requests.length} has ${w.peerPieces.get(miss)}`)
  console.log(`  bans ${JSON.stringify(s.bans.map((b) => [b.peerId.slice(0, 8), b.code, b.reason]))}`)
}

/** Counts the bytes of `got` that are not the broadcast's (a shorter output is a stall, not corruption). */
export function wrongBytes (got: Buffer, want: Buffer): number {
  let n = Math.max(0, got.length - want.length)
  const m = Math.min(got.length, want.length)
  for (let i = 0; i < m; i++) if (got[i] !== want[i]) n++
  return n
}

/** Whether a peer's current head is one the broadcaster signed (else: an accepted forgery). */
export function genuine (bc: any, head: SignedHead | null): boolean {
  if (!head) return true
  const c = bc.live.state.log.chainAt(head.count)
  return c !== null && equal(c, head.commitment) && head.length === (head.ended ? bc.live.length : head.count * bc.pieceLength)
}

/** Every verified run of piece hashes a peer holds is the broadcaster's. */
export function genuineLog (bc: any, t: any): boolean {
  const truth = bc.live.state.log
  for (const iv of t.live.state?.log.intervals ?? []) {
    const c0 = truth.chainAt(iv.start); const c1 = truth.chainAt(iv.end)
    if (!c0 || !c1 || !equal(c0, iv.cStart) || !equal(c1, iv.cEnd)) return false
    if (iv.end > iv.start && !equal(truth.range(iv.start, iv.end), t.live.state.log.range(iv.start, iv.end))) return false
  }
  return true
}

export function checkGenuine (bc: any, ...ts: any[]): void {
  for (const t of ts) {
    if (!genuine(bc, t.live.head)) { figures.acceptedForgeries++; assert.fail(`a peer holds a head the broadcaster never signed (count ${t.live.count})`) }
    if (!genuineLog(bc, t)) { figures.acceptedForgeries++; assert.fail('a peer holds piece hashes the broadcaster never published') }
  }
}

/** Airs the rest, ends the broadcast, and checks every byte of the reader(s). */
export async function finish (s: Stage, more: Array<Promise<Buffer>> = [], ms = 40_000): Promise<void> {
  await air(s.bc, s.data.subarray(s.pl * s.first), { chunk: s.pl * 4, pauseMs: 1 })
  await s.bc.end()
  for (const out of [s.out, ...more]) {
    const got = await withTimeout(out, ms, 'the honest stream finishes').catch((err) => { if (process.env.HOSTILE_DEBUG || process.env.HOSTILE_DIAG) diagnose(s); throw err })
    const wrong = wrongBytes(got, s.data)
    figures.corruptBytes += wrong
    assert.equal(wrong, 0, 'not one wrong byte')
    assert.equal(got.length, s.data.length, 'the whole broadcast')
  }
  checkGenuine(s.bc, s.tv)
  sampleRss()
}

/** Waits for the ban of the attacker's peer id; asserts its code, the disconnect and a refused reconnect. */
export async function expectBan (s: Stage, atk: Attacker, code: string | RegExp, ms = 10_000): Promise<Ban> {
  await poll(() => s.bans.some((b) => b.peerId === atk.peerId), ms, `ban of the attacker (${String(code)})`)
  const b = s.bans.find((x) => x.peerId === atk.peerId)!
  if (typeof code === 'string') assert.equal(b.code, code, b.reason); else assert.match(b.code, code, b.reason)
  assert.ok(await within(atk.closed, 3000), 'the offender is disconnected')
  assert.ok(await reconnectRefused(s.port, s.infoHash, atk.peerId), 'a reconnect from the same peer is refused')
  return b
}

/**
 * A barrier on the attacker's wire: a HASH_REQUEST, answered (HASHES or HASH_REJECT) once the
 * victim has read everything the attacker sent before it (a wire is read in order); then the
 * victim's head queue drained (`live.idle()`), so every HEAD sent before was checked too. What
 * the attacker sent has had all its effect when this resolves: no sleep needed to show it had none.
 */
export async function barrier (atk: Attacker, live: { idle (): Promise<void> }, ms = 10_000): Promise<void> {
  const replies = (): number => atk.received.filter((m) => (m.type === 'hashes' || m.type === 'hash-reject') && m.start === 0).length
  const before = replies()
  atk.send({ type: 'hash-request', start: 0, count: 1 })
  await poll(() => replies() > before || atk.destroyed, ms, 'barrier reply')
  await withTimeout(live.idle(), ms, 'victim head queue drained')
}

export async function connect (s: Stage, opts: AttackerOptions = {}): Promise<Attacker> {
  const atk = Attacker.connect(s.port, s.infoHash, opts)
  await withTimeout(atk.ready, 10_000, 'attacker handshake')
  return atk
}

// ---- forging -------------------------------------------------------------------------------

/** A head at `count` over `pieceHashes` (flat, count × 20) signed with `seed`, with a tail of n. */
export async function signChain (infoHashHex: string, pl: number, seed: Uint8Array, pieceHashes: Uint8Array, n: number): Promise<{ head: SignedHead, tail: Tail | null }> {
  const infoHash = fromHex(infoHashHex)
  const count = pieceHashes.length / PIECE_HASH_BYTES
  const cs: Uint8Array[] = [genesis(hashes, infoHash)]
  runChain(hashes, cs[0]!, pieceHashes, (_i, c) => { cs.push(c) })
  const head: Head = { count, length: count * pl, time: Date.now(), ended: false, commitment: cs[count]!, finalInfoHash: null }
  const ed = await ed25519()
  const signature = await ed.sign(seed, signable(infoHash, head))
  const tail = n > 0 ? { anchor: cs[count - n]!, hashes: pieceHashes.slice((count - n) * PIECE_HASH_BYTES) } : null
  return { head: { ...head, signature }, tail }
}

function fakeHashes (count: number): Uint8Array { return new Uint8Array(randomBytes(count * PIECE_HASH_BYTES)) }

/** The broadcaster's real piece hashes [0, count). */
function realHashes (bc: any, count: number): Uint8Array { return bc.live.state.log.range(0, count) }

// ---- the cases ---------------------------------------------------------------------------

/** 1. Heads signed with another key (newer, and at the current count with a tail): BAD_SIGNATURE. */
export async function forgedKey (): Promise<void> {
  const s = await stage()
  const other = await createKeyPair()
  for (const variant of ['newer', 'same-count'] as const) {
    const atk = await connect(s)
    const count = variant === 'newer' ? s.first + 50 : s.first
    // Newer: a made-up history with a tail. Same count: other pieces (a head that says the same as
    // the current one is ignored unchecked, whoever signed it: it changes nothing).
    const pieceHashes = variant === 'newer' ? fakeHashes(count) : realHashes(s.bc, count)
    if (variant === 'same-count') pieceHashes.set(randomBytes(PIECE_HASH_BYTES), 2 * PIECE_HASH_BYTES)
    const f = await signChain(s.infoHash, s.pl, other.secretKey, pieceHashes, variant === 'newer' ? 3 : 2)
    const checks = s.tv.live.signatureChecks
    atk.send({ type: 'head', head: f.head, tail: f.tail })
    figures.casesTried++
    await expectBan(s, atk, 'BAD_SIGNATURE')
    assert.ok(s.tv.live.signatureChecks <= checks + 1, 'one signature check for one forged head')
    checkGenuine(s.bc, s.tv)
  }
  await finish(s)
}

/** 2. Replays of old heads (and of heads with a new signature): ignored, no signature work. */
export async function replays (): Promise<void> {
  const s = await stage()
  const atk = await connect(s)
  await poll(() => atk.received.some((m) => m.type === 'head'), 5000, 'a head from the victim')
  // More heads while the attacker listens: it keeps every genuine head it is sent.
  for (let i = 0; i < 5; i++) await s.bc.write(s.data.subarray(s.pl * (s.first + i), s.pl * (s.first + i + 1)))
  s.first += 5
  await poll(() => s.tv.live.count === s.first && atk.received.filter((m) => m.type === 'head').length >= 4, 5000, 'heads relayed to the attacker')
  const old = atk.received.filter((m): m is Extract<Message, { type: 'head' }> => m.type === 'head')
  const checks = s.tv.live.signatureChecks
  let sent = 0
  for (let round = 0; round < 4; round++) {
    for (const m of old) {
      atk.send({ type: 'head', head: m.head, tail: m.tail }) // verbatim
      const resigned = { ...m.head, signature: new Uint8Array(randomBytes(64)) } // same state, junk signature
      atk.send({ type: 'head', head: resigned, tail: null })
      const retimed = { ...m.head, time: m.head.time + 1 } // same pieces, another time: still nothing to check
      atk.send({ type: 'head', head: retimed, tail: null })
      sent += 3
    }
    await sleep(50) // pacing: below the flood limit
  }
  figures.casesTried += sent
  await barrier(atk, s.tv.live)
  assert.equal(s.tv.live.signatureChecks, checks, 'no signature work for replays')
  assert.equal(s.tv.live.count, s.first)
  assert.equal(atk.destroyed, false, 'genuine replays at a modest rate are not punished')
  checkGenuine(s.bc, s.tv)
  atk.destroy()
  await finish(s)
}

/**
 * 3. Equivocation: heads signed with the REAL key (a stolen key) for a second history. The victim
 * surfaces a LiveError EQUIVOCATION with evidence, its reader stops with that error after only
 * genuine bytes, and it accepts nothing from either line afterwards; the relay is not banned (the
 * fault is the key holder's). A viewer that never met the fork, and the broadcaster (who trusts only
 * itself), go on to the end.
 */
export async function equivocation (): Promise<void> {
  const s = await stage()
  const v2 = await makeClient()
  const tv2 = join(v2, s.bc.torrentFile, [s.a])
  const out2 = collect(tv2.live.createReadStream())
  const errors: any[] = []
  s.tv.live.on('error', (e: any) => errors.push(e))
  const atk = await connect(s)
  const n = s.first
  // Same count, other pieces: the stale path checks its signature and finds a second history.
  const forkHashes = realHashes(s.bc, n)
  forkHashes.set(randomBytes(PIECE_HASH_BYTES), (n - 3) * PIECE_HASH_BYTES)
  const same = await signChain(s.infoHash, s.pl, s.bc.keyPair.secretKey, forkHashes, 0)
  atk.send({ type: 'head', head: same.head, tail: null })
  figures.casesTried++
  await poll(() => errors.length > 0, 5000, 'equivocation error')
  assert.equal(errors[0].code, 'EQUIVOCATION')
  const ev = errors[0].evidence
  assert.ok(ev && ev.heads.length === 2, 'evidence: two heads')
  const ed = await ed25519()
  for (const h of ev.heads) assert.ok(await ed.verify(s.bc.live.publicKey, signable(fromHex(s.infoHash), h), h.signature), 'both heads verify under the stream key')
  assert.ok(!equal(ev.heads[0].commitment, ev.heads[1].commitment))
  assert.equal(s.tv.live.evidence.length, 1)
  // A longer fork whose tail crosses the verified chain, and a fork far ahead with a short tail:
  // neither line is accepted any more.
  const longer = new Uint8Array((n + 5) * PIECE_HASH_BYTES); longer.set(forkHashes); longer.set(randomBytes(5 * PIECE_HASH_BYTES), n * PIECE_HASH_BYTES)
  const cross = await signChain(s.infoHash, s.pl, s.bc.keyPair.secretKey, longer, 8)
  atk.send({ type: 'head', head: cross.head, tail: cross.tail })
  const far = await signChain(s.infoHash, s.pl, s.bc.keyPair.secretKey, fakeHashes(n + 40), 1)
  atk.send({ type: 'head', head: far.head, tail: far.tail })
  figures.casesTried += 2
  await barrier(atk, s.tv.live)
  assert.equal(s.tv.live.count, n, 'no head of the fork is accepted')
  checkGenuine(s.bc, s.tv)
  assert.equal(s.bans.length, 0, 'the relay is not banned for the broadcaster\'s fault')
  // The broadcaster never takes a head it did not sign, even one validly signed with its key.
  const atkB = Attacker.connect(s.a.address().port, s.infoHash)
  await withTimeout(atkB.ready, 10_000, 'attacker → broadcaster')
  const bcCount = s.bc.live.count
  const farB = await signChain(s.infoHash, s.pl, s.bc.keyPair.secretKey, fakeHashes(bcCount + 40), 1)
  atkB.send({ type: 'head', head: farB.head, tail: farB.tail })
  figures.casesTried++
  await barrier(atkB, s.bc.live)
  assert.equal(s.bc.live.count, bcCount, 'the broadcaster does not adopt a head it did not sign')
  // The victim's reader ends with the error, after genuine bytes only; the others finish.
  s.out = Promise.resolve(Buffer.alloc(0))
  await air(s.bc, s.data.subarray(s.pl * s.first), { chunk: s.pl * 4, pauseMs: 1 })
  await s.bc.end()
  const got2 = await withTimeout(out2, 40_000, 'the viewer that never met the fork')
  figures.corruptBytes += wrongBytes(got2, s.data)
  assert.ok(got2.equals(s.data))
  checkGenuine(s.bc, tv2)
  assert.equal(s.tv.live.count, n, 'the victim stopped at the equivocation')
  const partial: Buffer[] = []
  await assert.rejects(async () => { for await (const c of s.tv.live.createReadStream()) partial.push(Buffer.from(c)) }, /EQUIVOCATION/)
  figures.corruptBytes += wrongBytes(Buffer.concat(partial), s.data)
  sampleRss()
}

/** 4. Hash pages that do not match the commitment (wrong hashes, wrong anchor, wrong range), or never come. */
export async function badPages (variant: 'hashes' | 'anchor' | 'range' | 'silent'): Promise<void> {
  const pl = 1024
  // Far enough behind the edge that a from-the-start viewer needs a page.
  const s = await stage({ pl, pieces: 400, first: 300, connect: false })
  const atk = await connect(s)
  const head = s.bc.live.head
  atk.send({ type: 'head', head, tail: s.bc.live.state.tailFor(0, 64) })
  await poll(() => atk.received.some((m) => m.type === 'hash-request'), 5000, 'the victim asks the attacker for a page')
  const req = atk.received.find((m): m is Extract<Message, { type: 'hash-request' }> => m.type === 'hash-request')!
  const real = s.bc.live.state.log.range(req.start, req.start + req.count) as Uint8Array
  const anchor = s.bc.live.state.log.chainAt(req.start) as Uint8Array
  figures.casesTried++
  const t0 = Date.now()
  if (variant === 'hashes') {
    const wrong = real.slice(); wrong[wrong.length - 1]! ^= 1
    atk.send({ type: 'hashes', start: req.start, anchor, hashes: wrong })
    await expectBan(s, atk, 'BAD_CHAIN')
  } else if (variant === 'anchor') {
    const wrong = anchor.slice(); wrong[0]! ^= 0x80
    atk.send({ type: 'hashes', start: req.start, anchor: wrong, hashes: real })
    await expectBan(s, atk, 'BAD_CHAIN')
  } else if (variant === 'range') {
    // The right hashes, shifted by one: a page nobody asked for.
    atk.send({ type: 'hashes', start: req.start + 1, anchor: s.bc.live.state.log.chainAt(req.start + 1), hashes: real.slice(0, real.length - PIECE_HASH_BYTES) })
    await expectBan(s, atk, 'BAD_FIELD')
  }
  s.tv.addPeer(addr(s.a))
  checkGenuine(s.bc, s.tv)
  await finish(s)
  if (variant === 'silent') {
    assert.ok(Date.now() - t0 >= PAGE_TIMEOUT_MS - 500, 'the page came from another peer after the timeout')
    // The genuine answer, late (a busy honest peer): ignored (spec §8), not banned as unsolicited.
    atk.send({ type: 'hashes', start: req.start, anchor, hashes: real })
    await barrier(atk, s.tv.live)
    assert.equal(atk.destroyed, false, 'a late answer to a timed-out page request is not abuse')
    atk.destroy()
  }
  assert.equal(s.tv.live.stats.pagesReceived > 0, true)
}

/** 6. HAVEs and requests for pieces that do not exist, absurd indices (2^31, 2^32−1, beyond the stream). */
export async function absurdIndices (variant: 'have' | 'request'): Promise<void> {
  const s = await stage()
  const atk = await connect(s)
  if (variant === 'have') {
    atk.wire.have(s.first + 10) // ahead of the head, but heads and HAVEs race: tolerated
    await barrier(atk, s.tv.live)
    assert.equal(atk.destroyed, false, 'a HAVE just ahead of the head is not abuse')
    atk.wire.have(2 ** 31)
    figures.casesTried += 2
    await expectBan(s, atk, 'BAD_FIELD')
    const atk2 = await connect(s)
    atk2.wire.have(2 ** 32 - 1)
    figures.casesTried++
    await expectBan(s, atk2, 'BAD_FIELD')
  } else {
    atk.wire.interested()
    await poll(() => !atk.wire.peerChoking, 10_000, 'the victim unchokes the attacker')
    let served = 0
    const cb = (err: Error | null): void => { if (!err) served++ }
    atk.wire.request(0, 0, s.pl, cb) // a real piece: served
    await poll(() => served === 1, 5000, 'a real piece is served')
    atk.wire.request(s.first + 3, 0, s.pl, cb) // beyond the stream
    figures.casesTried += 2
    await expectBan(s, atk, 'BAD_FIELD')
    for (const [index, offset, length] of [[2 ** 31, 0, s.pl], [2 ** 32 - 1, 0, 16384], [0, 0, 1 << 20]] as const) {
      const a2 = await connect(s)
      a2.wire.interested()
      await poll(() => !a2.wire.peerChoking, 10_000, 'unchoked')
      a2.wire.request(index, offset, length, cb)
      figures.casesTried++
      await expectBan(s, a2, 'BAD_FIELD')
    }
    assert.equal(served, 1, 'no data for pieces that do not exist')
  }
  await finish(s)
}

/**
 * 7. BITFIELDs of the wrong length: longer than any stream can be (2^26 pieces) is abuse; short is
 * tolerated (fewer pieces); longer than our head allows is abuse or set aside (it may come before
 * we know how long the stream is), and either way changes nothing.
 */
export async function badBitfield (): Promise<void> {
  const s = await stage()
  const short = await connect(s)
  short.wire.bitfield(new Uint8Array([0xff]))
  await barrier(short, s.tv.live)
  assert.equal(short.destroyed, false, 'a short bitfield is tolerated')
  short.destroy()
  const huge = await connect(s)
  huge.wire.bitfield(new Uint8Array((1 << 26) / 8 + 2).fill(0xff))
  figures.casesTried++
  await expectBan(s, huge, 'BAD_FIELD')
  // After its extended handshake (connect() waits for it) a peer's claim is known: a bitfield
  // longer than the claim allows (our count + MAX_HAVE_AHEAD, the attacker claims nothing) is abuse.
  for (const size of [100_000, Math.ceil((s.first + 4096 + 1) / 8) + 2]) {
    const atk = await connect(s)
    atk.wire.bitfield(new Uint8Array(size).fill(0xff))
    figures.casesTried++
    await expectBan(s, atk, 'BAD_FIELD')
  }
  await finish(s)
}

/** 8. Floods of heads (thousands a second): banned at the flood limit, bounded work. */
export async function flood (kind: 'replay' | 'mixed'): Promise<void> {
  const s = await stage()
  const atk = await connect(s)
  const head = s.tv.live.head
  const checks = s.tv.live.signatureChecks
  const cpu0 = process.cpuUsage()
  const t0 = Date.now()
  const N = 5000
  for (let i = 0; i < N && !atk.destroyed; i++) {
    if (kind === 'replay' || i % 2 === 0) atk.send({ type: 'head', head, tail: null })
    else atk.send({ type: 'hash-request', start: 0, count: Math.min(s.first, 512) })
  }
  figures.casesTried += N
  const b = await expectBan(s, atk, 'FLOOD')
  assert.ok(b)
  const cpu = process.cpuUsage(cpu0)
  assert.equal(s.tv.live.signatureChecks, checks, 'no signature work')
  figures.floodCpuMs = Math.max(figures.floodCpuMs, Math.round((cpu.user + cpu.system) / 1000)) // a figure (scripts/hostile.ts), not a test bound
  assert.ok(Date.now() - t0 < 10_000)
  assert.ok(s.tv.live.stats.invalidMessages >= 1)
  void MAX_MESSAGES_PER_SECOND
  await finish(s)
}

/** 9. Corrupt piece data from a raw peer that claims every piece, alongside the honest source. */
export async function corruptData (pl = 16384, subtle = false): Promise<void> {
  const s = await stage({ pieces: 80, first: 10, connect: false, pl })
  // Subtle: the real bytes, but one block in three with a single bit flipped.
  let n = 0
  const subtly = (index: number, offset: number, length: number): Uint8Array => {
    const b = Buffer.from(s.data.subarray(index * pl + offset, index * pl + offset + length))
    if (n++ % 3 === 0) b[length >> 1]! ^= 4
    return b
  }
  // Large pieces: the honest source first, so that both serve blocks of the same pieces.
  const shared = pl > 16384
  if (shared) { s.tv.addPeer(addr(s.a)); await poll(() => s.tv.live.has(s.first - 1), 10_000, 'synced') }
  const atk = Attacker.connect(s.port, s.infoHash, { claim: 80, pieces: subtle ? subtly : 'garbage' })
  await withTimeout(atk.ready, 10_000, 'attacker handshake')
  if (!shared) s.tv.addPeer(addr(s.a))
  const more = s.bc.write(s.data.subarray(s.pl * s.first, s.pl * 40))
  figures.casesTried++
  await expectBan(s, atk, 'CORRUPT_PIECE', 20_000)
  await more
  s.first = 40
  assert.equal(s.bans.filter((b) => b.code === 'CORRUPT_PIECE' && b.peerId !== atk.peerId).length, 0, 'the honest broadcaster is never blamed')
  await finish(s)
}

/** 9d. Unsolicited PIECE messages (32 MiB of blocks nobody asked for): not kept, nothing changes. */
export async function unsolicitedPieces (): Promise<void> {
  const s = await stage({ pieces: 60, first: 30 })
  const atk = await connect(s)
  const block = new Uint8Array(16384).fill(7)
  for (let i = 0; i < 2000 && !atk.destroyed; i++) atk.wire.piece(30 + (i % 30), (i % 1) * 16384, block)
  figures.casesTried += 2000
  await barrier(atk, s.tv.live)
  const kept = [...((s.tv.live as any).smartBan.blocks as Map<number, unknown[]>).values()].reduce((n, l) => n + l.length, 0)
  assert.ok(kept <= 64, `blocks nobody asked for are not kept (${kept})`)
  atk.destroy()
  await finish(s)
}

/**
 * 10. Requests accepted and never answered: a raw peer that unchokes, claims every piece and holds
 * every request. The honest viewer must not stall on the pieces it reserved.
 */
export async function silentSeeder (pl = 16384, waitBan = true): Promise<number> {
  const s = await stage({ pieces: 60, first: 10, connect: false, pl })
  const atk = Attacker.connect(s.port, s.infoHash, { claim: 60, pieces: 'never' })
  await withTimeout(atk.ready, 10_000, 'attacker handshake')
  atk.send({ type: 'head', head: s.bc.live.head, tail: s.bc.live.state.tailFor(0, 64) })
  await poll(() => atk.requests > 0, 10_000, 'the victim asks the silent peer')
  let dropped = false
  void atk.closed.then(() => { dropped = true })
  s.tv.addPeer(addr(s.a))
  const t0 = Date.now()
  figures.casesTried++
  await finish(s, [], 60_000)
  const ms = Date.now() - t0
  figures.silentSeederMs = Math.max(figures.silentSeederMs, ms)
  // It did not wait for that peer to be dropped (PIECE_TIMEOUT): a holder that sits on requests
  // does not keep the broadcaster, asked last, from serving (request-routing.ts).
  assert.ok(!dropped, `the viewer finished only after the silent peer was dropped (${ms} ms)`)
  // And the peer that holds requests is dropped and kept away for a while.
  if (waitBan) await expectBan(s, atk, 'TIMEOUT', PIECE_TIMEOUT + 5000)
  return ms
}

/**
 * A stage whose viewer knows only a raw peer answering with the broadcast's real bytes (as
 * `opts` shape it), told the head, until the viewer has asked it for a block.
 */
async function rawHolder (pieces: number, opts: AttackerOptions): Promise<{ s: Stage, atk: Attacker }> {
  const s = await stage({ pieces, first: 10, connect: false })
  const atk = Attacker.connect(s.port, s.infoHash, { pieces: (i, o, l) => s.data.subarray(i * s.pl + o, i * s.pl + o + l), ...opts })
  await withTimeout(atk.ready, 10_000, 'attacker handshake')
  atk.send({ type: 'head', head: s.bc.live.head, tail: s.bc.live.state.tailFor(0, 64) })
  await poll(() => atk.requests > 0, 10_000, 'the viewer asks the raw peer')
  return { s, atk }
}

/**
 * 10c. A block that starts and never finishes: a raw peer claims every piece and answers the first
 * request with a PIECE message cut after 2 000 bytes, then sends nothing. A block arriving when the
 * request timeout fires is waited for once (a narrow uplink is slow, not hostile): the honest viewer
 * must not stall meanwhile, and the peer is banned at the second timeout (whoever else delivered).
 */
export async function stalledBlock (): Promise<void> {
  const { s, atk } = await rawHolder(60, { claim: 60, partial: 2000 })
  const t0 = Date.now()
  let dropped = false
  void atk.closed.then(() => { dropped = true })
  s.tv.addPeer(addr(s.a))
  let bannedAt = 0
  s.tv.live.on('peer-banned', (b: Ban) => { if (b.peerId === atk.peerId && !bannedAt) bannedAt = Date.now() })
  figures.casesTried++
  await finish(s, [], 60_000)
  assert.ok(!dropped, `the viewer finished only after the stalling peer was dropped (${Date.now() - t0} ms)`)
  const b = await expectBan(s, atk, 'TIMEOUT', 2 * PIECE_TIMEOUT + 5000)
  assert.match(b.reason, /begun and not finished/)
  // Its first request timed out at PIECE_TIMEOUT after it was made (before t0); the ban comes at the second timeout.
  assert.ok(bannedAt - t0 >= PIECE_TIMEOUT - 2000, `banned at the second timeout, not the first (${bannedAt - t0} ms after the request was seen)`)
}

/**
 * 10d. A narrow uplink (1 400 B/s, the real bytes): its first block takes about 12 s, longer than
 * the request timeout (10 s), while the broadcaster delivers. It is slow, not hostile: not banned,
 * still connected, and the block it sent counts.
 */
export async function narrowUplink (): Promise<void> {
  const { s, atk } = await rawHolder(40, { claim: 10, outRate: 1400 })
  s.tv.addPeer(addr(s.a))
  figures.casesTried++
  let served = 0
  for (const w of s.tv.wires) if (w.peerId === atk.peerId) w.on('requested-piece', () => { served++ })
  await poll(() => served > 0 || atk.destroyed, PIECE_TIMEOUT + 15_000, 'the narrow peer\'s first block')
  assert.ok(served > 0 && !atk.destroyed, 'the narrow peer delivered its block and is still connected')
  await finish(s, [], 60_000)
  assert.equal(s.bans.filter((b) => b.peerId === atk.peerId).length, 0, 'the narrow peer is not banned')
  atk.destroy()
}

/**
 * 10e. A holder whose uplink is always full: a raw peer claims every piece and REJECTs every request
 * (BEP 6), as an honest peer does. The viewer, which knows no other holder, backs off 150 ms, then
 * twice as long after each further refusal in a row, up to 1 s: it neither hammers the peer nor gives
 * up on it. (A peer it never got a block from is asked one block at a time, so that the REJECTs of
 * one pipeline count once is not shown here.) Then it meets the broadcaster and finishes
 * byte-identical; a peer that refuses is not banned.
 */
export async function rejectingHolder (): Promise<void> {
  const { s, atk } = await rawHolder(60, { claim: 60, pieces: 'reject' })
  figures.casesTried++
  await sleep(10_000)
  // Requests sent together (one scheduler pass) arrive together: a wave.
  const waves: Array<{ at: number, n: number }> = []
  for (const t of atk.requestTimes) {
    const w = waves[waves.length - 1]
    if (w && t - w.at < 80) w.n++; else waves.push({ at: t, n: 1 })
  }
  const gaps = waves.slice(1).map((w, k) => w.at - waves[k]!.at)
  const shown = `waves of requests ${JSON.stringify(waves.map((w) => w.n))}, gaps ${JSON.stringify(gaps)} ms`
  assert.ok(gaps.length >= 8, `the viewer keeps asking, about once a second once backed off fully (${shown})`)
  assert.ok(gaps[0]! >= 140 && gaps[0]! < 900, `a first back-off of 150 ms (${shown})`)
  assert.ok(gaps[1]! >= 290 && gaps[2]! >= 590, `the back-off doubles (${shown})`)
  for (const g of gaps.slice(3)) assert.ok(g >= 990, `at most 1 s, and never less once reached (${shown})`)
  assert.ok(!atk.destroyed, 'the refusing peer is still connected')
  s.tv.addPeer(addr(s.a))
  await finish(s, [], 60_000)
  assert.equal(s.bans.filter((b) => b.peerId === atk.peerId).length, 0, 'a peer that refuses is not banned')
  atk.destroy()
}

/**
 * 5. Fuzz over the wire: `runs` hostile ut_live messages (mutations of this stream's genuine
 * signed messages, arbitrary, truncated and oversized bytes; fast-check), each from a fresh raw
 * peer, at the viewer and at the broadcaster while the broadcast goes on. Nothing crashes, nothing
 * forged is accepted, the viewer's output is the broadcast byte for byte.
 */
export async function wireFuzz (runs: number, opts: { concurrency?: number, seed?: number } = {}): Promise<{ cases: number, bans: number, closedByVictim: number }> {
  const s = await stage({ pieces: 60, first: 20 })
  const st = s.bc.live.state
  const head = st.head
  const genuineMsgs = [
    encode({ type: 'head', head, tail: st.tailFor(0, 64) }),
    encode({ type: 'head', head, tail: st.tailFor(head.count - 1, 64) }),
    encode({ type: 'head', head, tail: null }),
    encode({ type: 'hashes', start: 0, anchor: st.log.genesis, hashes: st.log.range(0, 10) }),
    encode({ type: 'hash-request', start: 0, count: 10 }),
    encode({ type: 'hash-reject', start: 0, count: 10 })
  ]
  const samples = fc.sample(hostile(genuineMsgs), { numRuns: runs, ...(opts.seed !== undefined ? { seed: opts.seed } : {}) })
  const targets = [{ port: s.port, t: s.tv }, { port: s.a.address().port, t: s.bc.torrent }]
  let closedByVictim = 0
  let next = 0
  const bans0 = s.bans.length + s.bc.live.stats.bannedPeers
  const one = async (i: number): Promise<void> => {
    const target = targets[i % 4 === 3 ? 1 : 0]!
    const atk = Attacker.connect(target.port, s.infoHash)
    if (!await within(atk.ready, 5000)) { atk.destroy(); return }
    atk.sendRaw(samples[i]!)
    figures.casesTried++
    if (await within(atk.closed, 150)) closedByVictim++
    atk.destroy()
  }
  const worker = async (): Promise<void> => { while (next < samples.length) await one(next++) }
  // The broadcast goes on meanwhile.
  const airing = (async () => {
    for (let k = s.first; k < 40; k++) { await s.bc.write(s.data.subarray(s.pl * k, s.pl * (k + 1))); await sleep(20) }
  })()
  await Promise.all(Array.from({ length: opts.concurrency ?? 8 }, worker))
  await airing
  s.first = 40
  sampleRss()
  checkGenuine(s.bc, s.tv)
  assert.equal(s.bc.live.error, null, 'the broadcaster is unharmed')
  await finish(s)
  return { cases: samples.length, bans: s.bans.length + s.bc.live.stats.bannedPeers - bans0, closedByVictim }
}

/** 11. ut_live messages from a peer that did not negotiate ut_live, or speaks another version: BAD_TYPE. */
export async function unnegotiated (): Promise<void> {
  const s = await stage()
  for (const opts of [{ live: false }, { liveV: 2 }]) {
    const atk = await connect(s, opts)
    atk.send({ type: 'head', head: s.bc.live.head, tail: null }) // a genuine head, but not negotiated
    figures.casesTried++
    await expectBan(s, atk, 'BAD_TYPE')
  }
  await finish(s)
}

/**
 * 12. Inflated claims: `n` raw peers at once each claim the largest stream there can be (live_n
 * 2^26) and send a BITFIELD to match (8 MiB), never proving it with a signed head. The stream goes
 * on; each is banned after CLAIM_PROOF_MS; the memory they cost meanwhile is reported.
 */
export async function inflatedClaims (n: number): Promise<{ rssGrowthMiB: number, bannedAfterMs: number }> {
  const s = await stage({ pieces: 40, first: 20 })
  const rss0 = process.memoryUsage().rss
  const t0 = Date.now()
  const atks: Attacker[] = []
  for (let i = 0; i < n; i++) {
    const atk = await connect(s, { liveN: MAX_PIECES })
    atk.wire.bitfield(new Uint8Array(MAX_PIECES / 8).fill(0xff))
    atks.push(atk)
    figures.casesTried++
  }
  await sleep(1000)
  const rssGrowthMiB = (process.memoryUsage().rss - rss0) / 2 ** 20
  sampleRss()
  for (const atk of atks) await poll(() => atk.destroyed, CLAIM_PROOF_MS + 15_000, 'the claimer is dropped')
  const bannedAfterMs = Date.now() - t0
  for (const atk of atks) assert.ok(s.bans.some((b) => b.peerId === atk.peerId), 'each claimer is banned')
  await finish(s)
  return { rssGrowthMiB, bannedAfterMs }
}

/**
 * Bounded ban list: `n` raw peers, each with a fresh peer id, send garbage and are banned. The
 * viewer remembers at most MAX_BANS of them (an attacker mints ids for free), and the stream goes on.
 */
export async function banListBound (n: number, concurrency = 32): Promise<{ banned: number, remembered: number, rssGrowthMiB: number }> {
  const s = await stage({ pieces: 40, first: 20 })
  const rss0 = process.memoryUsage().rss
  let next = 0
  const worker = async (): Promise<void> => {
    while (next < n) {
      next++
      const atk = Attacker.connect(s.port, s.infoHash)
      if (await within(atk.ready, 5000)) { atk.sendRaw(new Uint8Array([0x7f, 1, 2, 3])); figures.casesTried++; await within(atk.closed, 2000) }
      atk.destroy()
    }
  }
  await Promise.all(Array.from({ length: concurrency }, worker))
  sampleRss()
  const remembered = (s.tv.live as any).policy.bans.size as number
  assert.ok(remembered <= MAX_BANS, `at most ${MAX_BANS} bans remembered (${remembered})`)
  const rssGrowthMiB = (process.memoryUsage().rss - rss0) / 2 ** 20
  await finish(s)
  return { banned: s.bans.length, remembered, rssGrowthMiB }
}

export { destroyAll }
