/**
 * The broadcaster: airs a program into a live torrent. Input in any chunk sizes; every full piece
 * is stored, committed into a new signed head and announced (HEAD to ut_live peers, then HAVE).
 * Only full pieces are published until end(), which publishes the last (possibly short) piece and
 * the signed end naming the final, ordinary torrent.
 */
import { Writable } from 'node:stream'
import bencode from 'bencode'
import { hashes, randomBytes } from '../crypto/index.js'
import { toHex } from '../protocol/bytes.js'
import { NONCE_BYTES } from '../protocol/constants.js'
import { createFinalInfo, createLiveInfo, encodeInfo } from '../protocol/info.js'
import { LiveError } from '../protocol/result.js'
import * as patches from '../../patches/index.js'
import { enableLive, type LiveView } from './enable.js'
import { createKeyPair, type KeyPair } from './keys.js'

/* eslint-disable @typescript-eslint/no-explicit-any */

export interface BroadcastOptions {
  name: string
  /** Piece length in bytes: a power of two, 1 KiB … 16 MiB (default 16 KiB: low latency). */
  pieceLength?: number
  keyPair?: KeyPair
  /** 16 random bytes that make this broadcast's infohash unique (default: random). */
  nonce?: Uint8Array
  /** Tracker URLs written into the torrent and magnet link. */
  announce?: string[]
  /** Folder for the stored stream (Node). */
  path?: string
  /** Any other WebTorrent torrent option. */
  [key: string]: unknown
}

export interface FinalTorrent {
  infoHash: string
  magnetURI: string
  /** The ordinary BitTorrent v1 .torrent file. */
  torrentFile: Uint8Array
}

export const DEFAULT_PIECE_LENGTH = 16 * 1024

export class Broadcaster {
  readonly torrent: any
  readonly live: LiveView
  readonly keyPair: KeyPair
  readonly pieceLength: number
  readonly name: string
  private partial: Uint8Array
  private fill = 0
  private published = 0
  private chain: Promise<unknown> = Promise.resolve()
  private ending: Promise<FinalTorrent> | null = null

  constructor (torrent: any, keyPair: KeyPair) {
    this.torrent = torrent
    this.live = torrent.live
    this.keyPair = keyPair
    this.pieceLength = torrent.pieceLength
    this.name = torrent.name
    this.partial = new Uint8Array(this.pieceLength)
  }

  get infoHash (): string { return this.torrent.infoHash }
  get magnetURI (): string { return this.torrent.magnetURI }
  get torrentFile (): Uint8Array { return this.torrent.torrentFile }
  /** Bytes published in signed heads so far. */
  get length (): number { return this.published }

  /** Queues bytes for the stream; resolves once every full piece they complete is announced. */
  write (bytes: Uint8Array): Promise<void> {
    if (this.ending) return Promise.reject(new LiveError('ENDED', 'write after end()'))
    const copy = bytes.slice()
    const p = this.chain.then(() => this.ingest(copy))
    this.chain = p.catch(() => {})
    return p
  }

  /** A Node Writable: pipe a program into it; end() on the writable ends the broadcast. */
  createWriteStream (): Writable {
    return new Writable({
      write: (chunk: Uint8Array, _enc, cb) => { this.write(chunk).then(() => cb(), cb) },
      final: (cb) => { this.end().then(() => cb(), cb) }
    })
  }

  private async ingest (bytes: Uint8Array): Promise<void> {
    const pieces: Uint8Array[] = []
    let off = 0
    while (off < bytes.length) {
      const n = Math.min(this.pieceLength - this.fill, bytes.length - off)
      this.partial.set(bytes.subarray(off, off + n), this.fill)
      this.fill += n
      off += n
      if (this.fill === this.pieceLength) {
        pieces.push(this.partial)
        this.partial = new Uint8Array(this.pieceLength)
        this.fill = 0
      }
    }
    if (pieces.length) await this.publish(pieces, false)
  }

