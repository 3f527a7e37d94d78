/**
 * Churn: a broadcaster (in this process) airs in real time while viewers in child processes come
 * and go: every period a fraction of the running viewers is killed with SIGKILL and replaced by new
 * ones (alternately from: 'start' and from: 'live'), each joining the broadcaster and up to three
 * random running viewers. At the end every viewer still running must hold exactly the broadcast
 * (from: 'start') or its suffix from its first piece (from: 'live').
 * Used by test/live/churn.test.ts (short) and scripts/churn.ts (the full two-minute run).
 */
import { readFileSync } from 'node:fs'
import { broadcast } from '../../lib/index.js'
import { addr, bytes, makeClient } from './clients.js'
import { Viewer } from './viewer.js'

export interface ChurnOptions {
  viewers: number
  seconds: number
  periodSeconds: number
  killFraction: number
  bytesPerSecond: number
  pieceLength: number
  dir: string
  log?: (line: string) => void
}

export interface ChurnResult {
  spawned: number
  killed: number
  survivors: number
  identical: number
  mismatches: string[]
  bytes: number
}

export async function runChurn (o: ChurnOptions): Promise<ChurnResult> {
  const log = o.log ?? (() => {})
  const client = await makeClient()
  const bc = await broadcast(client, { name: 'churn.bin', pieceLength: o.pieceLength })
  const data = bytes(Math.floor(o.bytesPerSecond * o.seconds), 41)
  const all: Viewer[] = []
  const from = new Map<Viewer, 'start' | 'live'>()
  let n = 0
  let killed = 0
  const rand = (k: number): number => Math.floor(Math.random() * k)
  const running = (): Viewer[] => all.filter((v) => v.running)

  const spawnViewer = async (): Promise<void> => {
    const peers = [addr(client)]
    const others = running().filter((v) => v.last('listening'))
    for (let k = 0; k < 3 && others.length; k++) {
      const v = others.splice(rand(others.length), 1)[0]!
      peers.push(`127.0.0.1:${String(v.last('listening')!.port)}`)
    }
    const f = n % 2 === 0 ? 'start' : 'live'
    const v = new Viewer(`v${n++}`, { magnet: bc.magnetURI, peers, from: f, hold: true, timeoutMs: (o.seconds + 300) * 1000 }, o.dir)
    all.push(v)
    from.set(v, f)
    await v.event('listening', 30_000)
  }

  await Promise.all(Array.from({ length: o.viewers }, async () => await spawnViewer()))
  log(`${o.viewers} viewers joined; airing ${data.length} bytes over ${o.seconds} s`)
  const tickMs = 100
  const perTick = Math.max(1, Math.floor(o.bytesPerSecond * tickMs / 1000))
  const t0 = Date.now()
  let off = 0
  let nextChurn = t0 + o.periodSeconds * 1000
  while (off < data.length) {
    const due = Math.min(data.length, Math.floor((Date.now() - t0) / tickMs + 1) * perTick)
    if (due > off) { await bc.write(data.subarray(off, due)); off = due }
    if (Date.now() >= nextChurn && off < data.length) {
      nextChurn += o.periodSeconds * 1000
      const r = running()
      const k = Math.max(1, Math.round(r.length * o.killFraction))
      for (let j = 0; j < k; j++) {
        const v = r.splice(rand(r.length), 1)[0]!
        v.proc.kill('SIGKILL')
        killed++
      }
      await Promise.all(Array.from({ length: k }, async () => await spawnViewer()))
      log(`t=${((Date.now() - t0) / 1000).toFixed(0)} s: killed ${k}, started ${k}; ${running().length} running`)
    }
    await new Promise((resolve) => setTimeout(resolve, tickMs))
  }
  await bc.end()
  const survivors = running()
  log(`ended; waiting for ${survivors.length} survivors`)
  const mismatches: string[] = []
  let identical = 0
  await Promise.all(survivors.map(async (v) => {
    try {
      await v.event('done', 90_000)
      const got = readFileSync(v.out)
      const start = from.get(v) === 'start' ? 0 : Number(v.last('start')!.startPiece) * o.pieceLength
      if (got.equals(data.subarray(start))) identical++
      else mismatches.push(`${v.name} (${String(from.get(v))}): ${got.length} bytes, not the broadcast from byte ${start}`)
    } catch (err) {
      mismatches.push(`${v.name}: ${(err as Error).message.slice(0, 300)}`)
    }
  }))
  await Promise.all(all.map((v) => v.running ? v.close(15_000).catch(() => v.kill()) : Promise.resolve()))
  return { spawned: all.length, killed, survivors: survivors.length, identical, mismatches, bytes: data.length }
}
