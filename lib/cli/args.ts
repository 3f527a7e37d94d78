/** Command-line parsing: `--flag value`, `--flag=value`, repeatable flags, booleans, positionals. */

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

export function parse (argv: string[], spec: Spec): Parsed {
  const flags: Parsed['flags'] = {}
  const positionals: string[] = []
  for (const [name, kind] of Object.entries(spec.flags)) if (kind === 'list') flags[name] = []
  let rest = false
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!
    if (rest || a === '-' || !a.startsWith('-')) { positionals.push(a); continue }
    if (a === '--') { rest = true; continue }
    let name: string
    let inline: string | undefined
    if (a.startsWith('--')) {
      const eq = a.indexOf('=')
      name = eq >= 0 ? a.slice(2, eq) : a.slice(2)
      inline = eq >= 0 ? a.slice(eq + 1) : undefined
    } else {
      const short = a.slice(1)
      const long = spec.aliases?.[short]
      if (!long) throw new UsageError(`unknown option ${a}`)
      name = long
    }
    const kind = spec.flags[name]
    if (!kind) throw new UsageError(`unknown option --${name}`)
    if (kind === 'bool') {
      if (inline !== undefined) throw new UsageError(`--${name} takes no value`)
      flags[name] = true
      continue
    }
    let value = inline
    if (value === undefined) {
      value = argv[++i]
      if (value === undefined || (value.startsWith('--') && value.length > 2)) throw new UsageError(`--${name} needs a value`)
    }
    if (kind === 'list') (flags[name] as string[]).push(value)
    else flags[name] = value
  }
  const [min, max] = spec.positionals
  if (positionals.length < min) throw new UsageError(`missing ${spec.names?.[positionals.length] ?? 'argument'}`)
  if (positionals.length > max) throw new UsageError(`unexpected argument '${positionals[max]!}'`)
  return { flags, positionals }
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
  const m = /^(\d+(?:\.\d+)?)\s*([kmg]?)(i?b)?$/i.exec(v.trim())
  if (!m) throw new UsageError(`--${name} must be a number of bytes (e.g. 16384, 16k, 1M), not '${v}'`)
  const mult = { '': 1, k: 1024, m: 1024 ** 2, g: 1024 ** 3 }[m[2]!.toLowerCase() as '' | 'k' | 'm' | 'g']
  const n = Math.round(Number(m[1]) * mult)
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
