/** The swarm lab's link shaper on real loopback sockets: bytes arrive intact, in order, no sooner than the delay. */
import assert from 'node:assert/strict'
import net from 'node:net'
import { createHash } from 'node:crypto'
import { Shaper } from '../../scripts/lab/shaper.js'
import { bytes, withTimeout } from '../support/clients.js'

describe('lab shaper', () => {
  let server: net.Server | null = null
  const sockets: net.Socket[] = []
  let shaper: Shaper | null = null
  afterEach(() => {
    for (const s of sockets.splice(0)) s.destroy()
    server?.close()
    server = null
    shaper?.close()
    shaper = null
  })

  async function pair (): Promise<{ a: net.Socket, b: net.Socket }> {
    const accepted = new Promise<net.Socket>((resolve) => { server = net.createServer(resolve) })
    await new Promise<void>((resolve) => server!.listen(0, '127.0.0.1', () => resolve()))
    const a = net.connect((server!.address() as net.AddressInfo).port, '127.0.0.1')
    const b = await accepted
    sockets.push(a, b)
    return { a, b }
  }

  function receive (s: net.Socket, length: number): Promise<{ buf: Buffer, firstAt: number }> {
    const parts: Buffer[] = []
    let got = 0
    let firstAt = 0
    return new Promise((resolve) => {
      s.on('data', (c: Buffer) => {
        if (!firstAt) firstAt = performance.now()
        parts.push(c)
        got += c.length
        if (got >= length) resolve({ buf: Buffer.concat(parts), firstAt })
      })
    })
  }

  it('delivers every byte in order through a capped, delayed, lossy uplink shared by two sockets', async () => {
    const p1 = await pair()
    const p2 = await pair()
    shaper = new Shaper({ uplink: () => 400_000, delay: () => 40, loss: 0.05 })
    shaper.attach(p1.a, 1, 2)
    shaper.attach(p2.a, 1, 3)
    const data1 = bytes(300_000, 3)
    const data2 = bytes(200_000, 4)
    const got1 = receive(p1.b, data1.length)
    const got2 = receive(p2.b, data2.length)
    const sentAt = performance.now()
    // Irregular writes, as a peer wire writes messages.
    for (const [sock, data] of [[p1.a, data1], [p2.a, data2]] as const) {
      for (let off = 0, k = 1; off < data.length; off += k * 997, k = (k % 23) + 1) sock.write(data.subarray(off, Math.min(data.length, off + k * 997)))
    }
    const [r1, r2] = await withTimeout(Promise.all([got1, got2]), 30_000, 'shaped bytes')
    assert.equal(createHash('sha256').update(r1.buf).digest('hex'), createHash('sha256').update(data1).digest('hex'))
    assert.equal(createHash('sha256').update(r2.buf).digest('hex'), createHash('sha256').update(data2).digest('hex'))
    // Only a lower bound: nothing arrives before the configured one-way delay.
    assert.ok(r1.firstAt - sentAt >= 40 - 1 && r2.firstAt - sentAt >= 40 - 1)
    assert.equal(shaper.counter(1).wireBytes, data1.length + data2.length)
  })

  it('end() waits for the queued bytes, then ends the socket', async () => {
    const { a, b } = await pair()
    shaper = new Shaper({ uplink: () => Infinity, delay: () => 30 })
    shaper.attach(a, 1, 2)
    const data = bytes(50_000, 9)
    const parts: Buffer[] = []
    b.on('data', (c: Buffer) => parts.push(c))
    const ended = new Promise<void>((resolve) => b.once('end', () => resolve()))
    a.write(data.subarray(0, 20_000))
    a.end(data.subarray(20_000))
    await withTimeout(ended, 10_000, 'end after the shaped bytes')
    assert.ok(Buffer.concat(parts).equals(data))
  })

  it('sndbuf: a write is taken at once into the send buffer; only what overflows it shows as writableLength', async () => {
    const { a, b } = await pair()
    shaper = new Shaper({ uplink: () => 50_000, delay: () => 20, sndbuf: 16_384 })
    shaper.attach(a, 1, 2)
    const data = bytes(40_000, 5)
    const got = receive(b, data.length)
    a.write(data)
    // 40 000 bytes written: all counted as written, and all but the 16 384 the buffer holds wait
    // (the uplink has sent at most one segment yet).
    assert.equal(a.bytesWritten, data.length)
    assert.ok(a.writableLength >= data.length - 16_384 - 1460 && a.writableLength <= data.length - 16_384, `writableLength ${a.writableLength}`)
    const r = await withTimeout(got, 10_000, 'shaped bytes')
    assert.ok(r.buf.equals(data))
    assert.equal(a.writableLength, 0)
  })
})
