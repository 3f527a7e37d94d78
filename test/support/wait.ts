/** Waiting in tests: on events and conditions, each with a timeout. Never a sleep to prove a negative. */
import type { EventEmitter } from 'node:events'

export function withTimeout<T> (p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: ReturnType<typeof setTimeout>
  return Promise.race([
    p.finally(() => clearTimeout(timer)),
    new Promise<T>((_resolve, reject) => { timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms: ${what}`)), ms) })
  ])
}

export function once<T = unknown> (emitter: Pick<EventEmitter, 'once'>, event: string): Promise<T> {
  return new Promise((resolve) => emitter.once(event, resolve))
}

/** Resolves when the predicate holds, checking on every event of the given emitter. */
export async function until (emitter: Pick<EventEmitter, 'once'>, event: string, pred: () => boolean): Promise<void> {
  while (!pred()) await once(emitter, event)
}

/** Resolves when the predicate holds, checked every few milliseconds (for state without an event). */
export function poll (pred: () => boolean, ms: number, what: string): Promise<void> {
  return withTimeout(new Promise<void>((resolve) => { const f = (): void => { if (pred()) resolve(); else setTimeout(f, 5) }; f() }), ms, what)
}

/** A pause, for pacing a source (a live feed, a browser that plays): never to prove that nothing happened. */
export function sleep (ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms))
}
