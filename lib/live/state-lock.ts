/**
 * One broadcaster per state folder (Node). Two broadcasters on one folder would sign different
 * heads for the same piece numbers with the same key: viewers see equivocation and the folder can
 * never be resumed again. So the folder is held with DIR/lock, created exclusively (O_EXCL) and
 * holding the holder's pid, for as long as the state is open.
 *
 * A lock whose pid is no longer alive (SIGKILL, a power cut) is stale and taken over: resuming
 * after a crash is what the state folder is for. Of several broadcasters taking over one stale lock
 * at the same instant, one gets it (see lockStateFolder). The broadcaster's browser twin holds a Web Lock
 * instead (broadcast-state-idb.ts).
 */
import { closeSync, openSync, readFileSync, statSync, unlinkSync, writeSync } from 'node:fs'
import { join } from 'node:path'
import { LiveError } from '../protocol/result.js'

/** Tries at the lock before giving up (each lost to another process taking over a stale one; 2 ms apart). */
const MAX_ATTEMPTS = 500
/** A takeover file this old was left by a process that died while taking over (it holds it for microseconds). */
const TAKEOVER_STALE_MS = 10_000
const PAUSE = new Int32Array(new SharedArrayBuffer(4))

/** Lock files held by this process: its own pid in a lock it does not hold is a reused pid. */
const held = new Set<string>()

/** Whether a process with this pid is running (EPERM: it is, under another user). */
function alive (pid: number): boolean {
  try { process.kill(pid, 0); return true } catch (err) { return (err as { code?: string }).code === 'EPERM' }
}

/** The pid in a lock file, or null when it holds none (a holder torn before writing it). */
function holder (path: string): number | null {
  try {
    const pid = Number.parseInt(readFileSync(path, 'utf8').trim(), 10)
    return Number.isInteger(pid) && pid > 0 ? pid : null
  } catch { return null }
}

function createExclusive (path: string): boolean {
  let fd: number
  try { fd = openSync(path, 'wx', 0o644) } catch (err) {
    if ((err as { code?: string }).code === 'EEXIST') return false
    throw err
  }
  try { writeSync(fd, `${process.pid}\n`) } finally { closeSync(fd) }
  return true
}

function busy (dir: string, pid: number | null): LiveError {
  // No pid: a holder that crashed between creating the lock and writing it, or one starting now.
  const who = pid !== null ? ` (pid ${pid})` : ` (if none runs, remove ${join(dir, 'lock')})`
  return new LiveError('STATE_BUSY', `${dir} is in use by another broadcaster${who}: one broadcaster per state folder`)
}

/**
 * Takes DIR/lock, or throws STATE_BUSY when a live process holds it. Returns the release, which
 * also runs if the process exits without calling it (an uncaught error).
 */
export function lockStateFolder (dir: string): () => void {
  const path = join(dir, 'lock')
  for (let attempt = 0; !createExclusive(path); attempt++) {
    const pid = holder(path)
    const mine = pid === process.pid && held.has(path)
    if (pid === null || mine || (pid !== process.pid && alive(pid)) || attempt >= MAX_ATTEMPTS) throw busy(dir, pid)
    // Stale: its holder is gone. It is deleted under DIR/lock.takeover (created exclusively), after
    // checking under it that the lock still names the dead pid: a lock deleted by name without
    // that could be one another broadcaster had just taken over, and both would get in. Whoever
    // then creates the lock first has the folder.
    const takeover = `${path}.takeover`
    if (createExclusive(takeover)) {
      try { if (holder(path) === pid) unlinkSync(path) } finally { unlinkSync(takeover) }
    } else {
      // Another is taking over (or died doing so, in the microseconds it holds it: stale after TAKEOVER_STALE_MS).
      try { if (statSync(takeover).mtimeMs < Date.now() - TAKEOVER_STALE_MS) unlinkSync(takeover) } catch {}
      Atomics.wait(PAUSE, 0, 0, 2)
    }
  }
  held.add(path)
  const release = (): void => {
    process.removeListener('exit', release)
    if (!held.delete(path)) return
    // Only our own lock: never one another process took over meanwhile.
    if (holder(path) === process.pid) { try { unlinkSync(path) } catch {} }
  }
  process.once('exit', release)
  return release
}
