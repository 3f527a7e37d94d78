/**
 * A hostile peer on a real socket: a raw bittorrent-protocol Wire over net.connect that completes
 * the BitTorrent handshake and the BEP 10 extended handshake advertising ut_live, then sends
 * whatever a test tells it to (ut_live messages built with the protocol encoders, or raw bytes;
 * HAVE, BITFIELD, REQUEST; piece data it makes up). It records every ut_live message it gets.
 */
import net from 'node:net'
import { randomBytes } from 'node:crypto'
import Wire from 'bittorrent-protocol'
import { EXTENSION_NAME, PROTOCOL_VERSION } from '../../../lib/protocol/constants.js'
import { decode, encode, type Message } from '../../../lib/protocol/messages.js'

/* eslint-disable @typescript-eslint/no-explicit-any */

export interface AttackerOptions {
  /** 40 hex chars; default random. Reusing a banned peer's id is how a reconnect is tested. */
  peerId?: string
  /** Advertise ut_live in the extended handshake (default true). */
  live?: boolean
  /** The live_v to advertise (default PROTOCOL_VERSION). */
  liveV?: number
  /** The live_n to claim (default 0). */
  liveN?: number
  /**
   * Answer piece requests: 'never' (hold them, the default), 'garbage' (random bytes), 'reject' (a
   * BEP 6 REJECT at once, as a peer whose uplink is full; the fast extension is then negotiated), or
   * with what a function returns.
   */
  pieces?: 'never' | 'garbage' | 'reject' | ((index: number, offset: number, length: number) => Uint8Array)
  /** Claim to hold pieces [0, claim) (BITFIELD) and unchoke the victim. */
  claim?: number
  /** Send at most this many bytes a second, paced every 100 ms (a narrow uplink; default: at once). */
  outRate?: number
  /**
   * Answer the first piece request with its PIECE message cut after this many bytes of the block,
   * then send nothing more, ever (a block that starts and never finishes).
   */
  partial?: number
}

export class Attacker {
  readonly wire: any
  readonly socket: net.Socket
  readonly peerId: string
  /** ut_live messages received from the victim (decoded). */
  readonly received: Message[] = []
  /** Piece requests received (and, with pieces: 'never', held forever). */
  requests = 0
  /** When each piece request arrived (Date.now()). */
  readonly requestTimes: number[] = []
  /** Resolves once the victim's extended handshake (with ut_live) arrived; rejects if the wire closes first. */
  readonly ready: Promise<void>
  /** Resolves when the connection is closed (by either side). */
  readonly closed: Promise<void>
  /** Whether the victim completed the BitTorrent handshake. */
  handshaken = false
  private held: Array<() => void> = []
  /** Writes a PIECE message for `block` cut short (options.partial), and mutes the wire. */
  private readonly cutPiece: (index: number, offset: number, block: Uint8Array) => void

