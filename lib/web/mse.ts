/**
 * Plays a live stream of fragmented MP4 or WebM in a <video> with Media Source Extensions, while
 * it airs (media.ts tells the two apart and names the codecs from the initialisation segment).
 *  - from 'start': every byte from piece 0, in order.
 *  - from 'live': the initialisation segment (MP4: ftyp + moov; WebM: up to the first Cluster;
 *    given, or read from piece 0) and then the stream from a piece near the live edge, cut at the
 *    first moof or Cluster found there.
 * Keeps the player near the end of what it has; ends the MediaSource when the broadcast ends, after
 * which the <video> is an ordinary player of the whole recording it holds.
 */
import { BoxReader, concat } from './mp4.js'
import { containerOf, findMediaStart, mimeOf, readInit, readInitAndRest, type Container } from './media.js'
import { chunksOf } from './chunks.js'

/** What the feeder needs from `torrent.live`. */
export interface LiveSource {
  readonly count: number
  readonly startPiece: number | null
  readonly ended: boolean
  readonly head: { count: number, time: number } | null
  stream (opts?: { startPiece?: number }): ReadableStream<Uint8Array>
  on (event: 'head', fn: (head: { count: number, length: number, time: number }) => void): unknown
}

export interface MediaFeederOptions {
  from?: 'start' | 'live'
  /** The initialisation segment, if the page already has it (live-edge start without piece 0). */
  init?: Uint8Array | null
  /** For from 'live': look for the first fragment from this many pieces before the newest (default 2). */
  edgePieces?: number
  /** Piece length of the stream (to map byte offsets to pieces). */
  pieceLength: number
}

export interface FeedStats {
  mime: string | null
  /** 'mp4' (fragmented) or 'webm', once known. */
  container: Container | null
  /** Media bytes appended to the SourceBuffer. */
  appendedBytes: number
  /** Appends to the SourceBuffer: MP4 fragments (moof + mdat), WebM runs of bytes as they arrived. */
  fragments: number
  /** Stream offset where media started (0 from the start). */
  startOffset: number | null
  /** Milliseconds the picture on screen is behind the broadcaster's clock (null until known). */
  delayMs: number | null
  ended: boolean
  error: string | null
}

/** How far past the live edge a start point (moof, Cluster) must have turned up. */
const MAX_SEEK_BYTES = 64 * 1024 * 1024

export class MediaFeeder {
  readonly video: HTMLVideoElement
  readonly live: LiveSource
  readonly opts: MediaFeederOptions
  readonly stats: FeedStats = { mime: null, container: null, appendedBytes: 0, fragments: 0, startOffset: null, delayMs: null, ended: false, error: null }
  private ms: MediaSource | null = null
  private sb: SourceBuffer | null = null
  /** Head arrival: piece count → broadcaster's time when it was signed. */
  private headTimes: Array<{ end: number, time: number }> = []
  /** Appended fragments: media end time → stream byte offset of their end. */
  private frags: Array<{ mediaEnd: number, byteEnd: number }> = []
  private stopped = false
  private timer: ReturnType<typeof setInterval> | null = null

  constructor (video: HTMLVideoElement, live: LiveSource, opts: MediaFeederOptions) {
    this.video = video
    this.live = live
    this.opts = opts
    live.on('head', (h) => { this.headTimes.push({ end: h.length, time: h.time }); if (this.headTimes.length > 20000) this.headTimes.splice(0, 10000) })
    if (live.head) this.headTimes.push({ end: live.head.count * opts.pieceLength, time: live.head.time })
  }

  /** Starts feeding; resolves when the stream has ended and everything is appended. */
  async run (): Promise<void> {
    try {
      await this.feed()
    } catch (err) {
      this.stats.error = (err as Error).message ?? String(err)
      throw err
    } finally {
      if (this.timer) clearInterval(this.timer)
      this.timer = null
    }
  }

  stop (): void { this.stopped = true }

