/**
 * One connection per peer. WebTorrent keeps a second wire to a peer it is already connected to: a
 * tracker (the DHT, PEX) lists the peer's listening address, which an incoming connection does not
 * show, so at the next announce each side dials the other. Every HAVE and HEAD then crossed twice;
 * in the swarm lab the tracker's re-announce at 60 s doubled every wire (420 → 840 at 20 viewers)
 * and a viewer process's CPU (66 → 95 %).
 *
 * Two wires are to one peer when they carry the same peer id from the same IP (an id alone is a
 * claim anyone can make). The newer wire is closed: the older one carries the requests, heads and pushes in flight. Two
 * wires opened within DUPLICATE_GRACE_MS of each other (both sides dialled at once) keep the one
 * the lower peer id dialled, so that both ends close the same connection. An address we dialled
 * whose wire was closed is not dialled again while the peer is connected on the wire kept
 * (WebTorrent retries a closed outgoing peer within a second, and a tracker lists it again); when
 * that wire closes, the address is dialled once more, as WebTorrent would have redialled the wire
 * we closed (a viewer's source that restarts is found again: redial.ts takes over once it is live).
 */
import createDebug from 'debug'
import type { TorrentLike, WireLike } from '../../patches/index.js'
import { DUPLICATE_GRACE_MS } from './limits.js'
import { wireIp } from './redial.js'

const debug = createDebug('webtorrent-live:wire')

/** Whether we dialled `w` (true), it dialled us (false), or we cannot tell (WebRTC). */
const dialledByUs = (w: WireLike): boolean | null => /Outgoing$/.test(w.type ?? '') ? true : /Incoming$/.test(w.type ?? '') ? false : null

export class OneWirePerPeer {
  /** When each wire was handed to us, and the address WebTorrent gave with it (what it dials). */
  private seen = new WeakMap<object, { at: number, addr: string | null }>()
  /** Wires closed here as duplicates (a wire reads as destroyed only once its stream has closed). */
  private dropped = new WeakSet<object>()
  /** Addresses we dialled whose wire was closed as a duplicate → the wire kept to that peer. */
  private elsewhere = new Map<string, WireLike>()

  /** Installs its 'wire' listener: install it before any other. `stats.duplicateWires` counts the wires closed. */
  constructor (private readonly torrent: TorrentLike, private readonly stats: { duplicateWires: number }) {
    torrent.on('wire', (wire: WireLike, addr?: string) => this.onWire(wire, typeof addr === 'string' ? addr : null))
  }

  /** Whether `wire` was closed here as a duplicate (other listeners leave it alone). */
  isDropped (wire: WireLike): boolean { return this.dropped.has(wire) }

  /** Whether `addr` is a peer connected on another wire (not to be dialled now). */
  connectedElsewhere (addr: string): boolean { return this.elsewhere.has(addr) }

  private open (w: WireLike): boolean { return !w.destroyed && !(w as { destroying?: boolean }).destroying && !this.dropped.has(w) }

  private onWire (wire: WireLike, addr: string | null): void {
    const now = Date.now()
    this.seen.set(wire, { at: now, addr })
    const id = wire.peerId ? String(wire.peerId).toLowerCase() : ''
    // The same id from the same IP: a peer id is only what a handshake claims, and a wire from
    // elsewhere that claims a peer's id must not get that peer's own wires closed.
    const ip = wireIp(wire)
    const other = id ? this.torrent.wires.find((w) => w !== wire && this.open(w) && String(w.peerId ?? '').toLowerCase() === id && wireIp(w) === ip) : undefined
    if (!other) return
    this.stats.duplicateWires++
    let drop = wire
    const ours = String(this.torrent.client?.peerId ?? '').toLowerCase()
    const dir = dialledByUs(wire)
    if (now - (this.seen.get(other)?.at ?? 0) < DUPLICATE_GRACE_MS && dir !== null && dialledByUs(other) === !dir && ours && ours !== id) {
      drop = dir === (ours < id) ? other : wire // dialled at once: keep the wire the lower peer id dialled
    }
    const kept = drop === wire ? other : wire
    debug('two wires to %s: closing the %s one', id, drop === wire ? 'new' : 'older')
    this.dropped.add(drop)
    const dialled = dialledByUs(drop) ? this.seen.get(drop)?.addr ?? null : null
    if (dialled && !this.elsewhere.has(dialled)) {
      this.elsewhere.set(dialled, kept)
      kept.once('close', () => {
        this.elsewhere.delete(dialled)
        if (!this.torrent.destroyed) { try { this.torrent.addPeer(dialled) } catch {} }
      })
    }
    drop.destroy()
  }
}
