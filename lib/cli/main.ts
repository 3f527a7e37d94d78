#!/usr/bin/env node
/**
 * webtorrent-live command line. For now: `demo` (what `npm start` runs) and usage; the full CLI
 * (keygen, broadcast, watch, info, tracker) is tracked in its own issue.
 */
import WebTorrent from 'webtorrent'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { broadcast, enableLive } from '../index.js'

/* eslint-disable @typescript-eslint/no-explicit-any */
const USAGE = `usage: webtorrent-live <command>

commands:
  demo [--seconds N] [--kbps N]   air a generated program on loopback to two viewers (one through the other)
                                  and check that both receive exactly the broadcast bytes
  help                            this text

The broadcast/watch/keygen/info/tracker commands are not written yet.`

const LOOPBACK = { dht: false, tracker: false, lsd: false, natUpnp: false, natPmp: false, utp: false, webSeeds: false }

function num (args: string[], name: string, def: number): number {
  const i = args.indexOf(`--${name}`)
  if (i < 0) return def
  const v = Number(args[i + 1])
  if (!Number.isFinite(v) || v <= 0) { console.error(`webtorrent-live: --${name} needs a positive number`); process.exit(2) }
  return v
}

async function listening (c: any): Promise<any> {
  if (!c.listening) await new Promise((resolve) => c.once('listening', resolve))
  return c
}

async function demo (args: string[]): Promise<void> {
  const seconds = num(args, 'seconds', 20)
  const kbps = num(args, 'kbps', 2000)
  const dir = mkdtempSync(join(tmpdir(), 'webtorrent-live-demo-'))
  const [a, b, c] = await Promise.all([0, 1, 2].map(async () => enableLive(await listening(new WebTorrent(LOOPBACK)))))
  const bc = await broadcast(a, { name: 'demo-program.bin', pieceLength: 16384, path: join(dir, 'broadcaster') })
  console.error(`airing ${bc.magnetURI}`)
  const tb = b.add(bc.magnetURI, { live: true, path: join(dir, 'viewer1') })
  tb.once('infoHash', () => tb.addPeer(`127.0.0.1:${a.address().port}`))
  const tc = c.add(bc.magnetURI, { live: true, path: join(dir, 'viewer2') })
  tc.once('infoHash', () => tc.addPeer(`127.0.0.1:${b.address().port}`))
  const sent: Buffer[] = []
  const got = [tb, tc].map(async (t) => { const parts: Buffer[] = []; for await (const x of t.live.createReadStream()) parts.push(Buffer.from(x)); return Buffer.concat(parts) })
  const stop = { now: false }
  process.once('SIGINT', () => { stop.now = true })
  const perTick = Math.round(kbps * 1000 / 8 / 10)
  const ticks = seconds * 10
  for (let k = 0; k < ticks && !stop.now; k++) {
    const chunk = Buffer.alloc(perTick)
    for (let i = 0; i < chunk.length; i++) chunk[i] = (k * 31 + i * 7) & 0xff
    sent.push(chunk)
    await bc.write(chunk)
    if (k % 10 === 0) console.error(`t=${(k / 10).toFixed(0)}s  pieces ${bc.live.count}  viewer1 ${tb.live?.count ?? 0}  viewer2 (via viewer1) ${tc.live?.count ?? 0}  sig checks ${tc.live?.signatureChecks ?? 0}`)
    await new Promise((resolve) => setTimeout(resolve, 100))
  }
  const fin = await bc.end()
  const all = Buffer.concat(sent)
  const [o1, o2] = await Promise.all(got)
  const ok = o1!.equals(all) && o2!.equals(all)
  console.log(JSON.stringify({ event: 'ended', bytes: all.length, pieces: bc.live.count, viewersIdentical: ok, finalInfoHash: fin.infoHash, finalMagnetURI: fin.magnetURI }))
  await Promise.all([a, b, c].map((x) => new Promise((resolve) => x.destroy(resolve))))
  rmSync(dir, { recursive: true, force: true })
  process.exit(ok ? 0 : 1)
}

const [cmd, ...rest] = process.argv.slice(2)
if (cmd === 'demo') {
  demo(rest).catch((err) => { console.error(`webtorrent-live: ${(err as Error).message}`); process.exit(1) })
} else if (cmd === undefined || cmd === 'help' || cmd === '--help' || cmd === '-h') {
  console.log(USAGE)
} else {
  console.error(`webtorrent-live: unknown command '${cmd}'\n${USAGE}`)
  process.exit(2)
}