  private constructor (port: number, infoHash: string, opts: AttackerOptions) {
    this.peerId = opts.peerId ?? randomBytes(20).toString('hex')
    const wire = new Wire()
    this.wire = wire
    const socket = net.connect(port, '127.0.0.1')
    this.socket = socket
    socket.setNoDelay(true)
    socket.on('data', (d: Buffer) => { if (!wire.destroyed) wire.write(d) })
    let muted = false
    const queue: Buffer[] = []
    if (opts.outRate !== undefined) {
      const rate = opts.outRate
      let last = Date.now()
      let credit = 0
      const pace = setInterval(() => { // by the time elapsed: a late tick on a busy machine does not slow the link
        const now = Date.now()
        credit = Math.min(credit + rate * (now - last) / 1000, rate) // at most a second's worth saved up
        last = now
        let room = Math.floor(credit)
        credit -= room
        while (room > 0 && queue.length > 0 && !socket.destroyed) {
          const c = queue[0]!
          const n = Math.min(room, c.length)
          socket.write(c.subarray(0, n))
          if (n === c.length) queue.shift(); else queue[0] = c.subarray(n)
          room -= n
        }
        if (queue.length === 0) credit = 0 // an idle link saves nothing up
      }, 100)
      socket.once('close', () => clearInterval(pace))
    }
    wire.on('data', (d: Uint8Array) => {
      if (socket.destroyed || muted) return
      if (opts.outRate !== undefined) queue.push(Buffer.from(d)); else socket.write(d)
    })
    this.cutPiece = (index: number, offset: number, block: Uint8Array): void => {
      const head = Buffer.alloc(13)
      head.writeUInt32BE(9 + block.length, 0)
      head.writeUInt8(7, 4) // PIECE
      head.writeUInt32BE(index, 5)
      head.writeUInt32BE(offset, 9)
      muted = true // nothing after it: the victim would read it as the rest of the block
      socket.write(Buffer.concat([head, block.subarray(0, opts.partial ?? 0)]))
    }
    socket.on('error', () => {})
    wire.on('error', () => {})
    this.closed = new Promise((resolve) => {
      let done = false
      const end = (): void => { if (done) return; done = true; wire.destroy(); socket.destroy(); resolve() }
      socket.once('close', end)
      wire.once('close', end)
      wire.once('end', end)
    })
    const self = this // eslint-disable-line @typescript-eslint/no-this-alias
    if (opts.live !== false) {
      class FakeLive {
        constructor (w: any) { w.extendedHandshake.live_v = opts.liveV ?? PROTOCOL_VERSION; w.extendedHandshake.live_n = opts.liveN ?? 0 }
        onMessage (buf: Uint8Array): void { const r = decode(buf); if (r.ok) self.received.push(r.value) }
      }
      ;(FakeLive.prototype as any).name = EXTENSION_NAME
      wire.use(FakeLive)
    }
    this.ready = new Promise((resolve, reject) => {
      wire.on('extended', (ext: unknown) => {
        if (ext === 'handshake' && wire.peerExtendedMapping[EXTENSION_NAME]) resolve()
      })
      this.closed.then(() => reject(new Error('closed before the extended handshake')))
    })
    this.ready.catch(() => {})
    wire.once('handshake', () => {
      this.handshaken = true
      if (opts.claim !== undefined) {
        const bf = new Uint8Array(Math.ceil(opts.claim / 8))
        for (let i = 0; i < opts.claim; i++) bf[i >> 3]! |= 0x80 >> (i & 7)
        wire.bitfield(bf)
        wire.unchoke()
      }
    })
    wire.on('request', (index: number, _offset: number, length: number, cb: (err: Error | null, b?: Uint8Array) => void) => {
      this.requests++
      this.requestTimes.push(Date.now())
      if (opts.pieces === 'reject') cb(new Error('uplink full')) // bittorrent-protocol answers an error with REJECT
      else if (opts.partial !== undefined) {
        if (this.requests === 1) this.cutPiece(index, _offset, typeof opts.pieces === 'function' ? opts.pieces(index, _offset, length) : randomBytes(length))
        this.held.push(() => cb(new Error('never')))
      } else if (opts.pieces === 'garbage') cb(null, randomBytes(length))
      else if (typeof opts.pieces === 'function') cb(null, opts.pieces(index, _offset, length))
      else this.held.push(() => cb(new Error('never')))
    })
    socket.once('connect', () => wire.handshake(infoHash, this.peerId, { dht: false, fast: opts.pieces === 'reject' }))
  }

  static connect (port: number, infoHash: string, opts: AttackerOptions = {}): Attacker {
    return new Attacker(port, infoHash, opts)
  }

  get destroyed (): boolean { return this.socket.destroyed || this.wire.destroyed }

  /** Sends raw bytes as one ut_live message. */
  sendRaw (payload: Uint8Array): boolean {
    if (this.destroyed || !this.wire.peerExtendedMapping[EXTENSION_NAME]) return false
    try { this.wire.extended(EXTENSION_NAME, payload); return true } catch { return false }
  }

  send (m: Message): boolean { return this.sendRaw(encode(m)) }

  destroy (): void { this.wire.destroy(); this.socket.destroy() }
}

/** Resolves true if `p` settles within `ms`, false otherwise. */
export function within (p: Promise<unknown>, ms: number): Promise<boolean> {
  return new Promise((resolve) => {
    const t = setTimeout(() => resolve(false), ms)
    p.then(() => { clearTimeout(t); resolve(true) }, () => { clearTimeout(t); resolve(true) })
  })
}

/**
 * A reconnect attempt with the same peer id: refused if the victim closes the connection without
 * completing the extended handshake with ut_live.
 */
export async function reconnectRefused (port: number, infoHash: string, peerId: string, ms = 3000): Promise<boolean> {
  const again = Attacker.connect(port, infoHash, { peerId })
  let live = false
  again.ready.then(() => { live = true }, () => {})
  const closed = await within(again.closed, ms)
  again.destroy()
  return closed && !live
}
