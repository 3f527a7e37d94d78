// Minimal POSIX `path` for the browser build (WebTorrent uses join/basename/extname/dirname/resolve).
function normalizeArray (parts, absolute) {
  const out = []
  for (const p of parts) {
    if (!p || p === '.') continue
    if (p === '..') { if (out.length && out[out.length - 1] !== '..') out.pop(); else if (!absolute) out.push('..') } else out.push(p)
  }
  return out
}
export const sep = '/'
export const delimiter = ':'
export function normalize (p) {
  const abs = p.startsWith('/')
  const s = normalizeArray(p.split('/'), abs).join('/')
  return (abs ? '/' : '') + s || (abs ? '/' : '.')
}
export function join (...parts) { return normalize(parts.filter((x) => typeof x === 'string' && x.length).join('/') || '.') }
export function resolve (...parts) {
  let r = ''
  for (let i = parts.length - 1; i >= 0 && !r.startsWith('/'); i--) if (parts[i]) r = parts[i] + (r ? '/' + r : '')
  return normalize(r.startsWith('/') ? r : '/' + r)
}
export function isAbsolute (p) { return p.startsWith('/') }
export function basename (p, ext) {
  const b = p.replace(/\/+$/, '').split('/').pop() ?? ''
  return ext && b.endsWith(ext) && b !== ext ? b.slice(0, -ext.length) : b
}
export function dirname (p) {
  const s = p.replace(/\/+$/, '')
  const i = s.lastIndexOf('/')
  return i < 0 ? '.' : i === 0 ? '/' : s.slice(0, i)
}
export function extname (p) {
  const b = basename(p)
  const i = b.lastIndexOf('.')
  return i <= 0 ? '' : b.slice(i)
}
export function relative (from, to) {
  const a = resolve(from).split('/').filter(Boolean); const b = resolve(to).split('/').filter(Boolean)
  let i = 0
  while (i < a.length && i < b.length && a[i] === b[i]) i++
  return [...a.slice(i).map(() => '..'), ...b.slice(i)].join('/')
}
export const posix = { sep, delimiter, normalize, join, resolve, isAbsolute, basename, dirname, extname, relative }
export default posix
