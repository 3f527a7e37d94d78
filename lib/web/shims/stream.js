// `node:stream` for the browser build: streamx (WebTorrent's own stream library) with Node's
// Writable option signature (write(chunk, encoding, cb)) adapted.
import streamx from 'streamx'

export const Readable = streamx.Readable
export const Duplex = streamx.Duplex
export const Transform = streamx.Transform
export const PassThrough = streamx.PassThrough
export const pipeline = streamx.pipeline

export class Writable extends streamx.Writable {
  constructor (opts = {}) {
    const { write, final, destroy, ...rest } = opts
    super({
      ...rest,
      write: write ? (data, cb) => write(data, 'buffer', cb) : undefined,
      final: final ? (cb) => final(cb) : undefined,
      destroy: destroy ? (cb) => destroy(null, cb) : undefined
    })
  }
}
export default { Readable, Writable, Duplex, Transform, PassThrough, pipeline }
