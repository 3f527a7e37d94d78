/**
 * Safe file names. A torrent's `name` becomes a file name on every receiver's disk, so a receiver
 * accepts only a name that is one plain file name on every common OS: it can never resolve outside
 * the download folder, name a device, or be silently rewritten by the file system.
 *
 * Rejected (spec §2, "name"):
 *   - empty, or more than MAX_NAME_BYTES bytes of UTF-8
 *   - `.` or `..`, or any name ending in `.` or space (Windows strips them: `x.` is `x`)
 *   - path separators `/` and `\`, and `:` (drive letters `C:x`, NTFS streams `x:y`)
 *   - control characters U+0000–U+001F and U+007F
 *   - `<`, `>`, `"`, `|`, `?`, `*` (not allowed in Windows file names)
 *   - Windows device names, any case, with or without an extension or trailing spaces before it:
 *     CON, PRN, AUX, NUL, COM0–COM9, LPT0–LPT9, and COM¹ COM² COM³ LPT¹ LPT² LPT³
 */
import { MAX_NAME_BYTES } from './constants.js'

const FORBIDDEN = /[/\\:<>"|?*\u0000-\u001f\u007f]/u
const DEVICE = /^(con|prn|aux|nul|com[0-9\u00b9\u00b2\u00b3]|lpt[0-9\u00b9\u00b2\u00b3]) *(\..*)?$/iu
const utf8 = new TextEncoder()

/** Why `name` is not a safe file name, or null when it is. */
export function unsafeNameReason (name: string): string | null {
  const bytes = utf8.encode(name).length
  if (bytes === 0 || bytes > MAX_NAME_BYTES) return `must be 1 to ${MAX_NAME_BYTES} bytes of UTF-8`
  const bad = FORBIDDEN.exec(name)
  if (bad) return `contains ${JSON.stringify(bad[0])}`
  if (name.endsWith('.') || name.endsWith(' ')) return 'ends with a dot or a space (or is . or ..)'
  if (DEVICE.test(name)) return 'is a reserved device name on Windows'
  return null
}

export function isSafeName (name: string): boolean {
  return unsafeNameReason(name) === null
}
