/** The one temporary-folder helper: every folder a test makes, removed by removeTempDirs(). */
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'

const dirs: string[] = []

/** A fresh folder under the system's temporary folder, removed by removeTempDirs(). */
export function tempDir (): string {
  const d = mkdtempSync(join(tmpdir(), 'wtl-test-'))
  dirs.push(d)
  return d
}

/** Removes every folder tempDir() made so far (clients and processes using them must be gone). */
export function removeTempDirs (): void {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true })
}
