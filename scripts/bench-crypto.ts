/**
 * Crypto figures for ut_live: Ed25519 sign/verify per operation (node:crypto and pure-JS elliptic),
 * and what a fresh viewer spends to verify 10 000 piece hashes under one signed head (one HEAD with
 * a 64-hash tail, then 20 HASHES pages of up to 512 walked backwards), with native and pure-JS hashes.
 *
 *   node dist/scripts/bench-crypto.js [--json] [--quick]
 *
 * With --json the last stdout line is one JSON object with every figure.
 */
import { performance } from 'node:perf_hooks'
import { ellipticEd25519 } from '../lib/crypto/elliptic.js'
import { nativeEd25519, nativeHashes } from '../lib/crypto/native-node.js'
import type { Ed25519 } from '../lib/crypto/types.js'
import {
  MAX_PAGE_HASHES, MAX_TAIL_HASHES, createLiveInfo, encodeInfo, infoHashOf, pureHashes, type Hashes, type LiveInfo,
  type SignedHead, type Tail
} from '../lib/protocol/index.js'
import { StreamState } from '../lib/state/stream-state.js'

const args = new Set(process.argv.slice(2))
const JSON_OUT = args.has('--json')
const QUICK = args.has('--quick')

const NATIVE_OPS = QUICK ? 200 : 2000
const ELLIPTIC_OPS = QUICK ? 20 : 200
const PIECES = 10000
const PIECE_LENGTH = 16384
const ACCEPT_RUNS = QUICK ? 2 : 5

const native: Ed25519 | null = nativeEd25519

function seedOf (i: number): Uint8Array {
  return new Uint8Array(32).map((_, j) => (i * 7 + j * 13 + 1) & 0xff)
}

interface OpFigures { signUs: number, verifyUs: number, ops: number }

async function benchEd (impl: Ed25519, ops: number): Promise<OpFigures> {
  const seed = seedOf(1)
  const pk = await impl.publicKey(seed)
  const msgs: Uint8Array[] = []
  for (let i = 0; i < ops; i++) msgs.push(new Uint8Array(112).map((_, j) => (i + j) & 0xff))
  // warm-up
  for (let i = 0; i < Math.min(10, ops); i++) await impl.verify(pk, msgs[i]!, await impl.sign(seed, msgs[i]!))

  const sigs: Uint8Array[] = []
  let t = performance.now()
  for (let i = 0; i < ops; i++) sigs.push(await impl.sign(seed, msgs[i]!))
  const signUs = (performance.now() - t) * 1000 / ops

  let good = 0
  t = performance.now()
  for (let i = 0; i < ops; i++) if (await impl.verify(pk, msgs[i]!, sigs[i]!)) good++
  const verifyUs = (performance.now() - t) * 1000 / ops
  if (good !== ops) throw new Error(`${impl.name}: ${ops - good} signatures failed to verify`)
  return { signUs, verifyUs, ops }
}

interface Fixture {
  infoHash: Uint8Array
  info: LiveInfo
  head: SignedHead
  tail: Tail
  pages: Array<{ start: number, anchor: Uint8Array, hashes: Uint8Array }>
}

async function fixture (ed: Ed25519): Promise<Fixture> {
  const seed = seedOf(2)
  const publicKey = await ed.publicKey(seed)
  const nonce = new Uint8Array(16).fill(9)
  const infoBytes = encodeInfo(createLiveInfo({ name: 'bench.ts', pieceLength: PIECE_LENGTH, publicKey, nonce }))
  const infoHash = infoHashOf(nativeHashes, infoBytes)
  const info: LiveInfo = { name: 'bench.ts', pieceLength: PIECE_LENGTH, publicKey, nonce, version: 1 }
  const b = new StreamState({ infoHash, info, hashes: nativeHashes, ed25519: ed })
  const piece = new Uint8Array(8)
  const hashes: Uint8Array[] = []
  for (let i = 0; i < PIECES; i++) { new DataView(piece.buffer).setUint32(0, i); hashes.push(nativeHashes.sha1(piece)) }
  b.appendHashes(hashes)
  const head = await b.signHead(seed, { length: PIECES * PIECE_LENGTH, time: Date.now() })
  const tail = b.tailFor(0, MAX_TAIL_HASHES)
  if (!tail) throw new Error('no tail')
  const pages: Fixture['pages'] = []
  for (let end = PIECES - MAX_TAIL_HASHES; end > 0;) {
    const start = Math.max(0, end - MAX_PAGE_HASHES)
    const h = b.log.range(start, end); const anchor = b.log.chainAt(start)
    if (!h || !anchor) throw new Error('broadcaster log incomplete')
    pages.push({ start, anchor, hashes: h })
    end = start
  }
  return { infoHash, info, head, tail, pages }
}

