/**
 * One connection per peer. WebTorrent keeps a second wire to a peer it is already connected to: a
 * tracker (the DHT, PEX) lists the peer's listening address, which an incoming connection does not
 * show, so at the next announce each side dials the other. Every HAVE and HEAD then crossed twice;
 * in the swarm lab the tracker's re-announce at 60 s doubled every wire (420 → 840 at 20 viewers)
 * and a viewer process's CPU (66 → 95 %).
 *
 * The newer wire is closed: the older one carries the requests, heads and pushes in flight, and a
 * viewer's redialer (redial.ts) watches the address it dialled. Two wires opened within
 * DUPLICATE_GRACE_MS of each other (both sides dialled at once) keep the one the lower peer id
 * dialled, so that both ends close the same connection and not one each.
 */
import createDebug from 'debug'
import type { TorrentLike, WireLike } from '../../patches/index.js'
import { DUPLICATE_GRACE_MS } from './limits.js'
import { wireAddr } from './redial.js'

const debug = createDebug('webtorrent-live:wire')

/** A wire not closed and not being closed (a stream reads as destroyed only once it has closed). */
const open = (w: WireLike): boolean => !w.destroyed && !(w as { destroying?: boolean }).destroying

/** Whether we dialled `w` (true), it dialled us (false), or we cannot tell (WebRTC). */
const dialledByUs = (w: WireLike): boolean | null => /Outgoing$/.test(w.type ?? '') ? true : /Incoming$/.test(w.type ?? '') ? false : null

/** One connection per peer, for the life of a torrent (see above). */
export class OneWirePerPeer {
  private since = new WeakMap<object, number>()
  /** Addresses we dialled whose wire was closed as a duplicate → the wire kept to that peer. */
  private elsewhere = new Map<string, WireLike>()

  /** Installs its 'wire' listener: install it before any other, so that they see only the wires kept. `stats.duplicateWires` counts them. */
  constructor (private readonly torrent: TorrentLike, private readonly stats: { duplicateWires: number }) {
    torrent.on('wire', (wire: WireLike) => this.onWire(wire))
  }

  /** Whether `addr` is a peer connected on another wire (not to be dialled: WebTorrent's redial, a tracker's next list). */
  connectedElsewhere (addr: string): boolean {
    const w = this.elsewhere.get(addr)
    if (w && open(w)) return true
    this.elsewhere.delete(addr)
    return false
  }

  private onWire (wire: WireLike): void {
    const now = Date.now()
    this.since.set(wire, now)
    const id = wire.peerId ? String(wire.peerId) : ''
    const other = id ? this.torrent.wires.find((w) => w !== wire && open(w) && String(w.peerId ?? '') === id) : undefined
    if (!other) return
    this.stats.duplicateWires++
    let drop = wire
    const ours = String(this.torrent.client?.peerId ?? '')
    const dir = dialledByUs(wire)
    if (now - (this.since.get(other) ?? 0) < DUPLICATE_GRACE_MS && dir !== null && dialledByUs(other) === !dir && ours && ours !== id) {
      drop = dir === (ours < id) ? other : wire // dialled at once: keep the wire the lower peer id dialled
    }
    const kept = drop === wire ? other : wire
    debug('two wires to %s: closing the %s one', id, drop === wire ? 'new' : 'older')
    // An address we dialled is not dialled again while the peer is connected on the wire kept:
    // WebTorrent redials a closed outgoing peer within a second, and a tracker lists it again.
    const addr = dialledByUs(drop) ? wireAddr(drop) : null
    if (addr) {
      if (this.elsewhere.size >= MAX_ELSEWHERE) this.elsewhere.delete(this.elsewhere.keys().next().value as string)
      this.elsewhere.set(addr, kept)
    }
    drop.destroy()
  }
}

/** Addresses remembered as connected elsewhere, at most (one per peer connected twice). */
const MAX_ELSEWHERE = 1024
