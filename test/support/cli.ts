/** Test helpers for the command line: the built CLI (dist/lib/cli/main.js) as child processes. */
import assert from 'node:assert/strict'
import { fileURLToPath } from 'node:url'
import { JsonProcess, type Event } from './json-process.js'
import { removeTempDirs, tempDir } from './temp.js'
import { withTimeout } from './wait.js'

export { tempDir, type Event }

export const MAIN = fileURLToPath(new URL('../../lib/cli/main.js', import.meta.url))

const running = new Set<Cli>()

/** A stack trace line: what a user must never see for their own mistakes. */
export const STACK = /\n\s+at .+:\d+:\d+/

/**
 * One CLI process. With `json`, stdout lines are parsed as events; otherwise stdout is kept as
 * bytes (watch --stdout). TMPDIR points into a test folder, so nothing is left behind.
 */
export class Cli extends JsonProcess {
  readonly args: string[]
  /** The process's TMPDIR (its own folder: what it leaves there is its own). */
  readonly tmp: string

  constructor (args: string[], opts: { json?: boolean, cwd?: string, stdin?: 'pipe' | 'ignore', env?: Record<string, string> } = {}) {
    const tmp = tempDir()
    super(`[${args.slice(0, 2).join(' ')}]`, [MAIN, ...args], { json: opts.json !== false && args.includes('--json'), cwd: opts.cwd ?? tmp, ...(opts.stdin ? { stdin: opts.stdin } : {}), env: { ...opts.env, TMPDIR: tmp } })
    this.args = args
    this.tmp = tmp
    running.add(this)
    void this.exited.then(() => running.delete(this))
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

  override async kill (): Promise<void> {
    await super.kill('SIGKILL')
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
  removeTempDirs()
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
