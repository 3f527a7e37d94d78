#!/usr/bin/env node
// Project lint: the layering rules that keep webtorrent-live maintainable.
//  1. lib/protocol/ is pure: no Node built-ins, no WebTorrent, no imports from other layers.
//  2. Only patches/ touches WebTorrent's private members (torrent._x, wire._x, peerPieces internals).
//  3. The extension name 'ut_live' is written in exactly one place (lib/protocol/constants.ts).
//  4. No focused or skipped-by-accident tests (.only) and no debugger statements.
//  5. scripts/ and test/support/ import from lib/, patches/ or test/support/, never from test files.
//  6. lib/ reaches patches/ only through patches/index.ts (one door into the private members).
//  7. No file in lib/ or patches/ over MAX_LINES lines: one concept per file.
import { readdirSync, readFileSync, statSync } from 'node:fs'
import { join, relative } from 'node:path'

const root = new URL('..', import.meta.url).pathname
const problems = []
function walk (dir, out = []) {
  for (const name of readdirSync(dir)) {
    const p = join(dir, name)
    if (statSync(p).isDirectory()) walk(p, out)
    else if (p.endsWith('.ts') && !p.endsWith('.d.ts')) out.push(p)
  }
  return out
}
const files = ['lib', 'patches', 'test', 'scripts'].flatMap((d) => { try { return walk(join(root, d)) } catch { return [] } })
const PRIVATE = /\b(torrent|t|wire|w|client|this\.torrent|peer)\._(?!_)[a-zA-Z]+/g
const MAX_LINES = 400
for (const f of files) {
  const rel = relative(root, f)
  const src = readFileSync(f, 'utf8')
  const lines = src.split('\n')
  if ((rel.startsWith('lib/') || rel.startsWith('patches/')) && lines.length - 1 > MAX_LINES) problems.push(`${rel}: ${lines.length - 1} lines, over ${MAX_LINES}: split it by concept`)
  lines.forEach((line, i) => {
    const at = `${rel}:${i + 1}`
    if (rel.startsWith('lib/protocol/')) {
      if (/from ['"](node:|fs|path|crypto|events|stream|webtorrent|bittorrent-protocol)/.test(line)) problems.push(`${at}: lib/protocol must stay pure (${line.trim()})`)
      if (/from ['"]\.\.\//.test(line)) problems.push(`${at}: lib/protocol imports from another layer`)
    }
    if (rel.startsWith('lib/') && !rel.startsWith('lib/protocol/constants.ts') && /['"]ut_live['"]/.test(line) && !line.trim().startsWith('//') && !line.trim().startsWith('*')) {
      problems.push(`${at}: write EXTENSION_NAME, not the string 'ut_live'`)
    }
    if ((rel.startsWith('lib/')) && PRIVATE.test(line) && !/lint-allow-private/.test(line)) problems.push(`${at}: private WebTorrent member outside patches/ (${line.trim()})`)
    PRIVATE.lastIndex = 0
    const from = /^\s*(?:import|export)\b.*\bfrom ['"]([^'"]+)['"]/.exec(line)?.[1]
    if (from && (rel.startsWith('scripts/') || rel.startsWith('test/support/')) && from.startsWith('.')) {
      const target = relative(root, join(f, '..', from))
      if (target.startsWith('test/') && !target.startsWith('test/support/')) problems.push(`${at}: import test code from test/support/, not ${target}`)
    }
    if (from && rel.startsWith('lib/') && /\/patches\/(?!index\.js$)/.test(from)) problems.push(`${at}: import patches/ through patches/index.js (${from})`)
    if (/\b(describe|it)\.only\(/.test(line)) problems.push(`${at}: .only left in a test`)
    if (/^\s*debugger\b/.test(line)) problems.push(`${at}: debugger statement`)
  })
}
if (problems.length) {
  console.error(problems.join('\n'))
  console.error(`lint: ${problems.length} problem(s)`)
  process.exit(1)
}
console.log(`lint: ${files.length} files ok`)
