/**
 * The ut_live BEP 10 extension, one instance per wire. Thin, as ut_metadata is: it decodes,
 * hands messages to the stream controller, and sends what the controller asks. Bytes from the
 * peer never throw out of here.
 */
import { EXTENSION_NAME, MAX_MESSAGE_BYTES, MAX_PIECES, PROTOCOL_VERSION } from '../protocol/constants.js'
import { decode, encode, type Message } from '../protocol/messages.js'
import { toHex } from '../protocol/bytes.js'
import { REQQ } from '../../patches/index.js'
import type { ErrorCode } from '../protocol/result.js'

/** What the extension needs from the stream it belongs to. */
export interface LiveHost {
  readonly count: number
  onPeerReady (peer: LivePeer): void
  onPeerMessage (peer: LivePeer, msg: Message): void
  onPeerFault (peer: LivePeer, code: ErrorCode | 'FLOOD', reason: string): void
  isBanned (peerIdHex: string): boolean
}

/** Per-peer budget: messages per second before the peer counts as flooding. */
export const MAX_MESSAGES_PER_SECOND = 500

export interface LivePeer {
  readonly wire: any // eslint-disable-line @typescript-eslint/no-explicit-any
  peerId: string
  supported: boolean
  /** Highest head count this peer has shown us or been sent (it can serve hashes below it). */
  knownCount: number
  /** Rank of the newest head sent to or received from this peer. */
  knownRank: number
  /**
   * How many pieces the peer says it has (extended handshake `live_n`, or the count of a head it
   * sent, before verification): only a claim, used to size what it may announce; see LiveTorrent.
   */
  claimedCount: number
  send (msg: Message): void
}

export function utLive (host: LiveHost): new (wire: unknown) => LivePeer {
  class UtLive implements LivePeer {
    readonly wire: any // eslint-disable-line @typescript-eslint/no-explicit-any
    peerId = ''
    supported = false
    knownCount = 0
    knownRank = -1
    claimedCount = 0
    private windowStart = 0
    private windowCount = 0

    constructor (wire: any) { // eslint-disable-line @typescript-eslint/no-explicit-any
      this.wire = wire
      wire.extendedHandshake.live_v = PROTOCOL_VERSION
      wire.extendedHandshake.live_n = host.count
      wire.extendedHandshake.reqq = REQQ // BEP 10: requests we queue per peer (see patches/wire-requests.ts)
      // An incoming peer's handshake arrives before WebTorrent installs extensions, so
      // onHandshake is never called for it: take its id from the wire, and refuse it if banned.
      if (typeof wire.peerId === 'string' && wire.peerId) {
        this.peerId = wire.peerId
        if (host.isBanned(this.peerId)) wire.destroy()
      }
    }

    onHandshake (_infoHash: string, peerId: string): void {
      this.peerId = typeof peerId === 'string' ? peerId : toHex(peerId)
      if (host.isBanned(this.peerId)) this.wire.destroy()
    }

    onExtendedHandshake (h: Record<string, unknown>): void {
      const m = h?.m as Record<string, unknown> | undefined
      if (!m || typeof m[EXTENSION_NAME] !== 'number') return // a plain BitTorrent peer
      if (h.live_v !== undefined && h.live_v !== PROTOCOL_VERSION) return // another version: don't speak it
      this.supported = true // live_n is only a claim: knownCount grows from verified heads alone
      const n = h.live_n
      // Claims only grow: a re-sent handshake cannot shrink a claim to dodge the proof deadline.
      if (typeof n === 'number' && Number.isSafeInteger(n) && n > 0) this.claimedCount = Math.max(this.claimedCount, Math.min(n, MAX_PIECES))
      host.onPeerReady(this)
    }

    onMessage (buf: Uint8Array): void {
      if (!this.supported) return host.onPeerFault(this, 'BAD_TYPE', 'ut_live message before the handshake')
      const now = Date.now()
      if (now - this.windowStart >= 1000) { this.windowStart = now; this.windowCount = 0 }
      if (++this.windowCount > MAX_MESSAGES_PER_SECOND) return host.onPeerFault(this, 'FLOOD', 'too many ut_live messages')
      if (!(buf instanceof Uint8Array) || buf.length > MAX_MESSAGE_BYTES) return host.onPeerFault(this, 'TOO_LARGE', 'oversized ut_live message')
      const r = decode(buf)
      if (!r.ok) return host.onPeerFault(this, r.code, r.reason)
      host.onPeerMessage(this, r.value)
    }

    send (msg: Message): void {
      if (!this.supported || this.wire.destroyed) return
      try { this.wire.extended(EXTENSION_NAME, encode(msg)) } catch { /* wire closing */ }
    }
  }
  ;(UtLive.prototype as unknown as { name: string }).name = EXTENSION_NAME
  return UtLive
}
