/**
 * One live stream's verified state, independent of any transport: the newest signed head, the
 * hash log, and the rules of ut_live §5 (newer heads only, equivocation kept as evidence, nothing
 * after the end). Verification returns verdicts; it never throws on peer data.
 */
import { equal, toHex } from '../protocol/bytes.js'
import { genesis } from '../protocol/chain.js'
import { PIECE_HASH_BYTES } from '../protocol/constants.js'
import { checkHeadShape, rank, sameState, signable, type Head, type SignedHead } from '../protocol/head.js'
import type { LiveInfo } from '../protocol/info.js'
import type { Tail } from '../protocol/messages.js'
import type { ErrorCode } from '../protocol/result.js'
import type { Hashes } from '../protocol/sha.js'
import type { Ed25519 } from '../crypto/types.js'
import { HashLog } from './hash-log.js'

export interface Evidence {
  /** Two heads, both validly signed by the stream's key, that cannot both be true. */
  heads: [SignedHead, SignedHead]
  /** Position at which their chains disagree. */
  position: number
  detail: string
}

export type Verdict =
  | { ok: true, status: 'accepted' | 'duplicate' | 'stale' }
  | { ok: false, code: ErrorCode, reason: string, evidence?: Evidence }

/** Codes that mean the sender itself misbehaved (as opposed to relaying the broadcaster's own fault). */
export const PEER_FAULTS: ReadonlySet<ErrorCode> = new Set<ErrorCode>(['BAD_SIGNATURE', 'BAD_CHAIN', 'BAD_FIELD', 'BAD_LENGTH', 'BAD_TYPE', 'TRAILING_BYTES', 'TOO_LARGE', 'UNKNOWN_VERSION'])

const VERIFIED_CACHE = 128

export class StreamState {
  readonly infoHash: Uint8Array
  readonly info: LiveInfo
  readonly log: HashLog
  readonly ed: Ed25519
  head: SignedHead | null = null
  readonly evidence: Evidence[] = []
  /** Signature checks made (for figures: one per distinct new head). */
  signatureChecks = 0
  private verified = new Map<string, Promise<boolean>>()

  constructor (opts: { infoHash: Uint8Array, info: LiveInfo, hashes: Hashes, ed25519: Ed25519 }) {
    this.infoHash = opts.infoHash
    this.info = opts.info
    this.ed = opts.ed25519
    this.log = new HashLog(opts.hashes, genesis(opts.hashes, opts.infoHash))
  }

  get count (): number { return this.head?.count ?? 0 }
  get ended (): boolean { return this.head?.ended === true }

  /** Checks a head's signature once, however many peers send it. */
  verifySignature (h: SignedHead): Promise<boolean> {
    const msg = signable(this.infoHash, h)
    const key = toHex(msg) + toHex(h.signature)
    let p = this.verified.get(key)
    if (!p) {
      this.signatureChecks++
      p = this.ed.verify(this.info.publicKey, msg, h.signature)
      if (this.verified.size >= VERIFIED_CACHE) this.verified.delete(this.verified.keys().next().value as string)
      this.verified.set(key, p)
    }
    return p
  }

  /** Applies a head (and the tail of hashes that came with it). */
  async acceptHead (h: SignedHead, tail: Tail | null): Promise<Verdict> {
    const shape = checkHeadShape(h, this.info.pieceLength)
    if (!shape.ok) return { ok: false, code: shape.code, reason: shape.reason }
    const cur = this.head
    if (cur && equal(cur.signature, h.signature) && sameState(cur, h)) return { ok: true, status: 'duplicate' }
    // Once the key has signed two histories, neither line is trusted: no head is accepted (or
    // checked) any more. Otherwise a fork far ahead, with a short tail that touches nothing
    // verified, would pass as the newest head.
    if (this.evidence.length > 0) return { ok: true, status: 'stale' }

    if (cur && rank(h) <= rank(cur) && !(h.ended && h.count < cur.count)) {
      // An older (or equal) head: ignored when it agrees with what we know; checked when it does not.
      const known = this.log.chainAt(h.count)
      if (known === null || (equal(known, h.commitment) && !(rank(h) === rank(cur) && !sameState(h, cur)))) return { ok: true, status: 'stale' }
      if (!await this.verifySignature(h)) return { ok: false, code: 'BAD_SIGNATURE', reason: 'stale head with a bad signature' }
      return this.equivocation(cur, h, h.count, 'two signed heads disagree about the same pieces')
    }
    if (!await this.verifySignature(h)) return { ok: false, code: 'BAD_SIGNATURE', reason: 'head is not signed by the stream key' }
    if (cur && cur.ended) return this.equivocation(cur, h, cur.count, 'a signed head continues a stream that has ended')
    if (cur && h.ended && h.count < cur.count) return this.equivocation(cur, h, h.count, 'a signed end before pieces already published')

    // Hashes carried with the head: [count - n, count), chained from the anchor to the commitment.
    const n = tail ? tail.hashes.length / PIECE_HASH_BYTES : 0
    const start = h.count - n
    const anchor = tail && n > 0 ? tail.anchor : h.commitment
    const hashes = tail && n > 0 ? tail.hashes : new Uint8Array(0)
    const cps = this.log.verifySegment(start, anchor, hashes, h.commitment)
    if (!cps) return { ok: false, code: 'BAD_CHAIN', reason: 'tail hashes do not lead to the signed commitment' }
    const conflict = this.log.insert(start, anchor, hashes, h.commitment, cps, h)
    if (conflict) return this.equivocation(conflict.oursHead ?? cur ?? h, h, conflict.position, 'the new head\'s chain contradicts a verified one')
    this.head = h
    return { ok: true, status: 'accepted' }
  }