  /** Stores pieces, appends their hashes, signs one head over them and announces it. */
  private async publish (pieces: Uint8Array[], ended: boolean): Promise<void> {
    const live = this.live
    const state = live.state
    if (!state || live.destroyed) throw new LiveError('DESTROYED', 'the broadcast torrent is closed')
    const first = state.log.end
    const pieceHashes = pieces.map((p) => hashes.sha1(p))
    for (let k = 0; k < pieces.length; k++) await put(this.torrent.store, first + k, pieces[k]!)
    state.appendHashes(pieceHashes)
    const count = first + pieces.length
    const length = this.published + pieces.reduce((a, p) => a + p.length, 0)
    let finalInfoHash: Uint8Array | null = null
    if (ended) {
      const info = createFinalInfo(this.name, this.pieceLength, length, state.log.range(0, count) ?? new Uint8Array(0))
      finalInfoHash = hashes.sha1(encodeInfo(info))
    }
    const head = await state.signHead(this.keyPair.secretKey, { length, time: Date.now(), ended, finalInfoHash })
    this.published = length
    live.applyHead(head, first, count)
    live.announce() // HEAD first, so peers can grow before the HAVEs arrive
    for (let i = first; i < count; i++) patches.markHave(this.torrent, i)
    patches.checkDone(this.torrent)
  }

  /**
   * Ends the broadcast: publishes the buffered remainder as the last (possibly short) piece and
   * a signed end. Resolves with the final, ordinary torrent. Calling it again returns the same.
   */
  end (): Promise<FinalTorrent> {
    if (this.ending) return this.ending
    this.ending = this.chain.then(async () => {
      const rest = this.fill > 0 ? [this.partial.slice(0, this.fill)] : []
      this.fill = 0
      await this.publish(rest, true)
      return finalTorrent(this.name, this.pieceLength, this.published, this.live.state!.log.range(0, this.live.count) ?? new Uint8Array(0), this.torrent.announce ?? [])
    })
    return this.ending
  }
}

function put (store: any, index: number, buf: Uint8Array): Promise<void> {
  return new Promise((resolve, reject) => store.put(index, buf, (err: Error | null) => err ? reject(err) : resolve()))
}

/** The final torrent of a broadcast, from its piece hashes. */
export function finalTorrent (name: string, pieceLength: number, length: number, pieceHashes: Uint8Array, announce: string[]): FinalTorrent {
  const info = createFinalInfo(name, pieceLength, length, pieceHashes)
  const infoBytes = encodeInfo(info)
  const infoHash = toHex(hashes.sha1(infoBytes))
  const file: Record<string, unknown> = { info }
  if (announce.length) { file.announce = announce[0]; file['announce-list'] = announce.map((a) => [a]) }
  const torrentFile = bencode.encode(file)
  const tr = announce.map((a) => `&tr=${encodeURIComponent(a)}`).join('')
  return { infoHash, magnetURI: `magnet:?xt=urn:btih:${infoHash}&dn=${encodeURIComponent(name)}${tr}`, torrentFile }
}

/** Starts a broadcast on a WebTorrent client; resolves when the stream is ready for peers. */
export async function broadcast (client: any, opts: BroadcastOptions): Promise<Broadcaster> {
  enableLive(client)
  const { name, pieceLength = DEFAULT_PIECE_LENGTH, keyPair: kp, nonce: n, announce = [], ...rest } = opts
  const keyPair = kp ?? await createKeyPair()
  const nonce = n ?? randomBytes(NONCE_BYTES)
  const info = createLiveInfo({ name, pieceLength, publicKey: keyPair.publicKey, nonce })
  const file: Record<string, unknown> = { info, 'creation date': Math.floor(Date.now() / 1000) }
  if (announce.length) { file.announce = announce[0]; file['announce-list'] = announce.map((a) => [a]) }
  const torrent = client.add(bencode.encode(file), { ...rest, live: true, role: 'broadcaster', announce, skipVerify: true })
  await new Promise<void>((resolve, reject) => {
    const onErr = (err: Error): void => reject(err)
    torrent.once('error', onErr)
    torrent.live.once('ready', () => { torrent.removeListener('error', onErr); resolve() })
  })
  return new Broadcaster(torrent, keyPair)
}
