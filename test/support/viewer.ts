/** A live viewer in a child Node process (test/fixtures/viewer-process.ts) and the JSON events it prints. */
import assert from 'node:assert/strict'
import { join as joinPath } from 'node:path'
import { fileURLToPath } from 'node:url'
import { JsonProcess, type Event } from './json-process.js'
import { withTimeout } from './wait.js'

export type { Event }

export const FIXTURE = fileURLToPath(new URL('../fixtures/viewer-process.js', import.meta.url))

/** A viewer child process and the JSON events it printed. */
export class Viewer extends JsonProcess {
  readonly out: string

  constructor (name: string, args: { magnet: string, peers: string[], from?: 'start' | 'live', hold?: boolean, store?: string, timeoutMs?: number }, dir: string) {
    const out = joinPath(dir, `${name}.bin`)
    const argv = [FIXTURE, '--magnet', args.magnet, '--out', out, '--from', args.from ?? 'start']
    for (const p of args.peers) argv.push('--peer', p)
    if (args.hold) argv.push('--hold')
    if (args.store) argv.push('--store', args.store)
    if (args.timeoutMs) argv.push('--timeout-ms', String(args.timeoutMs))
    // TMPDIR: the child's torrent folder lands in our temp dir, removed by destroyAll() whatever happens.
    super(name, argv, { stdin: 'pipe', env: { TMPDIR: dir } })
    this.out = out
  }

  /** Releases a --hold viewer and waits for a clean exit. */
  async close (ms: number): Promise<void> {
    this.proc.stdin!.end()
    await withTimeout(this.exited, ms, `${this.name} exit`)
    assert.equal(this.code, 0, `${this.name} exits 0 (${this.describe()})`)
  }
}
