/**
 * A stream name of 248 bytes is valid (a file name takes 255): a windowed stream of that name is
 * aired by a window-only broadcaster and watched by a window-only viewer, both of which keep their
 * pieces in segment files under a folder named after the stream (file-store.ts segmentFolderName:
 * `NAME.segments` would be 257 bytes, too long for one file name, so a shorter one is derived).
 */
import assert from 'node:assert/strict'
import { readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { segmentFolderName } from '../../lib/store/file-store.js'
import { bytes } from '../support/clients.js'
import { Cli, cleanup, tempDir } from '../support/cli.js'

const PL = 16384

describe('cli: a windowed stream with a name of 248 bytes', function () {
  this.timeout(60_000)
  afterEach(cleanup)

  it('is aired and watched to the end, byte for byte', async () => {
    const name = 'é'.repeat(100) + 'a'.repeat(45) + '.ts' // 248 bytes in UTF-8
    assert.equal(Buffer.byteLength(name), 248)
    const folder = segmentFolderName(name)
    assert.ok(Buffer.byteLength(folder) <= 255 && folder.endsWith('.segments') && folder.startsWith('é'.repeat(64)), folder)
    assert.notEqual(segmentFolderName(name.slice(0, -4) + 'b.ts'), folder, 'another long name, another folder')
    assert.equal(segmentFolderName('show.ts'), 'show.ts.segments', 'short names keep the folder they always had')

    const dir = tempDir()
    const input = join(dir, 'in.ts')
    const data = bytes(PL * 20 + 77, 101) // within the window: a viewer from the start gets it all
    writeFileSync(input, data)
    const bc = new Cli(['broadcast', input, '--name', name, '--rate', '400k', '--window', '1M', '--no-archive', '--grace', '0', '--no-dht', '--json'])
    const ready = await bc.event('ready')
    const viewer = new Cli(['watch', ready.magnetURI, '--peer', `127.0.0.1:${String(ready.port)}`, '--no-dht', '--out', join(dir, 'out.ts'), '--json'])
    await viewer.exit(0, 60_000)
    assert.ok(readFileSync(join(dir, 'out.ts')).equals(data), viewer.describe())
    await bc.interrupt(0)
  })
})
