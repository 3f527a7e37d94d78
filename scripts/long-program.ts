/**
 * A long program, accelerated: a broadcaster airs N small pieces (default 1 000 000 × 1 KiB) to one
 * viewer on loopback TCP, as fast as the viewer keeps up, and the script prints, every `--every`
 * pieces, the cost of the last batch (wall ms and CPU ms per 1 000 pieces, both peers in this
 * process) and the process's memory. Flat per-piece cost and bounded memory are the targets:
 * nothing per piece may do work proportional to the stream's length.
 *   node dist/scripts/long-program.js [--pieces 1000000] [--piece-length 1024] [--batch 64] [--every 50000]
 *                                     [--window N] [--json]
 * Prints figures; asserts nothing. The viewer's output is compared with the broadcast at the end
 * (a running SHA-256 on both sides).
 *
 * --window N: a windowed broadcast (live.window = N pieces, the broadcaster with archive: false)
 * and a window-only viewer: both drop what leaves the window (store bytes: segment files deleted;
 * bitfield bits; WebTorrent's per-piece arrays through patches.releasePieces; hashes: the viewer
 * forgets them, the broadcaster spills them to a temporary file for the final torrent its END
 * names). The `disk` columns are each peer's segment files on disk. The viewer's reader stays within N of the edge
 * (--ahead ≤ N). `--gc` runs a full GC before each
 * row (node --expose-gc), so RSS and heap show what is held, not what is not yet collected.
 * Columns: heap (V8 objects), ext (memory outside the heap, ArrayBuffers included), log (the hash
 * logs' buffers and checkpoints, part of heap + ext).
 */
import { createHash } from 'node:crypto'
import { readdirSync, statSync } from 'node:fs'
import { join as joinPath } from 'node:path'
import { broadcast } from '../lib/index.js'
import { destroyAll, join, makeClient, tempDir } from '../test/support/clients.js'

function arg (name: string, def: number): number {
  const i = process.argv.indexOf(`--${name}`)
  return i >= 0 ? Number(process.argv[i + 1]) : def
}
const N = arg('pieces', 1_000_000)
const PL = arg('piece-length', 1024)
const BATCH = arg('batch', 64)
const EVERY = arg('every', 50_000)
const WINDOW = arg('window', 0)
const MAX_AHEAD = Math.min(arg('ahead', 2048), WINDOW > 0 ? WINDOW : Infinity)
const json = process.argv.includes('--json')
const gc = process.argv.includes('--gc') ? (globalThis as { gc?: () => void }).gc : undefined
if (process.argv.includes('--gc') && !gc) throw new Error('--gc needs node --expose-gc')

/* eslint-disable @typescript-eslint/no-explicit-any */
/** Bytes a torrent's hash log holds: its hash buffer and its checkpoints (a Map of 32-byte values, ~190 B each in V8). */
function logBytes (torrent: any): number {
  const log = torrent.live?.state?.log
  return (log?.buf?.byteLength ?? 0) + (log?.checkpoints?.size ?? 0) * 190
}

/** Bytes of a torrent's store on disk: its segment files (window-only), or its one file. */
function diskBytes (torrent: any): number {
  const base = joinPath(torrent.path, torrent.infoHash, torrent.name)
  try { return readdirSync(base + '.segments').reduce((n, f) => n + statSync(joinPath(base + '.segments', f)).size, 0) } catch {}
  try { return statSync(base).size } catch { return 0 }
}

function pieceBytes (i: number): Buffer {
  const b = Buffer.alloc(PL)
  b.writeUInt32BE(i, 0)
  b.writeUInt32BE(Math.imul(i, 2654435761) >>> 0, PL - 4)
  return b
}

