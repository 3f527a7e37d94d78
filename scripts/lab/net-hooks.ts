/**
 * Puts the lab's sockets under the shaper (scripts/lab/shaper.ts) without touching WebTorrent or the
 * library: several lab nodes (WebTorrent clients) share one process, so the lab must know, for each
 * TCP socket, which node sends on it and to whom.
 *
 * - Which node is running: every node's client is created, and every command on it run, inside
 *   `runAs(node, fn)` (an AsyncLocalStorage), so WebTorrent's own timers, sockets and callbacks
 *   carry the node they were created for.
 * - Outgoing connections (`net.connect`, which WebTorrent calls to dial a peer): the dialling node
 *   is the running one; the lab binds the socket to that node's own loopback address 127.77.x.y
 *   (`localAddress`), and the dialled node is found from the port it listens on (the lab's registry).
 * - Incoming connections (`net.createServer`, the client's listening socket): the accepting node is
 *   the one that created the server; the dialling node is read from the connection's source address.
 *
 * A socket the lab cannot attribute is left unshaped and counted (`unattributed`), and the lab
 * cross-checks each wire WebTorrent reports against the sockets it shaped (`checkWire`).
 */
import net from 'node:net'
import { AsyncLocalStorage } from 'node:async_hooks'
import { addressOf, nodeOfAddress } from './links.js'
import type { Shaper } from './shaper.js'

/* eslint-disable @typescript-eslint/no-explicit-any */

const als = new AsyncLocalStorage<number>()

export function runAs<T> (node: number, fn: () => T): T {
  return als.run(node, fn)
}

/** unattributed: peer sockets left unshaped; other: connections to non-lab ports (the tracker), never shaped. */
export const netStats = { shaped: 0, unattributed: 0, other: 0, wiresChecked: 0, wiresMismatched: 0, wiresDuplicate: 0 }

/** port a node listens on → node. */
const registry = new Map<number, number>()
/** `${local}>${remote}` → sockets the shaper attributed to that pair. */
const pairs = new Map<string, number>()

export function register (port: number, node: number): void {
  registry.set(port, node)
}

let installed: Shaper | null = null

function attach (shaper: Shaper, socket: net.Socket, local: number, remote: number): void {
  shaper.attach(socket, local, remote)
  netStats.shaped++
  const key = `${local}>${remote}`
  pairs.set(key, (pairs.get(key) ?? 0) + 1)
  socket.once('close', () => { const k = (pairs.get(key) ?? 1) - 1; if (k) pairs.set(key, k); else pairs.delete(key) })
}

export function installNetHooks (shaper: Shaper): void {
  if (installed) throw new Error('net hooks already installed')
  installed = shaper
  const connect = net.connect
  const createServer = net.createServer
  ;(net as any).connect = function (...args: any[]): net.Socket {
    const local = als.getStore()
    const o = args[0]
    if (local === undefined || typeof o !== 'object' || o === null || typeof o.port !== 'number' || args.length > 2) {
      return (connect as any).apply(net, args)
    }
    const remote = registry.get(o.port)
    if (remote === undefined) { netStats.other++; return (connect as any).apply(net, args) }
    const socket = (connect as any).call(net, { ...o, localAddress: addressOf(local) }, args[1]) as net.Socket
    attach(shaper, socket, local, remote)
    return socket
  }
  ;(net as any).createServer = function (...args: any[]): net.Server {
    const local = als.getStore()
    const server = (createServer as any).apply(net, args) as net.Server
    if (local !== undefined) {
      // Registered before the caller's own listener, so the socket is shaped before anyone writes.
      server.on('connection', (socket: net.Socket) => {
        const remote = nodeOfAddress(socket.remoteAddress)
        if (remote === undefined) { netStats.unattributed++; return }
        attach(shaper, socket, local, remote)
      })
    }
    return server
  }
}

/** Checks that a wire node `local` holds to `remote` runs over a socket shaped for that pair. */
export function checkWire (local: number, remote: number | undefined): void {
  netStats.wiresChecked++
  if (remote === undefined || !pairs.get(`${local}>${remote}`)) netStats.wiresMismatched++
}

export function nodeOfPort (port: number): number | undefined {
  return registry.get(port)
}
