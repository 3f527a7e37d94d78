/**
 * patches/check.ts checks exactly what patches/ uses: every patch file lists its private members
 * (REQUIRES), every underscore member a patch file touches is in those lists, the installed
 * WebTorrent meets them all, and a class that lacks one is refused with WEBTORRENT_INTERNALS.
 */
import assert from 'node:assert/strict'
import { readdirSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import WebTorrent from 'webtorrent'
import { REQUIREMENTS, checkClient, checkInternals, checkTorrentClass, checkReady } from '../../patches/check.js'
import { CLIENT_OPTS } from '../support/clients.js'

const dir = fileURLToPath(new URL('../../../patches/', import.meta.url))
/** Files that adapt nothing themselves (the check, the types, the index, the one-call wire facade). */
const NOT_ADAPTERS = new Set(['check.ts', 'types.ts', 'index.ts', 'wire.ts'])

describe('patches/check.ts', () => {
  it('every adapter file is in the check, with its REQUIRES list', () => {
    const adapters = readdirSync(dir).filter((f) => f.endsWith('.ts') && !NOT_ADAPTERS.has(f)).sort()
    assert.deepEqual(REQUIREMENTS.map(([f]) => f).sort(), adapters)
    for (const f of adapters) assert.match(readFileSync(join(dir, f), 'utf8'), /export const REQUIRES/, f)
  })

  it('every private member a patch touches is listed by that file', () => {
    for (const [file, list] of REQUIREMENTS) {
      const src = readFileSync(join(dir, file), 'utf8').replace(/export const REQUIRES[\s\S]*?\n\]\n/, '')
      const used = new Set([...src.matchAll(/\.(_[a-zA-Z]\w*)/g)].map((m) => m[1]!))
      const listed = new Set(list.flatMap((r) => [...r.path.split('.'), ...(r.match ? [...r.match.source.matchAll(/_[a-zA-Z]\w*/g)].map((m) => m[0]) : [])]))
      for (const m of used) assert.ok(listed.has(m), `patches/${file} uses ${m} but does not list it in REQUIRES`)
    }
  })

  it('the installed WebTorrent meets every requirement', () => {
    checkInternals()
  })

  it('a torrent class or a ready torrent lacking a member is refused, naming it', () => {
    class Bare {}
    assert.throws(() => checkTorrentClass(new Bare()), (e: Error & { code?: string }) => e.code === 'WEBTORRENT_INTERNALS' && /_checkDone/.test(e.message) && /torrent-progress\.ts/.test(e.message))
    assert.throws(() => checkReady({ pieces: [] }), (e: Error & { code?: string }) => e.code === 'WEBTORRENT_INTERNALS' && /_rarityMap/.test(e.message))
  })

  it('a client lacking what patches/ uses on it (its upload throttle) is refused, naming it', async () => {
    const client = new WebTorrent({ ...CLIENT_OPTS, torrentPort: 0 }) as unknown as { throttleGroups: { up: unknown }, destroy: (cb: () => void) => void }
    const up = client.throttleGroups.up
    client.throttleGroups.up = {}
    try {
      assert.throws(() => checkClient(client), (e: Error & { code?: string }) => e.code === 'WEBTORRENT_INTERNALS' && /client\.throttleGroups\.up\.getEnabled/.test(e.message) && /client-throttle\.ts/.test(e.message))
    } finally {
      client.throttleGroups.up = up
      await new Promise<void>((resolve) => client.destroy(() => resolve()))
    }
  })
})