async function main (): Promise<void> {
  const a = await makeClient()
  // --window N: a real windowed broadcast (spec §2 live.window; the broadcaster keeps no bytes
  // below the window, only the hashes its END needs), and a window-only viewer that drops, forgets
  // and releases as the window moves (lib/live/window.ts).
  const bc = await broadcast(a, { name: 'long.bin', pieceLength: PL, path: tempDir(), ...(WINDOW > 0 ? { window: WINDOW, archive: false } : {}) })
  const v = await makeClient()
  const t = join(v, bc.magnetURI, [a])
  const rs = t.live.createReadStream()
  const outHash = createHash('sha256')
  let outBytes = 0
  const reading = (async () => { for await (const c of rs) { outHash.update(c); outBytes += c.length } })()
  const inHash = createHash('sha256')
  const rows: Array<Record<string, number>> = []
  let last = { t: performance.now(), cpu: process.cpuUsage() }
  let verified = 0
  t.on('verified', () => { verified++ })
  if (!json) console.log(`pieces      wall ms/1k  cpu ms/1k  rss MiB  heap MiB  ext MiB  log MiB  disk MiB (viewer, broadcaster)${WINDOW ? `   (window ${WINDOW} = ${(WINDOW * PL / 2 ** 20).toFixed(2)} MiB)` : ''}`)
  for (let i = 0; i < N; i += BATCH) {
    const n = Math.min(BATCH, N - i)
    const chunk = Buffer.concat(Array.from({ length: n }, (_, k) => pieceBytes(i + k)))
    inHash.update(chunk)
    await bc.write(chunk)
    while (i + n - verified > MAX_AHEAD) await new Promise((resolve) => setTimeout(resolve, 1))
    if (Math.floor((i + n) / EVERY) !== Math.floor(i / EVERY)) {
      const now = performance.now()
      const cpu = process.cpuUsage(last.cpu)
      gc?.()
      const m = process.memoryUsage()
      const row = { pieces: i + n, wall_ms_per_1k: (now - last.t) / EVERY * 1000, cpu_ms_per_1k: (cpu.user + cpu.system) / 1000 / EVERY * 1000, rss_mib: m.rss / 2 ** 20, heap_mib: m.heapUsed / 2 ** 20, ext_mib: m.external / 2 ** 20, log_mib: (logBytes(bc.torrent) + logBytes(t)) / 2 ** 20, disk_mib: diskBytes(t) / 2 ** 20, bc_disk_mib: diskBytes(bc.torrent) / 2 ** 20 }
      rows.push(row)
      if (!json) console.log(`${String(row.pieces).padEnd(11)} ${row.wall_ms_per_1k.toFixed(1).padStart(10)} ${row.cpu_ms_per_1k.toFixed(1).padStart(10)} ${row.rss_mib.toFixed(0).padStart(8)} ${row.heap_mib.toFixed(0).padStart(9)} ${row.ext_mib.toFixed(0).padStart(8)} ${row.log_mib.toFixed(0).padStart(8)} ${row.disk_mib.toFixed(2).padStart(9)} ${row.bc_disk_mib.toFixed(2).padStart(9)}`)
      last = { t: now, cpu: process.cpuUsage() }
    }
  }
  await bc.end()
  await reading
  const identical = outBytes === N * PL && outHash.digest('hex') === inHash.digest('hex')
  const first = rows[0]; const end = rows[rows.length - 1]
  const summary = {
    pieces: N,
    piece_length: PL,
    identical,
    first_cpu_ms_per_1k: first?.cpu_ms_per_1k ?? null,
    last_cpu_ms_per_1k: end?.cpu_ms_per_1k ?? null,
    cost_growth: first && end ? end.cpu_ms_per_1k! / first.cpu_ms_per_1k! : null,
    first_rss_mib: first?.rss_mib ?? null,
    last_rss_mib: end?.rss_mib ?? null,
    window: WINDOW || null,
    // the most either peer held on disk, over the window's bytes (the target: ≤ 1.05)
    disk_over_window_max: WINDOW ? Math.max(...rows.map((r) => Math.max(r.disk_mib!, r.bc_disk_mib!))) * 2 ** 20 / (WINDOW * PL) : null,
    // RSS and heap at 1 M, 5 M and 10 M pieces (the issue's checkpoints), when the run got there
    at: Object.fromEntries(rows.filter((r) => [1e6, 5e6, 1e7].some((p) => Math.abs(r.pieces! - p) < BATCH)).map((r) => [r.pieces, { rss_mib: Math.round(r.rss_mib!), heap_mib: Math.round(r.heap_mib!), log_mib: Math.round(r.log_mib!), cpu_ms_per_1k: Math.round(r.cpu_ms_per_1k! * 10) / 10 }])),
    viewer_signature_checks: t.live.signatureChecks,
    heads: t.live.stats.headsAccepted
  }
  console.log(json ? JSON.stringify(summary) : `\n${JSON.stringify(summary, null, 1)}`)
  await destroyAll()
  process.exit(identical ? 0 : 1)
}

main().catch((err) => { console.error(err); process.exit(1) })
