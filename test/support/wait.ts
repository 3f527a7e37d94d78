/** Waiting in tests: on events and conditions, each with a timeout. Never a sleep to prove a negative. */

export function withTimeout<T> (p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: ReturnType<typeof setTimeout>
  return Promise.race([
    p.finally(() => clearTimeout(timer)),
    new Promise<T>((_resolve, reject) => { timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms: ${what}`)), ms) })
  ])
}

/** Anything with once(): a Node EventEmitter, a Wire, a torrent. */
interface Once<T> { once (event: string, fn: (value: T) => void): unknown }

export function once<T = unknown> (emitter: Once<T>, event: string): Promise<T> {
  return new Promise((resolve) => emitter.once(event, resolve))
}

/** Resolves when the predicate holds, checking on every event of the given emitter. */
export async function until (emitter: Once<unknown>, event: string, pred: () => boolean): Promise<void> {
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

/** The members of a bittorrent-protocol Wire a round trip uses. */
interface RoundTripWire {
  destroyed: boolean
  peerExtendedMapping: Record<string, number>
  extended (ext: string, obj: unknown): void
  on (event: 'extended', fn: (ext: string) => void): unknown
  removeListener (event: 'extended', fn: (ext: string) => void): unknown
}

/**
 * A barrier on one wire: a BEP 9 metadata request, which the peer answers (data or reject) after
 * it has handled everything it received before, on a connection read in order; so when the answer
 * is here, so is everything the peer had sent before handling it. Our ut_metadata ignores the
 * unasked-for answer. Resolves at once on a closed wire or one without ut_metadata.
 */
export function roundTrip (wire: RoundTripWire, ms = 10_000): Promise<void> {
  if (wire.destroyed || !wire.peerExtendedMapping.ut_metadata) return Promise.resolve()
  let onExt: (ext: string) => void = () => {}
  const answered = new Promise<void>((resolve) => {
    onExt = (ext) => { if (ext === 'ut_metadata') resolve() }
    wire.on('extended', onExt)
  })
  wire.extended('ut_metadata', { msg_type: 0, piece: 0 })
  return withTimeout(answered, ms, 'round trip (ut_metadata)').finally(() => wire.removeListener('extended', onExt))
}
