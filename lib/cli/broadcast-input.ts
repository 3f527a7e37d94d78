/**
 * What `broadcast` airs: INPUT (a file, stdin, an http(s) URL) or --listen (ingest.ts), opened as a
 * byte stream and pumped into the broadcaster no faster than --rate.
 */
import { createReadStream, existsSync, statSync } from 'node:fs'
import { basename } from 'node:path'
import { Readable } from 'node:stream'
import type { ReadableStream as NodeReadableStream } from 'node:stream/web'
import type { Broadcaster } from '../live/broadcaster.js'
import { UsageError, UserError } from './args.js'
import type { Output } from './common.js'
import { ingest, type ListenInput } from './ingest.js'

export type Input = { kind: 'stdin' } | { kind: 'file', path: string } | { kind: 'url', url: string } | ListenInput

export function parseInput (s: string | undefined, listen: ListenInput | null): Input {
  if (listen) { if (s !== undefined) throw new UsageError('give INPUT or --listen, not both'); return listen }
  if (s === undefined) throw new UsageError('missing INPUT (or --listen URL)')
  if (s === '-') return { kind: 'stdin' }
  if (/^https?:\/\//i.test(s)) {
    try { void new URL(s) } catch { throw new UsageError(`not a valid URL: ${s}`) }
    return { kind: 'url', url: s }
  }
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(s)) throw new UsageError(`INPUT must be a file, - or an http(s) URL, not ${s}`)
  if (!existsSync(s)) throw new UserError(`no such file: ${s}`)
  if (statSync(s).isDirectory()) throw new UserError(`${s} is a folder, not a file`)
  return { kind: 'file', path: s }
}

export function defaultName (input: Input): string {
  if (input.kind === 'file') return basename(input.path)
  if (input.kind === 'url') {
    const u = new URL(input.url)
    const last = u.pathname.split('/').filter(Boolean).pop()
    if (!last) return 'live.ts'
    let decoded = last
    try { decoded = decodeURIComponent(last) } catch {} // broken %-escapes: the name as it is written
    return decoded.replace(/[/\\\0]/g, '_')
  }
  if (input.kind === 'listen') return input.format === 'mp4' ? 'live.mp4' : 'live.ts'
  return 'live.ts'
}

/** The input's bytes, from `offset` for a file. */
export async function openInput (input: Input, offset: number, signal: AbortSignal, out: Output): Promise<Readable> {
  if (input.kind === 'stdin') return process.stdin
  if (input.kind === 'listen') return ingest({ ...input, out, signal })
  if (input.kind === 'file') return createReadStream(input.path, { start: offset, highWaterMark: 64 * 1024, signal })
  let res: Response
  try {
    res = await fetch(input.url, { signal })
  } catch (err) {
    const cause = (err as { cause?: { message?: string } }).cause
    throw new UserError(`cannot read ${input.url}: ${cause?.message ?? (err as Error).message}`)
  }
  if (!res.ok || !res.body) throw new UserError(`cannot read ${input.url}: HTTP ${res.status} ${res.statusText}`)
  return Readable.fromWeb(res.body as unknown as NodeReadableStream<Uint8Array>)
}

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms))

/**
 * The input failed (a source that resets mid-stream, a read error), as opposed to the broadcaster:
 * what was read is still aired, and the broadcast ends (or, with a state folder, stops) as at the
 * end of the input.
 */
export class InputError extends Error {
  constructor (input: Input, cause: unknown) {
    const e = cause as { message?: string, cause?: { message?: string } } | null
    const why = e?.cause?.message ? ` (${e.cause.message})` : '' // undici: 'terminated' (other side closed)
    super(`reading ${inputLabel(input)} failed: ${String(e?.message ?? cause)}${why}`)
  }
}

function inputLabel (input: Input): string {
  if (input.kind === 'stdin') return 'stdin'
  if (input.kind === 'file') return input.path
  if (input.kind === 'url') return input.url
  return `the encoder on ${input.listen.protocol}://${input.listen.host}:${input.listen.port}` // not its stream key
}

/**
 * Writes the input into the broadcaster, no faster than `rate` bytes a second; stops when
 * `stop.now`. A failure of the input rejects with an InputError; one of the broadcaster, as is.
 */
export async function pump (input: Input, src: Readable, bc: Broadcaster, rate: number | undefined, stop: { now: boolean }, onBytes: (n: number) => void): Promise<void> {
  const t0 = Date.now()
  let sent = 0
  const slice = rate ? Math.max(1, Math.floor(rate / 20)) : Infinity
  const chunks = src[Symbol.asyncIterator]()
  try {
    for (;;) {
      const next = await chunks.next().catch((err: unknown) => { throw new InputError(input, err) })
      if (next.done || stop.now) return
      const buf = next.value as Uint8Array
      for (let off = 0; off < buf.length; off += slice) {
        if (stop.now) return
        const part = buf.subarray(off, Math.min(buf.length, off + slice))
        if (rate) {
          const due = t0 + (sent / rate) * 1000
          const wait = due - Date.now()
          if (wait > 0) await sleep(wait)
          if (stop.now) return
        }
        await bc.write(part)
        sent += part.length
        onBytes(part.length)
      }
    }
  } finally {
    try { await chunks.return?.() } catch {} // destroys the source when we stop reading early
  }
}
