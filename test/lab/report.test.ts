/** The swarm lab's byte check: a viewer whose read did not end is "incomplete" if what it read is the broadcast's beginning, else "corrupt". */
import assert from 'node:assert/strict'
import { createHash } from 'node:crypto'
import { figures } from '../../scripts/lab/report.js'
import { pieceBytes, streamHash } from '../../scripts/lab/stream.js'

const L = 1024
const SEED = 3
const AIRED = 6

function viewer (node: number, start: number, read: Uint8Array, ended: boolean): Record<string, unknown> {
  const verified = Array.from({ length: AIRED - start }, (_, k) => [start + k, 100 * (start + k) + 50])
  return {
    node, startPiece: start, joinAt: 0, leftAt: 0, firstReadAt: 10, verified, duplicateBytes: 0, pieceDown: read.length, pieceUp: 0, wireBytes: 0,
    bans: 0, readBytes: read.length, readEnded: ended, readError: null, sha256: createHash('sha256').update(read).digest('hex')
  }
}

const stream = (from: number, bytes: number): Uint8Array => {
  const all = Buffer.concat(Array.from({ length: AIRED - from }, (_, k) => pieceBytes(SEED, from + k, L)))
  return all.subarray(0, bytes)
}

describe('lab report: identical, incomplete, corrupt', () => {
  it('tells a late viewer (a correct beginning, mid-piece too) from one whose bytes differ', () => {
    const source = { aired: AIRED, writtenAt: Array.from({ length: AIRED }, (_, i) => 100 * i), wireBytes: 0, pieceUp: 0, sha256: streamHash(SEED, 0, AIRED, L) }
    const wrong = Buffer.from(stream(2, 2 * L + 7))
    wrong[L + 3] = wrong[L + 3]! ^ 1
    const viewers = [
      viewer(0, 0, stream(0, AIRED * L), true), // whole: identical
      viewer(1, 2, stream(2, (AIRED - 2) * L), true), // from piece 2 to the end: identical
      viewer(2, 1, stream(1, 2 * L + 100), false), // stopped mid-piece, correct so far: incomplete
      viewer(3, 1, stream(1, 3 * L), false), // stopped on a piece boundary: incomplete
      viewer(4, 2, wrong, false), // a flipped bit: corrupt
      viewer(5, 0, stream(0, 3 * L), true) // ended early: corrupt (an ended read must hold everything)
    ]
    const r = figures({ pieceLength: L, pieceMs: 100, bufferMs: 1000, seed: SEED, multiple: [1, 1, 1, 1, 1, 1] }, source, viewers)
    assert.equal(r.all_identical, false)
    assert.equal(r.not_identical, 4)
    assert.equal(r.incomplete, 2)
    assert.equal(r.corrupt, 2)
  })

  it('judges a viewer that never started, one that failed, one that left, and a broadcaster whose bytes differ', () => {
    const source = { aired: AIRED, writtenAt: Array.from({ length: AIRED }, (_, i) => 100 * i), wireBytes: 0, pieceUp: 0, sha256: 'not the stream' }
    const viewers = [
      { ...viewer(0, 0, new Uint8Array(0), false), startPiece: null }, // never started: incomplete
      { ...viewer(1, 0, new Uint8Array(0), false), startPiece: null, readError: 'EQUIVOCATION' }, // failed before its start: corrupt
      { ...viewer(2, 1, stream(1, L), false), readError: 'EQUIVOCATION' }, // a correct beginning, then failed: corrupt
      { ...viewer(3, 1, stream(1, 2 * L), false), leftAt: 1000, readError: 'DESTROYED' }, // left: identical (whole pieces it read)
      { ...viewer(4, 1, stream(1, 2 * L + 5), false), leftAt: 1000, readError: 'DESTROYED' }, // left mid-piece, correct: incomplete
      viewer(5, 0, new Uint8Array(0), false), // started, nothing read yet: incomplete
      viewer(6, 2, stream(2, (AIRED - 2) * L), false) // everything, not ended yet: incomplete
    ]
    const r = figures({ pieceLength: L, pieceMs: 100, bufferMs: 1000, seed: SEED, multiple: [1, 1, 1, 1, 1, 1, 1] }, source, viewers)
    assert.equal(r.not_identical, 1 + 6) // the broadcaster, and every viewer but the one that left on a piece boundary
    assert.equal(r.incomplete, 4)
    assert.equal(r.corrupt, 3)
  })
})
