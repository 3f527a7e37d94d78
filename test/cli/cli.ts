/** Test helpers for the command line: the built CLI (dist/lib/cli/main.js) as child processes. */
import assert from 'node:assert/strict'
import { spawn, type ChildProcess } from 'node:child_process'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createInterface } from 'node:readline'
import { fileURLToPath } from 'node:url'
import { withTimeout } from '../helpers/swarm.js'

export const MAIN = fileURLToPath(new URL('../../lib/cli/main.js', import.meta.url))

export interface Event { event: string, [key: string]: any } // eslint-disable-line @typescript-eslint/no-explicit-any

const running = new Set<Cli>()
const dirs: string[] = []

export function tempDir (): string {
  const d = mkdtempSync(join(tmpdir(), 'wtl-cli-'))
  dirs.push(d)
  return d
}

/** A stack trace line: what a user must never see for their own mistakes. */
export const STACK = /\n\s+at .+:\d+:\d+/

/**
 * One CLI process. With `json`, stdout lines are parsed as events; otherwise stdout is kept as
 * bytes (watch --stdout). TMPDIR points into a test folder, so nothing is left behind.
 */
export class Cli {
  readonly args: string[]
  readonly proc: ChildProcess
  readonly events: Event[] = []
  stdout: Buffer[] = []
  stderr = ''
  code: number | null = null
  signal: NodeJS.Signals | null = null
  readonly exited: Promise<void>
  /** The process's TMPDIR (its own folder: what it leaves there is its own). */
  readonly tmp: string
  private waiters: Array<() => void> = []

  constructor (args: string[], opts: { json?: boolean, cwd?: string, stdin?: 'pipe' | 'ignore', env?: Record<string, string> } = {}) {
    this.args = args
    const tmp = this.tmp = tempDir()
    this.proc = spawn(process.execPath, [MAIN, ...args], { cwd: opts.cwd ?? tmp, stdio: [opts.stdin ?? 'ignore', 'pipe', 'pipe'], env: { ...process.env, ...opts.env, TMPDIR: tmp } })
    running.add(this)
    this.exited = new Promise((resolve) => this.proc.once('exit', (code, signal) => {
      this.code = code
      this.signal = signal
      running.delete(this)
      this.wake()
      resolve()
    }))
    this.proc.stderr!.setEncoding('utf8')
    this.proc.stderr!.on('data', (s: string) => { this.stderr += s })
    if (opts.json !== false && args.includes('--json')) {
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

  get output (): Buffer { return Buffer.concat(this.stdout) }

  private wake (): void {
    for (const w of this.waiters.splice(0)) w()
  }

  describe (): string {
    return `[${this.args.slice(0, 2).join(' ')}] exit ${String(this.code)}/${String(this.signal)}, events ${JSON.stringify(this.events).slice(-1500)}, stderr ${this.stderr.slice(-1500)}`
  }

  /** The first event of this type that satisfies `pred`; rejects on error events, exit or timeout. */
  async event (type: string, ms = 30_000, pred: (e: Event) => boolean = () => true): Promise<Event> {
    const wait = async (): Promise<Event> => {
      for (;;) {
        const ev = this.events.find((e) => e.event === type && pred(e))
        if (ev) return ev
        const bad = this.events.find((e) => e.event === 'error' || e.event === 'garbage')
        if (bad) throw new Error(`reported ${JSON.stringify(bad)} (${this.describe()})`)
        if (this.code !== null || this.signal !== null) throw new Error(`exited before '${type}' (${this.describe()})`)
        await new Promise<void>((resolve) => this.waiters.push(resolve))
      }
    }
    return await withTimeout(wait(), ms, `'${type}' (${this.describe()})`)
  }

  /** Waits for the exit and checks its code. */
  async exit (code: number, ms = 30_000): Promise<void> {
    await withTimeout(this.exited, ms, `exit (${this.describe()})`)
    assert.equal(this.code, code, `exit code (${this.describe()})`)
  }

  /** SIGINT (what Ctrl-C sends), then the exit code. */
  async interrupt (code = 0, ms = 15_000): Promise<void> {
    this.proc.kill('SIGINT')
    await this.exit(code, ms)
  }

  async kill (): Promise<void> {
    if (this.code !== null || this.signal !== null) return
    this.proc.kill('SIGKILL')
    await withTimeout(this.exited, 5_000, 'SIGKILL').catch(() => {})
  }
}

/** Runs a CLI command to its end. */
export async function run (args: string[], ms = 30_000, opts: { cwd?: string } = {}): Promise<Cli> {
  const c = new Cli(args, { json: false, ...opts })
  await withTimeout(c.exited, ms, `${args.join(' ')} (${c.describe()})`)
  return c
}

export async function cleanup (): Promise<void> {
  await Promise.all([...running].map((c) => c.kill()))
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true })
}

/** Streams `data` into a writable in chunks, pausing between them (a live source). */
export async function feed (w: NodeJS.WritableStream, data: Buffer, chunk: number, pauseMs: number): Promise<void> {
  for (let off = 0; off < data.length; off += chunk) {
    const ok = w.write(data.subarray(off, off + chunk))
    if (!ok) await new Promise((resolve) => w.once('drain', resolve))
    await new Promise((resolve) => setTimeout(resolve, pauseMs))
  }
  w.end()
}
