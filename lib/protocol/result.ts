/** Decoders and verifiers return values, never throw, on data from peers. */
export type Result<T> = { ok: true, value: T } | { ok: false, code: ErrorCode, reason: string }

export type ErrorCode =
  | 'BAD_LENGTH' | 'BAD_TYPE' | 'BAD_FIELD' | 'TRAILING_BYTES' | 'UNKNOWN_VERSION' | 'TOO_LARGE'
  | 'BAD_SIGNATURE' | 'BAD_CHAIN' | 'STALE' | 'ENDED' | 'EQUIVOCATION' | 'NOT_LINKED' | 'BAD_INFO'

export function ok<T> (value: T): Result<T> { return { ok: true, value } }
export function fail<T = never> (code: ErrorCode, reason: string): Result<T> { return { ok: false, code, reason } }

/** The library's error class: `code` is stable, the message reads `CODE: detail`. */
export class LiveError extends Error {
  readonly code: string
  readonly evidence?: unknown
  constructor (code: string, detail: string, evidence?: unknown) {
    super(`${code}: ${detail}`)
    this.name = 'LiveError'
    this.code = code
    if (evidence !== undefined) this.evidence = evidence
  }
}
