import assert from 'node:assert/strict'
import { defaultName } from '../../lib/cli/broadcast-input.js'

describe('broadcast: the default name of a URL input', () => {
  it('is the last path segment, decoded, with separators replaced', () => {
    assert.equal(defaultName({ kind: 'url', url: 'http://127.0.0.1:8000/shows/show%20one.ts' }), 'show one.ts')
    assert.equal(defaultName({ kind: 'url', url: 'http://127.0.0.1:8000/x%2Fy%5Cz.ts' }), 'x_y_z.ts')
    assert.equal(defaultName({ kind: 'url', url: 'http://127.0.0.1:8000/' }), 'live.ts')
  })

  it('keeps a segment with broken %-escapes as it is written (it threw URIError before)', () => {
    assert.equal(defaultName({ kind: 'url', url: 'http://127.0.0.1:8000/live%E0%A4%A.ts' }), 'live%E0%A4%A.ts')
  })
})
