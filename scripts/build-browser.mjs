#!/usr/bin/env node
// Browser builds (esbuild), from the TypeScript sources:
//   dist/browser/webtorrent-live.js   the library as one ESM module for web apps that already bundle
//                                     WebTorrent: `webtorrent` (and `webtorrent/lib/*`, `bittorrent-protocol`)
//                                     stay external imports, resolved by the app's bundler to its own copy.
//   dist/browser/page.js              the demo page's app: WebTorrent's browser code + that bundle,
//                                     i.e. exactly what an existing WebTorrent web app would ship.
//   dist/browser/broadcast.js         the broadcast page's app (/broadcast: go live from a tab), built the same way.
// Prints each file's size (raw and gzip). `node scripts/build-browser.mjs [--quiet]`;
// also importable: `await buildBrowser({ quiet })` → { files: [{ file, bytes, gzip }] }.
import { build } from 'esbuild'
import { gzipSync } from 'node:zlib'
import { readFileSync, mkdirSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { join, relative } from 'node:path'

const root = fileURLToPath(new URL('..', import.meta.url))
const out = join(root, 'dist', 'browser')
const shims = join(root, 'lib', 'web', 'shims')

/** The browser side of package.json's `imports` and of the Node built-ins the code reaches. */
const browserResolve = {
  name: 'webtorrent-live-browser',
  setup (b) {
    const map = {
      '#native-ed25519': join(root, 'lib', 'crypto', 'native-web.ts'),
      '#default-store': join(root, 'lib', 'store', 'memory-store.ts'),
      '#broadcast-state': join(root, 'lib', 'live', 'broadcast-state-idb.ts'),
      'node:events': join(root, 'node_modules', 'bare-events', 'index.js'),
      events: join(root, 'node_modules', 'bare-events', 'index.js'),
      'node:stream': join(shims, 'stream.js'),
      'node:path': join(shims, 'path.js'),
      path: join(shims, 'path.js')
    }
    b.onResolve({ filter: /^(#native-ed25519|#default-store|#broadcast-state|node:events|events|node:stream|node:path|path)$/ }, (args) => ({ path: map[args.path] }))
    // BEP 46 (the broadcaster's DHT pointer) is Node-only: WebTorrent has no DHT in browsers.
    b.onResolve({ filter: /^\.\/bep46\.js$/ }, () => ({ path: join(shims, 'no-bep46.js') }))
    // elliptic's precomputed secp256k1 tables (25 KiB): webtorrent-live only uses its Ed25519 curve.
    b.onResolve({ filter: /precomputed\/secp256k1(\.js)?$/ }, () => ({ path: join(shims, 'empty.cjs') }))
    // Other Node built-ins are reached only by Node code paths (file stores, broadcaster state).
    b.onResolve({ filter: /^node:(fs|os|crypto|url|fs\/promises)$/ }, () => ({ path: join(shims, 'unavailable.cjs') }))
    // The page imports the library as an app would: from the built bundle, not from the sources.
    b.onResolve({ filter: /^(webtorrent-live|\.\.\/browser\.js)$/ }, (args) =>
      args.path === 'webtorrent-live' || args.importer.endsWith(join('web', 'page', 'app.ts')) || args.importer.endsWith(join('web', 'broadcast-page', 'app.ts')) ? { path: join(out, 'webtorrent-live.js') } : undefined)
  }
}

const common = {
  bundle: true,
  format: 'esm',
  platform: 'browser',
  target: ['chrome110', 'firefox115', 'safari16'],
  minify: true,
  sourcemap: true,
  legalComments: 'none',
  logLevel: 'warning',
  define: { global: 'globalThis', 'process.env.NODE_DEBUG': 'false' },
  plugins: [browserResolve]
}

export async function buildBrowser ({ quiet = false } = {}) {
  mkdirSync(out, { recursive: true })
  await build({
    ...common,
    entryPoints: [join(root, 'lib', 'web', 'browser.ts')],
    outfile: join(out, 'webtorrent-live.js'),
    external: ['webtorrent', 'webtorrent/*', 'bittorrent-protocol']
  })
  await build({
    ...common,
    entryPoints: [join(root, 'lib', 'web', 'page', 'app.ts')],
    outfile: join(out, 'page.js'),
    inject: [join(shims, 'process.js')]
  })
  await build({
    ...common,
    entryPoints: [join(root, 'lib', 'web', 'broadcast-page', 'app.ts')],
    outfile: join(out, 'broadcast.js'),
    inject: [join(shims, 'process.js')]
  })
  const files = ['webtorrent-live.js', 'page.js', 'broadcast.js'].map((f) => {
    const b = readFileSync(join(out, f))
    return { file: relative(root, join(out, f)), bytes: b.length, gzip: gzipSync(b, { level: 9 }).length }
  })
  if (!quiet) {
    for (const f of files) console.log(`${f.file}  ${(f.bytes / 1024).toFixed(1)} KiB  (${(f.gzip / 1024).toFixed(1)} KiB gzip)`)
  }
  return { files }
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  buildBrowser({ quiet: process.argv.includes('--quiet') }).catch((err) => { console.error(err.message ?? err); process.exit(1) })
}
