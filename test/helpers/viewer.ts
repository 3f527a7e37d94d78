/** A live viewer in a child Node process (test/fixtures/viewer-process.ts) and the JSON events it prints. */
import assert from 'node:assert/strict'
import { spawn, type ChildProcess } from 'node:child_process'
import { join as joinPath } from 'node:path'
import { createInterface } from 'node:readline'
import { fileURLToPath } from 'node:url'
import { withTimeout } from './swarm.js'

export const FIXTURE = fileURLToPath(new URL('../fixtures/viewer-process.js', import.meta.url))

export interface Event { event: string, [key: string]: unknown }

/** A viewer child process and the JSON events it printed. */
export class Viewer {
  readonly name: string
  readonly out: string
  readonly proc: ChildProcess
  readonly events: Event[] = []
  stderr = ''
  exitCode: number | null = null
  signal: NodeJS.Signals | null = null
  readonly exited: Promise<void>
  private waiters: Array<() => void> = []

  constructor (name: string, args: { magnet: string, peers: string[], from?: 'start' | 'live', hold?: boolean, store?: string, timeoutMs?: number }, dir: string) {
    this.name = name
    this.out = joinPath(dir, `${name}.bin`)
    const argv = [FIXTURE, '--magnet', args.magnet, '--out', this.out, '--from', args.from ?? 'start']
    for (const p of args.peers) argv.push('--peer', p)
    if (args.hold) argv.push('--hold')
    if (args.store) argv.push('--store', args.store)
    if (args.timeoutMs) argv.push('--timeout-ms', String(args.timeoutMs))
    // TMPDIR: the child's torrent folder lands in our temp dir, removed by destroyAll() whatever happens.
    this.proc = spawn(process.execPath, argv, { stdio: ['pipe', 'pipe', 'pipe'], env: { ...process.env, TMPDIR: dir } })
    this.exited = new Promise((resolve) => this.proc.once('exit', (code, signal) => {
      this.exitCode = code
      this.signal = signal
      this.wake()
      resolve()
    }))
    this.proc.once('error', (err) => { this.events.push({ event: 'error', message: `spawn: ${err.message}` }); this.wake() })
    this.proc.stderr!.setEncoding('utf8')
    this.proc.stderr!.on('data', (s: string) => { this.stderr += s })
    createInterface({ input: this.proc.stdout! }).on('line', (line) => {
      let ev: Event
      try { ev = JSON.parse(line) as Event } catch { ev = { event: 'garbage', line } }
      this.events.push(ev)
      this.wake()
    })
  }

  private wake (): void {
    const ws = this.waiters.splice(0)
    for (const w of ws) w()
  }

  private describe (): string {
    return `${this.name}: events ${JSON.stringify(this.events)}, exit ${String(this.exitCode)}/${String(this.signal)}, stderr ${this.stderr.slice(-2000)}`
  }

  /** Whether the process is still running. */
  get running (): boolean { return this.exitCode === null && this.signal === null }

  /** The last event of this type so far, if any. */
  last (type: string): Event | undefined {
    for (let i = this.events.length - 1; i >= 0; i--) if (this.events[i]!.event === type) return this.events[i]
    return undefined
  }

  /** Resolves when `pred` holds for some event of this type (checked on every event). */
  async until (type: string, pred: (e: Event) => boolean, ms: number): Promise<Event> {
    const wait = async (): Promise<Event> => {
      for (;;) {
        const ev = this.events.find((e) => e.event === type && pred(e))
        if (ev) return ev
        if (!this.running) throw new Error(`${this.name} exited (${this.describe()})`)
        await new Promise<void>((resolve) => this.waiters.push(resolve))
      }
    }
    return await withTimeout(wait(), ms, `${this.name} '${type}'`)
  }

  /** The first event of this type; rejects on an error event, an early exit or the timeout. */
  async event (type: string, ms: number): Promise<Event> {
    const wait = async (): Promise<Event> => {
      for (;;) {
        const ev = this.events.find((e) => e.event === type)
        if (ev) return ev
        const bad = this.events.find((e) => e.event === 'error' || e.event === 'garbage')
        if (bad) throw new Error(`${this.name} reported ${JSON.stringify(bad)} (${this.describe()})`)
        if (this.exitCode !== null || this.signal !== null) throw new Error(`${this.name} exited before '${type}' (${this.describe()})`)
        await new Promise<void>((resolve) => this.waiters.push(resolve))
      }
    }
    return await withTimeout(wait(), ms, `${this.name} '${type}' (${this.describe()})`)
  }

  /** Releases a --hold viewer and waits for a clean exit. */
  async close (ms: number): Promise<void> {
    this.proc.stdin!.end()
    await withTimeout(this.exited, ms, `${this.name} exit`)
    assert.equal(this.exitCode, 0, `${this.name} exits 0 (${this.describe()})`)
  }

  /** Ends the process if it still runs: SIGTERM, then SIGKILL. */
  async kill (): Promise<void> {
    if (this.exitCode !== null || this.signal !== null) return
    this.proc.kill('SIGTERM')
    try {
      await withTimeout(this.exited, 3_000, `${this.name} SIGTERM`)
    } catch {
      this.proc.kill('SIGKILL')
      await withTimeout(this.exited, 3_000, `${this.name} SIGKILL`).catch(() => {})
    }
  }
}
