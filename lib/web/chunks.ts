/** A WHATWG ReadableStream as an async iterator of its chunks; the stream is cancelled when the loop stops. */
export async function * chunksOf (s: ReadableStream<Uint8Array>): AsyncGenerator<Uint8Array> {
  const r = s.getReader()
  try {
    for (;;) {
      const x = await r.read()
      if (x.done) return
      yield x.value
    }
  } finally {
    try { await r.cancel() } catch {}
  }
}
