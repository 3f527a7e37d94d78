/**
 * Re-tune-in: a source that goes away for a while is not lost for good. WebTorrent redials a TCP
 * peer three times (1, 5, 15 s) and then forgets it, so a viewer that knew the broadcaster only by
 * address (`--peer`, `addPeer`) never picked the stream up again after an outage of ~21 s, even when
 * the broadcaster came back on the same port (`--state`).
 *
 * Here: every dialable address (one given to addPeer: by the user, a tracker, the DHT, PEX) whose
 * wire completed the ut_live handshake is a *source*. When its wire closes and the stream is still
 * wanted (live and not ended, or ended with pieces missing here), the address is redialled with
 * capped exponential back-off (1 s doubling to REDIAL_MAX_MS) until it is connected again, the
 * stream is no longer wanted, or the torrent closes. Banned addresses are never redialled (addPeer
 * is filtered by the ban list), and WebTorrent ignores an addPeer for an address it is still
 * dialling itself, so there are no duplicate connections.
 *
 * A source that comes back on another port is found through the trackers and the DHT: it dials the
 * viewers they list when it announces. So that a viewer finds it too (one that cannot be dialled),
 * a viewer left with no ut_live wire while the stream is wanted announces again every
 * REANNOUNCE_MS (WebTorrent alone: at the tracker's interval, often 10–30 min, and ~15 min on the DHT).
 */

/** Longest wait between two redials of one source: an outage of minutes costs at most this much extra. */
export const REDIAL_MAX_MS = 30_000
export const REDIAL_FIRST_MS = 1_000
/** Re-announce period with no ut_live wire: a source back on another port is found within this (trackers' min interval is usually lower). */
export const REANNOUNCE_MS = 60_000
/** Sources remembered (WebTorrent keeps at most 55 connections; the oldest are forgotten first). */
export const MAX_SOURCES = 256
/** Dialable addresses remembered, so that a wire can be told to be one (an attacker's PEX can add many). */
export const MAX_KNOWN_ADDRESSES = 4096

export interface RedialHost {
  /** Whether the stream is still wanted here (live, or ended with pieces missing). */
  wanted (): boolean
  /** Whether the torrent is gone. */
  closed (): boolean
  /** Dials `addr` (the torrent's filtered addPeer). */
  dial (addr: string): void
  /** Wires that completed the ut_live handshake now. */
  liveWires (): number
  /** Announces to the trackers and the DHT now. */
  reannounce (): void
}

interface Source { delay: number, timer: ReturnType<typeof setTimeout> | null, connected: number }

export class Redialer {
  private known = new Set<string>()
  private sources = new Map<string, Source>()
  private readonly host: RedialHost
  private announceTimer: ReturnType<typeof setTimeout> | null = null

  constructor (host: RedialHost) {
    this.host = host
  }

  /** An address given to addPeer (dialable: it is someone's listening port). */
  noteDialable (addr: string): void {
    if (this.known.has(addr)) return
    if (this.known.size >= MAX_KNOWN_ADDRESSES) this.known.delete(this.known.values().next().value as string)
    this.known.add(addr)
  }

  /** A wire to `addr` completed the ut_live handshake. */
  onLiveWire (addr: string | null): void {
    if (!addr || !this.known.has(addr)) return // an incoming connection's port is not dialable
    let s = this.sources.get(addr)
    if (!s) {
      if (this.sources.size >= MAX_SOURCES) this.forget(this.sources.keys().next().value as string)
      s = { delay: REDIAL_FIRST_MS, timer: null, connected: 0 }
      this.sources.set(addr, s)
    }
    if (s.timer) { clearTimeout(s.timer); s.timer = null }
    s.delay = REDIAL_FIRST_MS
    s.connected++
  }

  /** A wire to `addr` closed. */
  onWireClose (addr: string | null, wasLive: boolean): void {
    const s = addr ? this.sources.get(addr) : undefined
    if (!s || !addr) return
    if (wasLive) s.connected = Math.max(0, s.connected - 1)
    this.schedule(addr, s)
  }

  /** A live wire closed (any, dialable or not): with none left, announce again until one is back. */
  onLiveWireClosed (): void {
    if (this.announceTimer || this.host.closed()) return
    this.announceTimer = setTimeout(() => {
      this.announceTimer = null
      if (this.host.closed() || this.host.liveWires() > 0 || !this.host.wanted()) return
      this.host.reannounce()
      this.onLiveWireClosed()
    }, REANNOUNCE_MS)
    this.announceTimer.unref?.()
  }

  private schedule (addr: string, s: Source): void {
    if (s.timer || s.connected > 0 || this.host.closed()) return
    s.timer = setTimeout(() => {
      s.timer = null
      if (this.host.closed() || s.connected > 0 || !this.sources.has(addr)) return
      if (!this.host.wanted()) return
      this.host.dial(addr)
      s.delay = Math.min(REDIAL_MAX_MS, s.delay * 2)
      this.schedule(addr, s) // again later unless the dial gives us a live wire
    }, s.delay)
    s.timer.unref?.()
  }

  /** Stops every timer (the torrent closed). */
  close (): void {
    if (this.announceTimer) { clearTimeout(this.announceTimer); this.announceTimer = null }
    for (const addr of [...this.sources.keys()]) this.forget(addr)
  }

  private forget (addr: string): void {
    const s = this.sources.get(addr)
    if (s?.timer) clearTimeout(s.timer)
    this.sources.delete(addr)
  }
}

/** A wire's remote IP, an IPv4-mapped IPv6 one as IPv4 ('' where it has none: WebRTC without an address). */
export function wireIp (wire: { remoteAddress?: string }): string {
  const host = wire.remoteAddress
  if (typeof host !== 'string') return ''
  return host.startsWith('::ffff:') && host.includes('.') ? host.slice(7) : host
}

/** `host:port` of a wire's remote end, as addPeer writes it (IPv6 in brackets). */
export function wireAddr (wire: { remoteAddress?: string, remotePort?: number }): string | null {
  const h = wireIp(wire)
  const port = wire.remotePort
  if (!h || !port) return null
  return h.includes(':') ? `[${h}]:${port}` : `${h}:${port}`
}