  private async feed (): Promise<void> {
    const from = this.opts.from ?? 'start'
    const pl = this.opts.pieceLength
    let init = this.opts.init ?? null
    let media: AsyncGenerator<Uint8Array>
    let container: Container
    /** The first media bytes (after the init segment, or from the start point) and their stream offset. */
    let first: Uint8Array
    let firstOffset: number
    if (from === 'start') {
      // The initialisation segment comes first; the same stream then carries on with the media.
      media = chunksOf(this.live.stream({ startPiece: 0 }))
      const r = await readInitAndRest(media)
      init = r.init
      container = r.container
      first = r.rest
      firstOffset = r.init.length
      this.stats.startOffset = 0
    } else {
      if (!init) init = await readInit(chunksOf(this.live.stream({ startPiece: 0 })))
      const c = containerOf(init)
      if (!c) throw new Error('the initialisation segment is neither fragmented MP4 nor WebM')
      container = c
      while (this.live.startPiece === null || this.live.count === 0) await new Promise((resolve) => setTimeout(resolve, 50))
      const edge = Math.max(this.live.startPiece, this.live.count - (this.opts.edgePieces ?? 2))
      media = chunksOf(this.live.stream({ startPiece: edge }))
      // Cut at the first place a player can start (a moof, a Cluster) found near the edge.
      let pending: Uint8Array = new Uint8Array(0)
      for (;;) {
        const x = await media.next()
        if (x.done) throw new Error(`the broadcast ended before a ${container === 'webm' ? 'Cluster' : 'fragment'} boundary was found`)
        pending = concat([pending, x.value])
        if (pending.length > MAX_SEEK_BYTES) throw new Error(`no ${container === 'webm' ? 'Cluster' : 'fragment'} boundary in ${MAX_SEEK_BYTES} bytes from the live edge`)
        const at = findMediaStart(container, pending)
        if (at >= 0) { first = pending.subarray(at); firstOffset = edge * pl + at; break }
      }
      this.stats.startOffset = firstOffset
    }
    this.stats.container = container
    await this.openSource(init)
    this.timer = setInterval(() => this.tick(), 250)
    if (container === 'webm') await this.feedWebM(media, first, firstOffset)
    else await this.feedMp4(media, first, firstOffset)
    await this.endOfStream()
  }

  /** MP4: whole moof+mdat pairs at a time (other boxes, e.g. styp/sidx, pass through). */
  private async feedMp4 (media: AsyncGenerator<Uint8Array>, first: Uint8Array, offset: number): Promise<void> {
    const reader = new BoxReader()
    reader.offset = offset
    reader.push(first)
    let group: Uint8Array[] = []
    const flushBoxes = async (): Promise<void> => {
      for (let box = reader.next(); box; box = reader.next()) {
        if (box.type === 'moov' || box.type === 'ftyp') continue // a repeated init segment: already appended
        group.push(box.bytes.slice())
        if (box.type === 'mdat') {
          await this.append(group, reader.offset)
          group = []
        }
      }
    }
    await flushBoxes()
    for (;;) {
      if (this.stopped) return
      const x = await media.next()
      if (x.done) break
      reader.push(x.value)
      await flushBoxes()
    }
    if (group.length) await this.append(group, reader.offset)
  }

  /**
   * WebM: the bytes as they come (a SourceBuffer takes a Cluster in parts; live encoders write
   * Clusters of unknown size, whose end shows only when the next one begins).
   */
  private async feedWebM (media: AsyncGenerator<Uint8Array>, first: Uint8Array, offset: number): Promise<void> {
    if (first.length) { offset += first.length; await this.append([first.slice()], offset) }
    for (;;) {
      if (this.stopped) return
      const x = await media.next()
      if (x.done) break
      offset += x.value.length
      await this.append([x.value], offset)
    }
  }