interface AcceptFigures { meanMs: number, minMs: number, pages: number, signatureChecks: number, runs: number }

async function benchAccept (fx: Fixture, hashes: Hashes, ed: Ed25519, runs: number): Promise<AcceptFigures> {
  const times: number[] = []
  let checks = -1
  for (let r = 0; r < runs + 1; r++) {
    const t = performance.now()
    const v = new StreamState({ infoHash: fx.infoHash, info: fx.info, hashes, ed25519: ed })
    const h = await v.acceptHead(fx.head, fx.tail)
    if (!h.ok) throw new Error(`head rejected: ${h.code} ${h.reason}`)
    for (const p of fx.pages) {
      const verdict = v.acceptPage(p.start, p.anchor, p.hashes)
      if (!verdict.ok) throw new Error(`page ${p.start} rejected: ${verdict.code}`)
    }
    const ms = performance.now() - t
    if (v.log.gaps(PIECES).length !== 0 || v.log.intervals.length !== 1) throw new Error('viewer did not reach all hashes')
    checks = v.signatureChecks
    if (r > 0) times.push(ms) // run 0 is a warm-up
  }
  return { meanMs: times.reduce((a, b) => a + b, 0) / times.length, minMs: Math.min(...times), pages: fx.pages.length, signatureChecks: checks, runs }
}

const f = (x: number, d = 1): string => x.toFixed(d)

async function main (): Promise<void> {
  const ed: Ed25519 = native ?? ellipticEd25519
  const nat = native ? await benchEd(native, NATIVE_OPS) : null
  const ell = await benchEd(ellipticEd25519, ELLIPTIC_OPS)
  const fx = await fixture(ed)
  const acceptNative = await benchAccept(fx, nativeHashes, ed, ACCEPT_RUNS)
  const acceptPure = await benchAccept(fx, pureHashes, ed, ACCEPT_RUNS)

  const rows: Array<[string, string, string]> = [
    ['Ed25519 verify', nat ? `${f(nat.verifyUs)} µs (${nat.ops} ops)` : 'n/a', `${f(ell.verifyUs)} µs (${ell.ops} ops)`],
    ['Ed25519 sign', nat ? `${f(nat.signUs)} µs (${nat.ops} ops)` : 'n/a', `${f(ell.signUs)} µs (${ell.ops} ops)`]
  ]
  const w0 = Math.max(...rows.map((r) => r[0].length), 'operation'.length)
  const w1 = Math.max(...rows.map((r) => r[1].length), 'node:crypto'.length)
  console.log(`${'operation'.padEnd(w0)}  ${'node:crypto'.padEnd(w1)}  elliptic (pure JS)`)
  for (const r of rows) console.log(`${r[0].padEnd(w0)}  ${r[1].padEnd(w1)}  ${r[2]}`)
  console.log('')
  console.log(`fresh viewer accepting ${PIECES} piece hashes under one head (1 HEAD + ${MAX_TAIL_HASHES}-hash tail, ${acceptNative.pages} pages of ≤${MAX_PAGE_HASHES}; Ed25519: ${ed.name}):`)
  console.log(`  native hashes (node:crypto): mean ${f(acceptNative.meanMs, 2)} ms, min ${f(acceptNative.minMs, 2)} ms over ${acceptNative.runs} runs, signature checks ${acceptNative.signatureChecks}`)
  console.log(`  pure-JS hashes:              mean ${f(acceptPure.meanMs, 2)} ms, min ${f(acceptPure.minMs, 2)} ms over ${acceptPure.runs} runs, signature checks ${acceptPure.signatureChecks}`)

  if (acceptNative.signatureChecks !== 1 || acceptPure.signatureChecks !== 1) {
    console.error('expected exactly one signature check per fresh viewer')
    process.exitCode = 1
  }
  if (JSON_OUT) {
    console.log(JSON.stringify({
      node: process.version,
      ed25519: {
        native: nat ? { impl: native?.name, ops: nat.ops, verifyUs: nat.verifyUs, signUs: nat.signUs } : null,
        elliptic: { ops: ell.ops, verifyUs: ell.verifyUs, signUs: ell.signUs }
      },
      accept10k: {
        pieces: PIECES,
        tailHashes: MAX_TAIL_HASHES,
        pages: acceptNative.pages,
        ed25519: ed.name,
        nativeHashes: { meanMs: acceptNative.meanMs, minMs: acceptNative.minMs, runs: acceptNative.runs, signatureChecks: acceptNative.signatureChecks },
        pureHashes: { meanMs: acceptPure.meanMs, minMs: acceptPure.minMs, runs: acceptPure.runs, signatureChecks: acceptPure.signatureChecks }
      }
    }))
  }
}

main().catch((err: unknown) => {
  console.error(err)
  process.exitCode = 1
})
