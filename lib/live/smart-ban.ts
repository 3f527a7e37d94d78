/**
 * Smart ban: who sent the bytes of a piece that failed SHA-1.
 *
 * A piece that fails with a single sender convicts it. One that fails with several is kept as a
 * suspect (each block's digest), fetched again from a single wire, and when it verifies every
 * sender whose block differs from the verified bytes is banned: a corrupter cannot get an honest
 * peer that served other blocks of the same pieces banned. (anacrolix/torrent's smartban.go.)
 */
import { toHex } from '../protocol/bytes.js'
import { hashes } from '../crypto/index.js'
import * as patches from '../../patches/index.js'
import type { TorrentLike, WireLike } from '../../patches/index.js'
import { MAX_BLOCKS_PER_PIECE, MAX_PIECES_IN_FLIGHT, MAX_SUSPECT_PIECES } from './limits.js'

/** A block received for a piece in flight (data kept until the piece verifies or fails). */
interface Block { wire: WireLike, offset: number, length: number, data: Uint8Array | null, digest: string | null }

export interface SmartBanHost {
  readonly torrent: TorrentLike
  /** A piece failed verification (counted in stats.corruptPieces). */
  corrupt (index: number): void
  ban (wire: WireLike, code: 'CORRUPT_PIECE', reason: string): void
}

export class SmartBan {
  /** Blocks received for pieces in flight, by piece. */
  private blocks = new Map<number, Block[]>()
  /** Pieces that failed with several senders: their blocks' digests, until the piece verifies. */
  private suspects = new Map<number, Block[]>()
  /** Suspect pieces are fetched again from one wire only (null: the next wire that asks). */
  private solo = new Map<number, WireLike | null>()

  constructor (private readonly host: SmartBanHost) {}

  /** A block that answers one of our requests ('requested-piece'). */
  noteBlock (index: number, offset: number, data: Uint8Array, wire: WireLike): void {
    if (!(data instanceof Uint8Array)) return
    let list = this.blocks.get(index)
    if (!list) {
      while (this.blocks.size >= MAX_PIECES_IN_FLIGHT) this.blocks.delete(this.blocks.keys().next().value as number)
      list = []
      this.blocks.set(index, list)
    }
    if (list.length < MAX_BLOCKS_PER_PIECE) list.push({ wire, offset, length: data.length, data, digest: null })
  }

  /** Whether a block of piece `index` may be requested from `wire` (a suspect comes from one wire). */
  mayRequest (wire: WireLike, index: number): boolean {
    if (!this.solo.has(index)) return true
    const d = this.solo.get(index)
    if (d === wire) return true
    if (d && !d.destroyed && !d.peerChoking && d.peerPieces.get(index)) return false
    this.solo.set(index, wire)
    return true
  }

  /** A torrent 'warning': WebTorrent's "Piece N failed verification" starts the judgement. */
  onWarning (err: unknown): void {
    const index = patches.failedPiece(err)
    if (index === null) return
    this.host.corrupt(index)
    const blocks = this.blocks.get(index) ?? []
    this.blocks.delete(index)
    const who = new Set(blocks.map((b) => b.wire))
    if (who.size === 0) return
    if (who.size === 1) {
      this.solo.delete(index)
      for (const wire of who) this.host.ban(wire, 'CORRUPT_PIECE', `sent data for piece ${index} that failed SHA-1 verification`)
      return
    }
    const kept = this.suspects.get(index) ?? []
    for (const b of blocks) {
      if (kept.length >= MAX_BLOCKS_PER_PIECE) break
      kept.push({ wire: b.wire, offset: b.offset, length: b.length, data: null, digest: toHex(hashes.sha1(b.data!)) })
    }
    this.suspects.delete(index)
    while (this.suspects.size >= MAX_SUSPECT_PIECES) {
      const oldest = this.suspects.keys().next().value as number
      this.suspects.delete(oldest)
      this.solo.delete(oldest) // solo entries exist for suspects only: bounded with them
    }
    this.suspects.set(index, kept)
    this.solo.set(index, null)
  }

  /** A piece verified: a suspect's senders whose blocks differ from the verified bytes are banned. */
  onVerified (index: number): void {
    this.blocks.delete(index)
    this.solo.delete(index)
    const kept = this.suspects.get(index)
    if (!kept) return
    this.suspects.delete(index)
    const torrent = this.host.torrent
    const length = torrent.pieces.length > index ? (index === torrent.pieces.length - 1 ? torrent.lastPieceLength : torrent.pieceLength) : 0
    torrent.store?.get(index, { offset: 0, length }, (err: Error | null, good?: Uint8Array) => {
      if (err || !good) return
      for (const b of kept) {
        if (b.offset + b.length > good.length) continue
        if (toHex(hashes.sha1(good.subarray(b.offset, b.offset + b.length))) === b.digest) continue
        this.host.ban(b.wire, 'CORRUPT_PIECE', `sent a block of piece ${index} that differs from the verified piece`)
      }
    })
  }
}
