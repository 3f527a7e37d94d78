/**
 * The growing stream over HTTP, for players: `GET /` answers 200 with the bytes from the viewer's
 * start (0, or where a `--from live` viewer began), keeps the response open and sends each new
 * piece once verified, and ends it when the broadcast ends. Range requests are answered (206) for
 * bytes that exist; `bytes=N-` with N at or before that start is the same as a plain GET (players
 * such as VLC begin with `bytes=0-`).
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http'
import { extname } from 'node:path'
import rangeParser from 'range-parser'
import { livePieces } from '../live/reader.js'
import type { LiveView } from '../live/enable.js'
import { drained, portError } from './common.js'

const TYPES: Record<string, string> = {
  '.ts': 'video/mp2t',
  '.m2ts': 'video/mp2t',
  '.mp4': 'video/mp4',
  '.m4v': 'video/mp4',
  '.mkv': 'video/x-matroska',
  '.webm': 'video/webm',
  '.mp3': 'audio/mpeg',
  '.aac': 'audio/aac',
  '.ogg': 'application/ogg',
  '.flv': 'video/x-flv'
}

export interface LiveHttp {
  server: Server
  port: number
  url: string
  /** Responses still being sent. */
  open: Set<ServerResponse>
  close (): Promise<void>
}

async function waitStart (live: LiveView): Promise<number> {
  // The metadata (piece length) and, for --from live, the first head fix where the stream starts here.
  while ((live.startPiece === null || !live.ready) && !live.destroyed && !live.error) {
    const ready = live.ready ? null : new Promise<void>((resolve) => live.once('ready', () => resolve()))
    await Promise.race([live.changed(), ...(ready ? [ready] : [])])
  }
  if (live.destroyed) throw new Error('the torrent was closed')
  if (live.error) throw live.error
  return live.startPiece ?? 0
}

type Range = { kind: 'open', start: number } | { kind: 'closed', start: number, end: number } | { kind: 'suffix', length: number }

/**
 * A Range header, parsed by range-parser (the first range; `bytes` only). The length of a live
 * stream is not known, so it is parsed against a size no stream reaches: an open range then ends at
 * size − 1 and a suffix range starts near size, which tells the three forms apart.
 */
function parseRange (header: string | undefined): Range | 'bad' | null {
  if (header === undefined) return null
  const SIZE = Number.MAX_SAFE_INTEGER
  const r = rangeParser(SIZE, header, { combine: true })
  if (!Array.isArray(r) || r.type !== 'bytes' || r.length !== 1) return 'bad'
  const { start, end } = r[0]!
  if (start > SIZE / 2) return { kind: 'suffix', length: SIZE - start }
  return end === SIZE - 1 ? { kind: 'open', start } : { kind: 'closed', start, end }
}

/** Sends bytes [from, to) of the stream (to = Infinity: follow the stream to its end). */
async function send (live: LiveView, res: ServerResponse, from: number, to: number): Promise<void> {
  const pl = live.torrent.pieceLength as number
  let pos = Math.floor(from / pl) * pl
  let closed = false
  res.once('close', () => { closed = true })
  const it = livePieces(live, { startPiece: Math.floor(from / pl) })
  try {
    for await (const piece of it) {
      if (closed) break
      const a = Math.max(0, from - pos)
      const b = Math.min(piece.length, to - pos)
      pos += piece.length
      if (b > a) {
        if (!res.write(piece.subarray(a, b))) await drained(res)
      }
      if (pos >= to) break
    }
  } finally {
    await it.return(undefined)
  }
  if (!closed) res.end()
}

/** Whether every byte of [from, to) is verified here. */
function exists (live: LiveView, from: number, to: number): boolean {
  const pl = live.torrent.pieceLength as number
  if (to <= from || to > live.length) return false
  for (let i = Math.floor(from / pl); i <= Math.floor((to - 1) / pl); i++) if (!live.has(i)) return false
  return true
}

async function handle (live: LiveView, req: IncomingMessage, res: ServerResponse): Promise<void> {
  if (req.method !== 'GET' && req.method !== 'HEAD') {
    res.writeHead(405, { Allow: 'GET, HEAD' }).end()
    return
  }
  const startPiece = await waitStart(live)
  const pl = live.torrent.pieceLength as number
  const start = startPiece * pl
  const type = TYPES[extname(String(live.torrent.name ?? '')).toLowerCase()] ?? 'application/octet-stream'
  const headers: Record<string, string | number> = { 'Content-Type': type, 'Accept-Ranges': 'bytes', 'Cache-Control': 'no-store' }
  const range = parseRange(req.headers.range)
  // `bytes=N-` with N at or before our start is what players begin with: the same as a plain GET.
  const plain = range === null || (range !== 'bad' && range.kind === 'open' && range.start <= start)
  if (plain) {
    if (live.ended) headers['Content-Length'] = Math.max(0, live.length - start)
    res.writeHead(200, headers)
    if (req.method === 'HEAD') { res.end(); return }
    await send(live, res, start, Infinity)
    return
  }
  const total = live.ended ? String(live.length) : '*'
  let a: number
  let b: number // exclusive
  if (range === 'bad') {
    res.writeHead(416, { 'Content-Range': `bytes */${total}` }).end()
    return
  }
  if (range.kind === 'suffix') {
    // The last n bytes (only once the length is final).
    if (!live.ended) { res.writeHead(416, { 'Content-Range': 'bytes */*' }).end(); return }
    a = Math.max(start, live.length - range.length)
    b = live.length
  } else {
    a = range.start
    // Open ranges end at the bytes that exist now (the length is not known while live).
    b = range.kind === 'closed' ? Math.min(range.end + 1, live.length) : live.length
    if (range.kind === 'open' && a < live.length) {
      let end = a
      const last = Math.floor((live.length - 1) / pl)
      for (let i = Math.floor(a / pl); i <= last && live.has(i); i++) end = Math.min(live.length, (i + 1) * pl)
      b = end
    }
  }
  if (!exists(live, a, b)) {
    res.writeHead(416, { 'Content-Range': `bytes */${total}` }).end()
    return
  }
  headers['Content-Range'] = `bytes ${a}-${b - 1}/${total}`
  headers['Content-Length'] = b - a
  res.writeHead(206, headers)
  if (req.method === 'HEAD') { res.end(); return }
  await send(live, res, a, b)
}

/** Serves the stream on 127.0.0.1:port (0: any free port). */
export async function serveLive (live: LiveView, port: number, host = '127.0.0.1'): Promise<LiveHttp> {
  const open = new Set<ServerResponse>()
  const server = createServer((req, res) => {
    open.add(res)
    res.once('close', () => open.delete(res))
    handle(live, req, res).catch((err) => {
      if (!res.headersSent) res.writeHead(500, { 'Content-Type': 'text/plain' }).end(String((err as Error).message ?? err) + '\n')
      else res.destroy()
    })
  })
  await new Promise<void>((resolve, reject) => {
    server.once('error', (err: unknown) => reject(portError(err, port, '--http', `HTTP on port ${port}`)))
    server.listen(port, host, () => resolve())
  })
  const actual = (server.address() as { port: number }).port
  return {
    server,
    port: actual,
    url: `http://${host}:${actual}/`,
    open,
    close: () => new Promise<void>((resolve) => {
      for (const r of open) r.destroy()
      server.close(() => resolve())
      server.closeAllConnections?.()
    })
  }
}
