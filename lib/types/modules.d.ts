// Minimal ambient types for the untyped JavaScript packages we use.
declare module 'bencode' {
  const bencode: {
    encode (value: unknown): Uint8Array
    decode (data: Uint8Array, start?: number, end?: number, encoding?: string): any
    byteLength (value: unknown): number
  }
  export default bencode
}
declare module 'webtorrent' {
  const WebTorrent: any
  export default WebTorrent
}
declare module 'bittorrent-protocol' {
  const Wire: any
  export default Wire
}
declare module 'bitfield' {
  export default class BitField {
    constructor (data?: number | Uint8Array, opts?: { grow?: number })
    buffer: Uint8Array
    grow: number
    get (i: number): boolean
    set (i: number, v?: boolean): void
  }
}
declare module 'torrent-piece' {
  export default class Piece {
    constructor (length: number)
    length: number
    missing: number
  }
}
declare module 'bittorrent-tracker' {
  import type { EventEmitter } from 'node:events'
  import type { Server as HttpServer } from 'node:http'
  export interface ServerOptions { http?: boolean, udp?: boolean, ws?: boolean, stats?: boolean, interval?: number }
  /** The tracker server: 'start', 'update', 'stop', 'complete' per announce; 'error', 'warning'. */
  export class Server extends EventEmitter {
    constructor (opts?: ServerOptions)
    /** Also carries the WebSocket server when ws is on; null only with neither http nor ws. */
    http: HttpServer | null
    listen (port: number, hostname: string, onListening?: () => void): void
    close (cb?: () => void): void
  }
}
declare module 'bittorrent-dht' { const DHT: any; export default DHT }
declare module 'webtorrent/lib/torrent.js' { const Torrent: any; export default Torrent }
declare module 'webtorrent/lib/file.js' { const File: any; export default File }
declare module '#default-store' {
  const Store: new (chunkLength: number, opts?: any) => any
  export default Store
}
declare module 'magnet-uri' {
  export function decode (uri: string): { infoHash?: string, name?: string | string[], announce?: string[] }
  export function encode (parsed: Record<string, unknown>): string
}
declare module 'range-parser' {
  interface Ranges extends Array<{ start: number, end: number }> { type: string }
  function rangeParser (size: number, header: string, options?: { combine?: boolean }): Ranges | -1 | -2
  export default rangeParser
}
declare module 'ut_metadata' { const utMetadata: (metadata?: Uint8Array) => unknown; export default utMetadata }
declare module 'debug' { interface Debugger { (fmt: string, ...args: unknown[]): void, enabled: boolean } function createDebug (namespace: string): Debugger; export default createDebug }
