import assert from 'node:assert/strict'
import { ownTrackerUrl, withOwnTrackerUrls } from '../../lib/web/attach.js'

describe('a second client of one process reaches browsers (lib/web/attach)', () => {
  it('gives a WebSocket tracker URL of its own, and leaves other trackers as they are', () => {
    assert.equal(ownTrackerUrl('ws://127.0.0.1:8000', 'viewer'), 'ws://127.0.0.1:8000/?peer=viewer')
    assert.equal(ownTrackerUrl('wss://t.example/announce?x=1', 'v'), 'wss://t.example/announce?x=1&peer=v')
    assert.equal(ownTrackerUrl('http://127.0.0.1:8000/announce', 'viewer'), 'http://127.0.0.1:8000/announce')
    const m = 'magnet:?xt=urn:btih:0123456789abcdef0123456789abcdef01234567&dn=demo.mp4&tr=http%3A%2F%2F127.0.0.1%3A1%2Fannounce&tr=ws%3A%2F%2F127.0.0.1%3A2'
    assert.equal(withOwnTrackerUrls(m, 'viewer'),
      'magnet:?xt=urn:btih:0123456789abcdef0123456789abcdef01234567&dn=demo.mp4&tr=http%3A%2F%2F127.0.0.1%3A1%2Fannounce&tr=ws%3A%2F%2F127.0.0.1%3A2%2F%3Fpeer%3Dviewer')
  })
})
