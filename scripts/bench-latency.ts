/**
 * Latency from publish at the broadcaster to verified at a viewer, at 1, 2 and 3 hops (a chain
 * A → B → C → D on loopback TCP, in one process). A 4 Mbit/s stream of 16 KiB pieces by default.
 *   node dist/scripts/bench-latency.js [--seconds 10] [--piece-length 16384] [--kbps 4000] [--json]
 * Prints figures; asserts nothing.
 */
import { broadcast } from '../lib/index.js'
import { bytes, destroyAll, join, makeClient } from '../test/support/clients.js'

/* eslint-disable @typescript-eslint/no-explicit-any */
function arg (name: string, def: number): number {
  const i = process.argv.indexOf(`--${name}`)
  return i >= 0 ? Number(process.argv[i + 1]) : def
}
const seconds = arg('seconds', 10)
const pieceLength = arg('piece-length', 16384)
const kbps = arg('kbps', 4000)
const json = process.argv.includes('--json')

function pct (xs: number[], p: number): number {
  const s = [...xs].sort((a, b) => a - b)
  return s.length ? s[Math.min(s.length - 1, Math.floor(p / 100 * s.length))]! : NaN
}

async function main (): Promise<void> {
  const a = await makeClient()
  const bc = await broadcast(a, { name: 'latency.bin', pieceLength })
  const published = new Map<number, number>()
  bc.torrent.on('verified', (i: number) => published.set(i, performance.now()))
  const b = await makeClient(); const c = await makeClient(); const d = await makeClient()
  const chain = [join(b, bc.magnetURI, [a]), join(c, bc.magnetURI, [b]), join(d, bc.magnetURI, [c])]
  const seen = chain.map(() => new Map<number, number>())
  chain.forEach((t: any, k) => t.on('verified', (i: number) => seen[k]!.set(i, performance.now())))
  // Warm up: let every hop connect and fetch metadata.
  await bc.write(bytes(pieceLength * 4, 1))
  while (chain.some((t: any) => !t.live?.has(3))) await new Promise((resolve) => setTimeout(resolve, 20))
  const bytesPerSecond = kbps * 1000 / 8
  const total = Math.floor(bytesPerSecond * seconds / pieceLength)
  const interval = 1000 * pieceLength / bytesPerSecond
  const data = bytes(pieceLength * total, 2)
  const t0 = performance.now()
  for (let k = 0; k < total; k++) {
    const due = t0 + k * interval
    const wait = due - performance.now()
    if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait))
    await bc.write(data.subarray(k * pieceLength, (k + 1) * pieceLength))
  }
  await bc.end()
  const last = 4 + total - 1
  const deadline = performance.now() + 30_000
  while (chain.some((t: any) => !t.live.has(last)) && performance.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 20))
  const rows = chain.map((_t, k) => {
    const lat: number[] = []
    for (let i = 4; i <= last; i++) { const p = published.get(i); const s = seen[k]!.get(i); if (p !== undefined && s !== undefined) lat.push(s - p) }
    return { hops: k + 1, pieces: lat.length, p50_ms: +pct(lat, 50).toFixed(2), p95_ms: +pct(lat, 95).toFixed(2), p99_ms: +pct(lat, 99).toFixed(2), max_ms: +Math.max(...lat).toFixed(2) }
  })
  await destroyAll()
  if (json) {
    console.log(JSON.stringify({ piece_length: pieceLength, kbps, seconds, pieces: total, hops: rows }))
  } else {
    console.log(`publish → verified, ${total} pieces of ${pieceLength} B at ${kbps} kbit/s, loopback TCP, chain A→B→C→D`)
    console.log('hops  pieces  p50 ms  p95 ms  p99 ms  max ms')
    for (const r of rows) console.log(`${String(r.hops).padEnd(6)}${String(r.pieces).padEnd(8)}${String(r.p50_ms).padEnd(8)}${String(r.p95_ms).padEnd(8)}${String(r.p99_ms).padEnd(8)}${r.max_ms}`)
  }
}

main().then(() => process.exit(0), (err) => { console.error(err); process.exit(1) })
