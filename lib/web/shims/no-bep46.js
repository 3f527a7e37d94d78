// lib/live/bep46.ts for the browser build: BEP 46 needs a DHT, which WebTorrent has only in Node.
// The broadcaster imports it only where the client has a DHT, so this is never called.
export function keepStreamPointer () {
  throw new Error('BEP 46 pointers are Node-only (WebTorrent has no DHT in browsers)')
}
