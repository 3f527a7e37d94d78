/**
 * Output files that never destroy a user's file. An existing regular file is truncated only with
 * --force; otherwise the next free name is taken as browsers do: `show.ts`, `show (1).ts`,
 * `show (2).ts` … The file is created with O_EXCL, so a file that appears meanwhile is not
 * clobbered either. Devices and pipes (`/dev/null`, a FIFO) are opened as they are.
 */
import { accessSync, closeSync, constants, openSync, statSync, writeSync } from 'node:fs'
import { basename, dirname, extname, join, resolve } from 'node:path'
import { UserError } from './args.js'

/** Free names tried before giving up (`show (1).ts` … `show (9999).ts`). */
export const MAX_FRESH_NAMES = 9999

export interface OpenedOutput {
  /** Open for writing; null for a device or pipe (open it by path). */
  fd: number | null
  /** Where the bytes go: the path asked for, or `NAME (k).EXT` beside it. */
  path: string
  /** The path asked for, when it was taken and `path` is a fresh name. */
  renamedFrom: string | null
}

/** `show.ts` → `show (k).ts`; `.hidden` → `.hidden (k)`; the folder part is kept as given. */
export function numberedName (path: string, k: number): string {
  const base = basename(path)
  const ext = extname(base) // '' for `.hidden` and `README`
  return join(dirname(path), `${base.slice(0, base.length - ext.length)} (${k})${ext}`)
}

function kind (path: string): 'none' | 'file' | 'folder' | 'other' {
  try {
    const st = statSync(path)
    return st.isFile() ? 'file' : st.isDirectory() ? 'folder' : 'other'
  } catch (err) {
    if ((err as { code?: string }).code === 'ENOENT') return 'none'
    throw new UserError(`cannot write ${path}: ${(err as Error).message}`)
  }
}

/**
 * Checks at start-up that `path` can be written later (`flag` names the option in messages): not a
 * folder, in a folder that exists and is writable. A file written only at the end of a broadcast
 * must not fail then, for a typo made at the start.
 */
export function checkWritableLater (path: string, flag: string): void {
  if (kind(path) === 'folder') throw new UserError(`${flag} ${path} is a folder; give a file name`)
  const parent = dirname(resolve(path))
  const k = kind(parent)
  if (k === 'none') throw new UserError(`${flag} ${path}: no such folder ${parent}`)
  if (k !== 'folder') throw new UserError(`${flag} ${path}: ${parent} is not a folder`)
  try { accessSync(parent, constants.W_OK) } catch { throw new UserError(`${flag} ${path}: cannot write in ${parent}`) }
}

/** Opens `path` for writing without truncating an existing file unless `force`. */
export function openOutput (path: string, force: boolean): OpenedOutput {
  const k0 = kind(path)
  if (k0 === 'folder') throw new UserError(`${path} is a folder; give a file name`)
  if (k0 === 'other') return { fd: null, path, renamedFrom: null }
  const fail = (p: string, err: unknown): never => { throw new UserError(`cannot write ${p}: ${(err as Error).message.replace(/^[A-Z]+: /, '')}`) }
  if (force) {
    try { return { fd: openSync(path, 'w'), path, renamedFrom: null } } catch (err) { return fail(path, err) }
  }
  const excl = constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL
  for (let k = 0; k <= MAX_FRESH_NAMES; k++) {
    const p = k === 0 ? path : numberedName(path, k)
    try {
      return { fd: openSync(p, excl, 0o666), path: p, renamedFrom: k === 0 ? null : path }
    } catch (err) {
      if ((err as { code?: string }).code !== 'EEXIST') return fail(p, err)
    }
  }
  throw new UserError(`${path} and ${MAX_FRESH_NAMES} numbered names beside it exist; choose another name or use --force`)
}

/** Writes `bytes` to `path` (or a fresh name beside it, see openOutput); returns where. */
export function writeNewFile (path: string, bytes: Uint8Array, force: boolean): Omit<OpenedOutput, 'fd'> {
  const o = openOutput(path, force)
  const fd = o.fd ?? openSafe(o.path)
  try {
    let off = 0
    while (off < bytes.length) off += writeSync(fd, bytes, off, bytes.length - off)
  } catch (err) {
    throw new UserError(`cannot write ${o.path}: ${(err as Error).message}`)
  } finally {
    closeSync(fd)
  }
  return { path: o.path, renamedFrom: o.renamedFrom }
}

function openSafe (path: string): number {
  try { return openSync(path, 'w') } catch (err) { throw new UserError(`cannot write ${path}: ${(err as Error).message}`) }
}