  /** Applies a page of hashes [start, start+n) that must end where a verified run begins. */
  acceptPage (start: number, anchor: Uint8Array, hashes: Uint8Array): Verdict {
    if (this.evidence.length > 0) return { ok: false, code: 'NOT_LINKED', reason: 'the stream has equivocated: no more hashes are taken' }
    const end = start + hashes.length / PIECE_HASH_BYTES
    const next = this.log.intervals.find((iv) => iv.start === end)
    if (!next || end > this.count) return { ok: false, code: 'NOT_LINKED', reason: 'page does not end at a verified position' }
    const cps = this.log.verifySegment(start, anchor, hashes, next.cStart)
    if (!cps) return { ok: false, code: 'BAD_CHAIN', reason: 'page does not lead to the verified chain' }
    const conflict = this.log.insert(start, anchor, hashes, next.cStart, cps, null)
    if (conflict) {
      const a = conflict.oursHead; const b = next.head
      if (a && b) return this.equivocation(a, b, conflict.position, 'verified pages of two signed heads disagree')
      return { ok: false, code: 'EQUIVOCATION', reason: 'page contradicts the verified chain' }
    }
    return { ok: true, status: 'accepted' }
  }

  private equivocation (a: SignedHead, b: SignedHead, position: number, detail: string): Verdict {
    const ev: Evidence = { heads: [a, b], position, detail }
    if (this.evidence.length < 16) this.evidence.push(ev)
    return { ok: false, code: 'EQUIVOCATION', reason: detail, evidence: ev }
  }

  // ---- broadcaster side -------------------------------------------------------------------

  /** Appends verified piece hashes (the broadcaster's own pieces). */
  appendHashes (pieceHashes: Uint8Array[]): void {
    for (const h of pieceHashes) this.log.append(h)
  }

  /** Signs a head over everything appended so far, and makes it current (sign, then useSigned). */
  async signHead (seed: Uint8Array, fields: { length: number, time: number, ended?: boolean, finalInfoHash?: Uint8Array | null }): Promise<SignedHead> {
    const signed = await this.sign(seed, fields)
    this.useSigned(signed)
    return signed
  }

  /** Signs a head over everything appended so far; useSigned makes it current. */
  async sign (seed: Uint8Array, fields: { length: number, time: number, ended?: boolean, finalInfoHash?: Uint8Array | null }): Promise<SignedHead> {
    const count = this.log.end
    const commitment = this.log.chainAt(count) ?? this.log.genesis
    const head: Head = { count, length: fields.length, time: fields.time, ended: fields.ended === true, commitment, finalInfoHash: fields.ended ? (fields.finalInfoHash ?? null) : null }
    const shape = checkHeadShape(head, this.info.pieceLength)
    if (!shape.ok) throw new Error(`${shape.code}: ${shape.reason}`)
    const signature = await this.ed.sign(seed, signable(this.infoHash, head))
    return { ...head, signature }
  }

  /**
   * Makes a head signed here (signHead) the current one, which peers are then sent: only once it is
   * durable (a broadcaster's write-ahead), or a head lost in a crash could reach a peer and the
   * resumed stream sign different pieces under the same numbers.
   */
  useSigned (signed: SignedHead): void {
    const last = this.log.intervals[this.log.intervals.length - 1]
    if (last) last.head = signed
    this.head = signed
  }

  /** Adopts a head this process signed earlier (a restarted broadcaster), after checking it. */
  async restoreHead (h: SignedHead): Promise<boolean> {
    if (!await this.verifySignature(h)) return false
    const c = this.log.chainAt(h.count) ?? (h.count === 0 ? this.log.genesis : null)
    if (!c || !equal(c, h.commitment)) return false
    this.head = h
    return true
  }

  /** The tail to send with the current head to a peer believed to hold `peerCount` pieces. */
  tailFor (peerCount: number, max: number): Tail | null {
    const h = this.head
    if (!h || h.count === 0) return null
    const n = Math.min(max, h.count - Math.max(0, Math.min(peerCount, h.count)))
    const size = n > 0 ? n : Math.min(1, h.count)
    const start = h.count - size
    const hashes = this.log.range(start, h.count)
    const anchor = this.log.chainAt(start)
    if (!hashes || !anchor) return null
    return { anchor, hashes }
  }
}
