/**
 * The ut_live BEP 10 extension, one instance per wire. Thin, as ut_metadata is: it decodes,
 * hands messages to the stream controller, and sends what the controller asks (through its Peer,
 * peer.ts). Bytes from the peer never throw out of here. Step 1 of a HEAD's way: decode.
 */
import { EXTENSION_NAME, HANDSHAKE_PUSH_KEY, MAX_PUSH_MESSAGE_BYTES, MSG_PUSH, PROTOCOL_VERSION } from '../protocol/constants.js'
import { decode, type Message } from '../protocol/messages.js'
import { toHex } from '../protocol/bytes.js'
import { REQQ, type WireLike } from '../../patches/index.js'
import type { ErrorCode } from '../protocol/result.js'
import { Peer } from './peer.js'
import { idBanKey } from './peer-policy.js'

export { Peer }

/** What the extension needs from the stream it belongs to. */
export interface LiveHost {
  readonly count: number
  /** Whether we accept PUSH (said in our extended handshake). */
  readonly acceptsPush: boolean
  onPeerReady (peer: Peer): void
  onPeerMessage (peer: Peer, msg: Message): void
  onPeerFault (peer: Peer, code: ErrorCode | 'FLOOD', reason: string): void
  /** A ban key: an address, or a peer id with its IP (idBanKey). */
  isBanned (key: string): boolean
}

export function utLive (host: LiveHost): new (wire: WireLike) => unknown {
  class UtLive {
    readonly peer: Peer

    constructor (wire: WireLike) {
      const peer = this.peer = new Peer(wire)
      wire.extendedHandshake.live_v = PROTOCOL_VERSION
      wire.extendedHandshake.live_n = host.count
      wire.extendedHandshake.reqq = REQQ // BEP 10: requests we queue per peer (see patches/wire-requests.ts)
      if (host.acceptsPush) wire.extendedHandshake[HANDSHAKE_PUSH_KEY] = 1
      // An incoming peer's handshake arrives before WebTorrent installs extensions, so
      // onHandshake is never called for it: take its id from the wire, and refuse it if banned.
      if (typeof wire.peerId === 'string' && wire.peerId) {
        peer.peerId = wire.peerId
        if (host.isBanned(idBanKey(wire, peer.peerId))) wire.destroy()
      }
    }

    onHandshake (_infoHash: string, peerId: string): void {
      this.peer.peerId = typeof peerId === 'string' ? peerId : toHex(peerId)
      if (host.isBanned(idBanKey(this.peer.wire, this.peer.peerId))) this.peer.wire.destroy()
    }

    onExtendedHandshake (h: Record<string, unknown>): void {
      const m = h?.m as Record<string, unknown> | undefined
      if (!m || typeof m[EXTENSION_NAME] !== 'number') return // a plain BitTorrent peer
      if (h.live_v !== undefined && h.live_v !== PROTOCOL_VERSION) return // another version: don't speak it
      this.peer.supported = true // live_n is only a claim: knownCount grows from verified heads alone
      // Each one makes us send our head and look for hash pages: counted as any ut_live message.
      if (!this.peer.withinRate()) return host.onPeerFault(this.peer, 'FLOOD', 'too many extended handshakes')
      this.peer.acceptsPush ||= h[HANDSHAKE_PUSH_KEY] === 1
      // Claims only grow: a re-sent handshake cannot shrink a claim to dodge the proof deadline.
      this.peer.claim(h.live_n)
      host.onPeerReady(this.peer)
    }

    onMessage (buf: Uint8Array): void {
      const peer = this.peer
      if (!peer.supported) return host.onPeerFault(peer, 'BAD_TYPE', 'ut_live message before the handshake')
      if (!(buf instanceof Uint8Array) || buf.length > MAX_PUSH_MESSAGE_BYTES) return host.onPeerFault(peer, 'TOO_LARGE', 'oversized ut_live message')
      // PUSH is piece data (push.ts bounds it: partials, the edge, wasted pushes), not control traffic.
      if (buf[0] !== MSG_PUSH && !peer.withinRate()) return host.onPeerFault(peer, 'FLOOD', 'too many ut_live messages')
      const r = decode(buf)
      if (!r.ok) return host.onPeerFault(peer, r.code, r.reason)
      host.onPeerMessage(peer, r.value)
    }
  }
  ;(UtLive.prototype as unknown as { name: string }).name = EXTENSION_NAME
  return UtLive
}
