/**
 * What the broadcaster's goodbye costs (lib/live/replication.ts) on a long stream: a wire's
 * BITFIELD, each HAVE, a wire's close, and reading piecesOnlyHere, for 100 000 pieces and 50 wires.
 * Real bittorrent-protocol Wire objects; each message is delivered as the wire delivers it
 * (peerPieces updated, then the event), without the socket, so the figures are the counting alone.
 *
 *   node dist/scripts/bench-replication.js [--pieces N] [--wires N]
 */
import { EventEmitter } from 'node:events'
import { performance } from 'node:perf_hooks'
import BitField from 'bitfield'
import Wire from 'bittorrent-protocol'
import { Replication } from '../lib/live/replication.js'

/* eslint-disable @typescript-eslint/no-explicit-any */

function flag (name: string, dflt: number): number {
  const i = process.argv.indexOf(name)
  return i >= 0 ? Number(process.argv[i + 1]) : dflt
}
const PIECES = flag('--pieces', 100_000)
const WIRES = flag('--wires', 50)

const torrent: any = new EventEmitter()
torrent.wires = []
const r = new Replication(() => PIECES)
r.watch(torrent)
const wires: any[] = []
for (let w = 0; w < WIRES; w++) {
  const wire: any = new Wire()
  wires.push(wire)
  torrent.wires.push(wire)
  torrent.emit('wire', wire)
}

// Each wire's BITFIELD holds every other piece (odd wires the odd ones).
let t = performance.now()
for (let w = 0; w < WIRES; w++) {
  const bf = new BitField(PIECES)
  for (let i = w % 2; i < PIECES; i += 2) bf.set(i, true)
  wires[w].peerPieces = bf
  wires[w].emit('bitfield', bf)
}
const bitfieldMs = (performance.now() - t) / WIRES

// Then a HAVE on every wire for every piece it lacks.
let haves = 0
t = performance.now()
for (let w = 0; w < WIRES; w++) {
  const wire = wires[w]
  for (let i = 1 - (w % 2); i < PIECES; i += 2) { wire.peerPieces.set(i, true); wire.emit('have', i); haves++ }
}
const haveNs = (performance.now() - t) * 1e6 / haves

t = performance.now()
let sum = 0
const READS = 1_000_000
for (let k = 0; k < READS; k++) sum += r.missing
const readNs = (performance.now() - t) * 1e6 / READS

// Every wire closes but the last: its pieces still count.
t = performance.now()
for (let w = 0; w < WIRES - 1; w++) wires[w].emit('close')
const closeMs = (performance.now() - t) / (WIRES - 1)
const afterCloses = r.missing
wires[WIRES - 1].emit('close')

const figures = { pieces: PIECES, wires: WIRES, bitfieldMsPerWire: +bitfieldMs.toFixed(2), haveNsEach: +haveNs.toFixed(0), missingReadNs: +readNs.toFixed(1), closeMsPerWire: +closeMs.toFixed(2), missingWithOneWireLeft: afterCloses, missingWithNone: r.missing, heapMiB: +(process.memoryUsage().heapUsed / 2 ** 20).toFixed(1) }
console.log(`${PIECES} pieces, ${WIRES} wires: BITFIELD ${figures.bitfieldMsPerWire} ms a wire, HAVE ${figures.haveNsEach} ns each, piecesOnlyHere read ${figures.missingReadNs} ns, close ${figures.closeMsPerWire} ms a wire`)
console.log(`missing with one wire left ${afterCloses} (expect 0), with none connected ${r.missing} (expect 0: every piece reached someone)`)
console.log(JSON.stringify({ ...figures, checksum: sum }))
if (afterCloses !== 0 || r.missing !== 0) process.exit(1)
