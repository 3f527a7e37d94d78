/** Output files (lib/cli/out-file.ts): a fresh name beside an existing file, never a truncation without force. */
import assert from 'node:assert/strict'
import { mkdirSync, readFileSync, readdirSync, symlinkSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { numberedName, openOutput, writeNewFile } from '../../lib/cli/out-file.js'
import { cleanup, tempDir } from '../support/cli.js'

describe('cli: output files', function () {
  afterEach(cleanup)

  it('numbers names as browsers do, keeping the folder and the extension', () => {
    assert.equal(numberedName('show.ts', 1), 'show (1).ts')
    assert.equal(numberedName('/a/b/show.ts', 12), '/a/b/show (12).ts')
    assert.equal(numberedName('dir/archive.tar.gz', 2), 'dir/archive.tar (2).gz')
    assert.equal(numberedName('README', 1), 'README (1)')
    assert.equal(numberedName('.hidden', 1), '.hidden (1)')
  })

  it('takes the next free name (also past a symlink, dangling or not); force truncates; a folder is refused; a device is written as is', () => {
    const dir = tempDir()
    const p = join(dir, 'show.ts')
    const first = writeNewFile(p, Buffer.from('one'), false)
    assert.deepEqual(first, { path: p, renamedFrom: null })
    writeFileSync(join(dir, 'show (1).ts'), 'taken')
    symlinkSync(join(dir, 'nowhere'), join(dir, 'show (2).ts'))
    const second = writeNewFile(p, Buffer.from('two'), false)
    assert.equal(second.path, join(dir, 'show (3).ts'))
    assert.equal(second.renamedFrom, p)
    assert.equal(readFileSync(p, 'utf8'), 'one')
    assert.equal(readFileSync(join(dir, 'show (1).ts'), 'utf8'), 'taken')
    assert.ok(!readdirSync(dir).includes('nowhere'), 'the dangling link was not followed')
    assert.equal(readFileSync(second.path, 'utf8'), 'two')
    const forced = writeNewFile(p, Buffer.from('three'), true)
    assert.equal(forced.path, p)
    assert.equal(readFileSync(p, 'utf8'), 'three')
    mkdirSync(join(dir, 'folder'))
    assert.throws(() => openOutput(join(dir, 'folder'), false), /is a folder/)
    assert.throws(() => openOutput(join(dir, 'folder'), true), /is a folder/)
    assert.deepEqual(openOutput('/dev/null', false), { fd: null, path: '/dev/null', renamedFrom: null })
    assert.throws(() => openOutput(join(dir, 'no', 'such', 'x.ts'), false), /cannot write .*x\.ts: no such file/)
  })
})
