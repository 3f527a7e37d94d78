/**
 * A Node child process that prints one JSON event a line on stdout (the CLI with --json, the
 * viewer fixture), and waiting on those events: each wait ends on the event, an error event, the
 * process's exit or a timeout, whichever comes first.
 */
import { spawn, type ChildProcess } from 'node:child_process'
import { createInterface } from 'node:readline'
import { withTimeout } from './wait.js'

export interface Event { event: string, [key: string]: any } // eslint-disable-line @typescript-eslint/no-explicit-any

export interface JsonProcessOptions {
  /** Parse stdout as JSON lines (default); otherwise keep it as bytes (`output`). */
  json?: boolean
  cwd?: string
  stdin?: 'pipe' | 'ignore'
  env?: Record<string, string>
}

export class JsonProcess {
  readonly name: string
  readonly proc: ChildProcess
  readonly events: Event[] = []
  stdout: Buffer[] = []
  stderr = ''
  code: number | null = null
  signal: NodeJS.Signals | null = null
  readonly exited: Promise<void>
  private waiters: Array<() => void> = []

  /** Runs `node argv…`. */
  constructor (name: string, argv: string[], opts: JsonProcessOptions = {}) {
    this.name = name
    this.proc = spawn(process.execPath, argv, { cwd: opts.cwd, stdio: [opts.stdin ?? 'ignore', 'pipe', 'pipe'], env: { ...process.env, ...opts.env } })
    this.exited = new Promise((resolve) => this.proc.once('exit', (code, signal) => {
      this.code = code
      this.signal = signal
      this.wake()
      resolve()
    }))
    this.proc.once('error', (err) => { this.events.push({ event: 'error', message: `spawn: ${err.message}` }); this.wake() })
    this.proc.stderr!.setEncoding('utf8')
    this.proc.stderr!.on('data', (s: string) => { this.stderr += s })
    if (opts.json !== false) {
      createInterface({ input: this.proc.stdout! }).on('line', (line) => {
        let ev: Event
        try { ev = JSON.parse(line) as Event } catch { ev = { event: 'garbage', line } }
        this.events.push(ev)
        this.wake()
      })
    } else {
      this.proc.stdout!.on('data', (b: Buffer) => { this.stdout.push(b); this.wake() })
    }
  }

  /** stdout as bytes (json: false). */
  get output (): Buffer { return Buffer.concat(this.stdout) }

  get exitCode (): number | null { return this.code }

  /** Whether the process is still running. */
  get running (): boolean { return this.code === null && this.signal === null }

  protected wake (): void {
    for (const w of this.waiters.splice(0)) w()
  }

  /** Resolves on the next event, output or exit. */
  protected next (): Promise<void> {
    return new Promise<void>((resolve) => this.waiters.push(resolve))
  }

  describe (): string {
    return `${this.name}: exit ${String(this.code)}/${String(this.signal)}, events ${JSON.stringify(this.events).slice(-1500)}, stderr ${this.stderr.slice(-1500)}`
  }

  /** The last event of this type so far, if any. */
  last (type: string): Event | undefined {
    for (let i = this.events.length - 1; i >= 0; i--) if (this.events[i]!.event === type) return this.events[i]
    return undefined
  }

  /** The first event of this type that satisfies `pred`; rejects on an error event, the exit or the timeout. */
  async event (type: string, ms = 30_000, pred: (e: Event) => boolean = () => true): Promise<Event> {
    const wait = async (): Promise<Event> => {
      for (;;) {
        const ev = this.events.find((e) => e.event === type && pred(e))
        if (ev) return ev
        const bad = this.events.find((e) => e.event === 'error' || e.event === 'garbage')
        if (bad) throw new Error(`reported ${JSON.stringify(bad)} (${this.describe()})`)
        if (!this.running) throw new Error(`exited before '${type}' (${this.describe()})`)
        await this.next()
      }
    }
    return await withTimeout(wait(), ms, `'${type}' (${this.describe()})`)
  }

  /** Resolves when `pred` holds for some event of this type (error events do not end the wait). */
  async until (type: string, pred: (e: Event) => boolean, ms: number): Promise<Event> {
    const wait = async (): Promise<Event> => {
      for (;;) {
        const ev = this.events.find((e) => e.event === type && pred(e))
        if (ev) return ev
        if (!this.running) throw new Error(`${this.name} exited (${this.describe()})`)
        await this.next()
      }
    }
    return await withTimeout(wait(), ms, `${this.name} '${type}'`)
  }

  /** Ends the process if it still runs: `first` (SIGTERM by default), then SIGKILL. */
  async kill (first: NodeJS.Signals = 'SIGTERM'): Promise<void> {
    if (!this.running) return
    this.proc.kill(first)
    if (first === 'SIGKILL') { await withTimeout(this.exited, 5_000, `${this.name} SIGKILL`).catch(() => {}); return }
    try {
      await withTimeout(this.exited, 3_000, `${this.name} ${first}`)
    } catch {
      this.proc.kill('SIGKILL')
      await withTimeout(this.exited, 3_000, `${this.name} SIGKILL`).catch(() => {})
    }
  }
}