  private async openSource (init: Uint8Array): Promise<void> {
    const mime = mimeOf(init)
    this.stats.mime = mime
    if (typeof MediaSource === 'undefined') throw new Error('this browser has no Media Source Extensions')
    if (!MediaSource.isTypeSupported(mime)) throw new Error(`this browser cannot play ${mime}`)
    const ms = new MediaSource()
    this.ms = ms
    this.video.src = URL.createObjectURL(ms)
    await new Promise<void>((resolve) => ms.addEventListener('sourceopen', () => resolve(), { once: true }))
    const sb = ms.addSourceBuffer(mime)
    sb.mode = 'segments'
    this.sb = sb
    await this.appendRaw(init)
  }

  private appendRaw (bytes: Uint8Array): Promise<void> {
    const sb = this.sb!
    return new Promise<void>((resolve, reject) => {
      const done = (): void => { sb.removeEventListener('error', fail); resolve() }
      const fail = (): void => { sb.removeEventListener('updateend', done); reject(new Error('SourceBuffer append failed')) }
      sb.addEventListener('updateend', done, { once: true })
      sb.addEventListener('error', fail, { once: true })
      sb.appendBuffer(bytes as unknown as BufferSource)
    })
  }

  private async append (boxes: Uint8Array[], byteEnd: number): Promise<void> {
    const n = boxes.reduce((a, b) => a + b.length, 0)
    const bytes = new Uint8Array(n); let o = 0
    for (const b of boxes) { bytes.set(b, o); o += b.length }
    await this.trim()
    try {
      await this.appendRaw(bytes)
    } catch (err) {
      if (this.sb && this.video.error) throw new Error(`the player rejected the media: ${this.video.error.message || this.video.error.code}`)
      throw err
    }
    this.stats.appendedBytes += n
    this.stats.fragments++
    const b = this.sb!.buffered
    if (b.length) this.frags.push({ mediaEnd: b.end(b.length - 1), byteEnd })
    if (this.frags.length > 20000) this.frags.splice(0, 10000)
    if (this.stats.fragments === 1) {
      // A live-edge start begins at a media time far from 0: jump there and play.
      if (b.length && this.video.currentTime < b.start(0)) this.video.currentTime = b.start(0)
      this.video.play().catch(() => {})
    }
  }

  /** Keeps a long program from overflowing the SourceBuffer: drop media more than 5 min behind. */
  private async trim (): Promise<void> {
    const sb = this.sb!
    const b = sb.buffered
    if (!b.length) return
    const keepFrom = this.video.currentTime - 300
    if (b.start(0) < keepFrom - 30) {
      await new Promise<void>((resolve) => { sb.addEventListener('updateend', () => resolve(), { once: true }); sb.remove(b.start(0), keepFrom) })
    }
  }

  private async endOfStream (): Promise<void> {
    this.stats.ended = true
    const ms = this.ms
    if (ms && ms.readyState === 'open' && this.sb && !this.sb.updating) ms.endOfStream()
  }

  private tick (): void {
    const v = this.video
    const b = this.sb?.buffered
    if (b && b.length) {
      // Stalled before the buffered range (live start) or in a gap: move to the next buffered range.
      for (let i = 0; i < b.length; i++) {
        if (v.currentTime < b.start(i) && (i === 0 || v.currentTime > b.end(i - 1) - 0.05)) { v.currentTime = b.start(i); break }
      }
      // Fallen far behind the newest media while airing: catch up (stay near the edge).
      const end = b.end(b.length - 1)
      if (!this.stats.ended && this.opts.from === 'live' && end - v.currentTime > 10) v.currentTime = end - 2
    }
    this.stats.delayMs = this.delay()
  }

  /** now − (broadcaster's time for the media at currentTime). */
  private delay (): number | null {
    const t = this.video.currentTime
    const f = this.frags.find((x) => x.mediaEnd >= t)
    if (!f) return null
    const h = this.headTimes.find((x) => x.end >= f.byteEnd)
    if (!h) return null
    return Math.max(0, Date.now() - h.time + (f.mediaEnd - t) * 1000)
  }
}
