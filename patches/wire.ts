/**
 * Adapts a bittorrent-protocol Wire for a torrent that grows: its bitfield (wire-bitfield.ts) and
 * the requests it serves (wire-requests.ts), in one call.
 */
import { adaptBitfield } from './wire-bitfield.js'
import { adaptRequests, boundMessages } from './wire-requests.js'
import type { WireLike } from './types.js'

export interface WireOptions {
  /** The highest piece index this peer may announce now. */
  limit: () => number
  /** A HAVE, BITFIELD or REQUEST that breaks the rules: called instead of touching state (the caller bans). */
  onAbuse: (why: string) => void
  /** How many pieces the stream has now (default: limit() + 1). */
  pieces?: () => number
  /** The protocol's hard limit on pieces (default 2^26). */
  hardLimit?: number
  /** Whether we hold a piece (a REQUEST for another is abuse); without it, not checked. */
  has?: (index: number) => boolean
  /** A HAVE of this piece only sets the peer's bit, with no 'have' event (see wire-bitfield.ts P12). */
  quietHave?: (index: number) => boolean
}

export function adaptWire (wire: WireLike, { limit, onAbuse, pieces, hardLimit = 2 ** 26, has, quietHave }: WireOptions): void {
  adaptBitfield(wire, { limit, onAbuse, hardLimit, ...(quietHave ? { quiet: quietHave } : {}) })
  adaptRequests(wire, { pieces: pieces ?? (() => limit() + 1), onAbuse, ...(has ? { has } : {}) })
  boundMessages(wire, hardLimit, onAbuse)
}

/**
 * BEP 54: tells the peer we no longer have a piece (the sliding window, lib/live/window.ts).
 * WebTorrent loads lt_donthave on every wire; on receipt it clears the piece from that wire's
 * peerPieces and fails our pending requests for it (its rarity map, used only by the 'rarest'
 * strategy, is not updated; live torrents select sequentially). A no-op if the peer lacks it.
 */
export function sendDontHave (wire: WireLike, index: number): void {
  const ext = wire.lt_donthave as { donthave?: (i: number) => void } | undefined
  try { ext?.donthave?.(index) } catch {}
}
