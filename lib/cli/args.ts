/** Command-line parsing (node:util parseArgs): `--flag value`, `--flag=value`, repeatable flags, booleans, positionals. */
import { parseArgs } from 'node:util'
import { parseByteSize } from '../live/window.js'

/** A mistake in the command line itself: exit code 2 and the command's usage. */
export class UsageError extends Error {
  constructor (message: string) {
    super(message)
    this.name = 'UsageError'
  }
}

/** A user mistake that is not about the syntax (missing file, bad magnet, port in use): exit 1, one line, no stack. */
export class UserError extends Error {
  constructor (message: string) {
    super(message)
    this.name = 'UserError'
  }
}

export type FlagKind = 'bool' | 'string' | 'list'

export interface Spec {
  flags: Record<string, FlagKind>
  /** Short aliases: { q: 'quiet' }. */
  aliases?: Record<string, string>
  /** Positional arguments: minimum and maximum count. */
  positionals: [number, number]
  /** Their names, for messages ("missing INPUT"). */
  names?: string[]
}

export interface Parsed {
  flags: Record<string, string | boolean | string[] | undefined>
  positionals: string[]
}

/**
 * Parses with node:util's parseArgs (the tokens), then holds them to the spec with this CLI's
 * messages: unknown options, a value missing or given to a boolean, how many positionals.
 */
export function parse (argv: string[], spec: Spec): Parsed {
  const options: Record<string, { type: 'string' | 'boolean', multiple?: boolean, short?: string }> = {}
  for (const [name, kind] of Object.entries(spec.flags)) options[name] = kind === 'bool' ? { type: 'boolean' } : { type: 'string', multiple: kind === 'list' }
  for (const [short, long] of Object.entries(spec.aliases ?? {})) if (options[long]) options[long].short = short
  const { tokens } = parseArgs({ args: argv, options, strict: false, allowPositionals: true, tokens: true })
  const flags: Parsed['flags'] = {}
  const positionals: string[] = []
  for (const [name, kind] of Object.entries(spec.flags)) if (kind === 'list') flags[name] = []
  for (const t of tokens) {
    if (t.kind === 'positional') { positionals.push(t.value); continue }
    if (t.kind !== 'option') continue
    const kind = spec.flags[t.name]
    if (!kind) throw new UsageError(`unknown option ${t.rawName}`)
    if (kind === 'bool') {
      if (t.value !== undefined) throw new UsageError(`--${t.name} takes no value`)
      flags[t.name] = true
      continue
    }
    const value = t.value
    if (value === undefined || (!t.inlineValue && value.startsWith('--') && value.length > 2)) throw new UsageError(`--${t.name} needs a value`)
    if (kind === 'list') (flags[t.name] as string[]).push(value)
    else flags[t.name] = value
  }
  const [min, max] = spec.positionals
  if (positionals.length < min) throw new UsageError(`missing ${spec.names?.[positionals.length] ?? 'argument'}`)
  if (positionals.length > max) throw new UsageError(`unexpected argument '${positionals[max]!}'`)
  return { flags, positionals }
}

/** Whether argv asks for help (`--help` or `-h` before any `--`): the command's usage, whatever else is there. */
export function wantsHelp (argv: string[]): boolean {
  for (const a of argv) {
    if (a === '--') return false
    if (a === '--help' || a === '-h') return true
  }
  return false
}

export function str (p: Parsed, name: string): string | undefined {
  const v = p.flags[name]
  return typeof v === 'string' ? v : undefined
}

export function bool (p: Parsed, name: string): boolean {
  return p.flags[name] === true
}

export function list (p: Parsed, name: string): string[] {
  const v = p.flags[name]
  return Array.isArray(v) ? v : []
}

/** An integer flag within [min, max]. */
export function int (p: Parsed, name: string, min: number, max: number): number | undefined {
  const v = str(p, name)
  if (v === undefined) return undefined
  if (!/^\d+$/.test(v)) throw new UsageError(`--${name} must be a whole number, not '${v}'`)
  const n = Number(v)
  if (n < min || n > max) throw new UsageError(`--${name} must be from ${min} to ${max}, not ${n}`)
  return n
}

/** A byte count: 16384, 16k, 16KiB, 1M, 2MB (binary multiples). */
export function bytesFlag (p: Parsed, name: string): number | undefined {
  const v = str(p, name)
  if (v === undefined) return undefined
  const n = parseByteSize(v)
  if (n === null) throw new UsageError(`--${name} must be a number of bytes (e.g. 16384, 16k, 1M), not '${v}'`)
  if (!(n > 0)) throw new UsageError(`--${name} must be positive`)
  return n
}

/** HOST:PORT (IPv6 as [::1]:PORT). */
export function peerAddr (s: string): string {
  const m = /^(\[[0-9a-fA-F:.]+\]|[^:[\]\s]+):(\d{1,5})$/.exec(s)
  if (!m || Number(m[2]) < 1 || Number(m[2]) > 65535) throw new UsageError(`--peer must be HOST:PORT, not '${s}'`)
  return s
}

/** An http(s) or ws(s) tracker URL. */
export function trackerUrl (s: string): string {
  let u: URL
  try { u = new URL(s) } catch { throw new UsageError(`--announce must be a tracker URL, not '${s}'`) }
  if (!['http:', 'https:', 'ws:', 'wss:', 'udp:'].includes(u.protocol)) throw new UsageError(`--announce must be an http, https, udp, ws or wss URL, not '${s}'`)
  return s
}
