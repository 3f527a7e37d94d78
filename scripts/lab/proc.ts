/** A lab process (scripts/lab/node.ts) driven over IPC by scripts/lab.ts. */
import { fork, type ChildProcess } from 'node:child_process'

/* eslint-disable @typescript-eslint/no-explicit-any */

const NODE = new URL('./node.js', import.meta.url)

export class Proc {
  readonly child: ChildProcess
  readonly name: string
  exited = false
  private nextId = 1
  private pending = new Map<number, { resolve: (v: any) => void, reject: (e: Error) => void }>()
  private alive: Promise<void>

  constructor (role: 'source' | 'viewers', name: string, log: (s: string) => void) {
    this.name = name
    this.child = fork(NODE, [role], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] })
    this.alive = new Promise((resolve, reject) => {
      this.child.once('error', reject)
      // A process that dies before it is up (a crash at load) fails the lab instead of hanging it.
      this.child.once('exit', (code, signal) => reject(new Error(`${name} exited (${code ?? signal}) before it was up`)))
      this.child.on('message', (m: any) => {
        if (m.event === 'alive') { resolve(); return }
        if (m.event === 'note') { log(`[${name}] ${m.message}`); return }
        const p = this.pending.get(m.id)
        if (!p) return
        this.pending.delete(m.id)
        if (m.ok) p.resolve(m); else p.reject(new Error(`${name}: ${m.error}`))
      })
    })
    this.alive.catch(() => {}) // awaited by call()
    this.child.once('exit', (code) => {
      this.exited = true
      for (const p of this.pending.values()) p.reject(new Error(`${name} exited (${code})`))
      this.pending.clear()
    })
  }

  async call<T = any> (cmd: string, args: Record<string, unknown> = {}, timeoutMs = 60_000): Promise<T> {
    await this.alive
    if (this.exited) throw new Error(`${this.name} has exited`)
    const id = this.nextId++
    return await new Promise<T>((resolve, reject) => {
      const timer = setTimeout(() => { this.pending.delete(id); reject(new Error(`${this.name}.${cmd} timed out after ${timeoutMs} ms`)) }, timeoutMs)
      this.pending.set(id, { resolve: (v) => { clearTimeout(timer); resolve(v) }, reject: (e) => { clearTimeout(timer); reject(e) } })
      this.child.send({ id, cmd, ...args })
    })
  }

  /** Asks the process to exit (it destroys its clients and removes its folder); kills it if it lingers. */
  async stop (): Promise<void> {
    if (this.exited) return
    const gone = new Promise<void>((resolve) => this.child.once('exit', () => resolve()))
    try { await this.call('exit', {}, 5000) } catch {}
    const t = setTimeout(() => { if (!this.exited) this.child.kill('SIGKILL') }, 10_000)
    await gone
    clearTimeout(t)
  }
}
