/**
 * The broadcaster's side of the controller: a head signed here enters the stream at step 3
 * (apply) of the way a viewer's HEAD takes (see the DEV DOCS in live-torrent.ts), is announced
 * (HEAD first, so peers can grow before the HAVEs arrive), then the HAVEs follow.
 * lib/live/broadcaster.ts stores the bytes and persists; this signs and announces.
 */
import { equal } from '../protocol/bytes.js'
import type { SignedHead } from '../protocol/head.js'
import { LiveError } from '../protocol/result.js'
import { hashes } from '../crypto/index.js'
import * as patches from '../../patches/index.js'
import type { LiveTorrent } from './live-torrent.js'

/** What the broadcaster publishes (LiveTorrent.publish): pieces it has stored, under one new signed head. */
export interface Publication {
  /** SHA-1 of each new piece, already stored at nextPiece, nextPiece + 1, … */
  pieceHashes: Uint8Array[]
  /** The stream's length in bytes with these pieces. */
  length: number
  ended: boolean
  secretKey: Uint8Array
  /** For the end: the final infohash, from every piece hash of the stream (the signed end names it). */
  finalInfoHash?: (allHashes: Uint8Array) => Uint8Array
  /** Runs once the head is signed, before anyone sees it (write-ahead: the head durable first). */
  beforeAnnounce?: (head: SignedHead) => Promise<void> | void
  /** Announces one new piece (the relay policy, relay-policy.ts); default: HAVE to every wire. */
  tell?: (index: number) => void
}

/** Appends the pieces' hashes, signs one head over them, applies and announces it. */
export async function publish (live: LiveTorrent, p: Publication): Promise<SignedHead> {
  const state = live.state
  if (!state || live.destroyed || live.role !== 'broadcaster') throw new LiveError('DESTROYED', 'the broadcast torrent is closed')
  const first = state.log.end
  state.appendHashes(p.pieceHashes)
  const count = first + p.pieceHashes.length
  let finalInfoHash: Uint8Array | null = null
  if (p.ended && p.finalInfoHash) {
    // Every hash of the stream: in the log, or (a window-only broadcaster) read back from where it archived them.
    const all = count === 0 ? new Uint8Array(0) : state.log.range(0, count) ?? await live.window.hashes?.read(count)
    if (!all) throw new LiveError('BAD_STATE', `the hashes of pieces 0…${count - 1} are no longer held: the end cannot name the final torrent`)
    finalInfoHash = p.finalInfoHash(all)
  }
  // Signed, not yet current: no peer is sent it (a peer that connects, a relay timer, a page
  // request) before beforeAnnounce has made it durable. If that fails, the head is never seen,
  // and a resumed broadcaster re-signs these piece numbers without equivocating.
  const head = await state.sign(p.secretKey, { length: p.length, time: Date.now(), ended: p.ended, finalInfoHash })
  await p.beforeAnnounce?.(head)
  state.useSigned(head)
  goLive(live, head, first, p.tell)
  return head
}

/**
 * Resuming a persisted stream: its piece hashes and its head (same signature), checked against
 * each other and against the newest stored piece (a crash may have torn it); `restoreData` runs
 * between (the store brought back to the head). Then announced as publish() does. Every other
 * stored piece is checked against its hash when it is first read (to serve a peer, to push, to
 * end): reading hours of stream before going on air would keep viewers waiting, and a piece
 * damaged on disk must not reach a peer, whose hash check would ban us for it. A damaged one is
 * REJECTed to whoever asks (peers that hold it serve it) and reported as a DAMAGED_PIECE warning.
 */
export async function resume (live: LiveTorrent, head: SignedHead, pieceHashes: Uint8Array[], label: string, restoreData: () => Promise<void>): Promise<void> {
  const state = live.state
  if (!state || live.destroyed) throw new LiveError('DESTROYED', 'the broadcast torrent is closed')
  state.appendHashes(pieceHashes)
  if (!await state.restoreHead(head)) throw new LiveError('BAD_STATE', `the head in ${label} does not match its persisted piece hashes`)
  await restoreData()
  const store = patches.rawStore(live.torrent)
  const matches = (i: number, buf: Uint8Array): boolean => { const h = state.log.get(i); return h !== null && equal(hashes.sha1(buf), h) }
  if (head.count > 0 && store) {
    // The newest piece must still be the one the head commits to.
    const last = head.count - 1
    const buf: Uint8Array = await new Promise((resolve, reject) => store.get(last, (err: Error | null, b?: Uint8Array) => err ? reject(err) : resolve(b!)))
    if (!matches(last, buf)) throw new LiveError('BAD_STATE', `piece ${last} in ${label} does not match its persisted hash`)
  }
  store?.checkAdopted?.(matches, (i) => {
    live.stats.damagedPieces++
    live.emit('warning', new LiveError('DAMAGED_PIECE', `piece ${i} in ${label} does not match its hash: it is not served from here (peers that hold it still serve it)`))
  })
  goLive(live, head, 0)
}

/**
 * A head signed here: apply it, send it (HEAD before the HAVEs: a peer far behind learns the count
 * first), then HAVEs. With `tell` (the relay policy, which sends the head to each peer it tells a
 * piece), the head is spread as viewers forward theirs (head-sync.ts).
 */
function goLive (live: LiveTorrent, head: SignedHead, first: number, tell?: (index: number) => void): void {
  live.applyHead(head, first, head.count)
  if (tell) live.heads.spread(); else live.announce()
  // From the window's floor: a resumed window-only broadcaster dropped what lies below (window.ts).
  for (let i = Math.max(first, live.window.floor); i < head.count; i++) patches.markHave(live.torrent, i, tell)
  patches.checkDone(live.torrent)
}
