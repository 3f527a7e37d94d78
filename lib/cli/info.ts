/** `webtorrent-live info MAGNET_OR_TORRENT_FILE`: what a live stream is, from its first verified head. */
import type { LiveTorrentLike } from '../live/broadcaster.js'
import { enableLive, type LiveView } from '../live/enable.js'
import { toHex } from '../protocol/bytes.js'
import type { SignedHead } from '../protocol/head.js'
import { bool, int, list, parse, peerAddr, trackerUrl, UserError, type Spec } from './args.js'
import { atExit, connectPeers, destroyClient, exit, makeClient, Output, tempFolder, torrentId } from './common.js'
import { isNotLive, whenLive } from './live-check.js'
import { finalOf } from './watch.js'


export const INFO_USAGE = `usage: webtorrent-live info MAGNET_OR_TORRENT_FILE [options]

Joins the stream just long enough to verify its newest signed head, then prints the stream's key,
piece length, pieces and bytes so far, whether it is live or ended, and the final infohash.

  --peer HOST:PORT        connect to this peer (repeatable)
  --port PORT             TCP port (default: any free port)
  --announce URL          tracker (repeatable)
  --no-dht                only the peers and trackers named
  --timeout SECONDS       give up after this long without a head (default 30)
  --json                  one JSON object: {"event":"info", …}`

export const INFO_SPEC: Spec = {
  flags: { peer: 'list', port: 'string', announce: 'list', 'no-dht': 'bool', timeout: 'string', json: 'bool', quiet: 'bool', help: 'bool' },
  aliases: { q: 'quiet', h: 'help' },
  positionals: [1, 1],
  names: ['MAGNET_OR_TORRENT_FILE']
}

export async function runInfo (argv: string[]): Promise<void> {
  const p = parse(argv, INFO_SPEC)
  if (bool(p, 'help')) { process.stdout.write(INFO_USAGE + '\n'); return await exit(0) }
  const peers = list(p, 'peer').map(peerAddr)
  const announce = list(p, 'announce').map(trackerUrl)
  const port = int(p, 'port', 0, 65535) ?? 0
  const timeout = int(p, 'timeout', 1, 86400) ?? 30
  const id = torrentId(p.positionals[0]!)
  const out = new Output({ json: bool(p, 'json'), quiet: bool(p, 'quiet'), command: 'info' })
  const client = enableLive(await makeClient({ port, peers, announce, dht: !bool(p, 'no-dht') }))
  atExit(() => destroyClient(client))
  const dir = tempFolder('webtorrent-live-info-')
  let torrent: LiveTorrentLike
  try {
    torrent = client.add(id, { live: true, from: 'live', path: dir, announce }) as LiveTorrentLike
  } catch (err) {
    throw new UserError(`cannot add ${p.positionals[0]!}: ${(err as Error).message}`)
  }
  const live = torrent.live as LiveView
  connectPeers(torrent, peers)
  const head = await new Promise<SignedHead | null>((resolve, reject) => {
    const t = setTimeout(() => resolve(null), timeout * 1000)
    live.once('head', (h: SignedHead) => { clearTimeout(t); resolve(h) })
    const onErr = (err: Error): void => { clearTimeout(t); reject(new UserError(err.message.replace(/^[A-Z_]+: /, ''))) }
    // Not live: the same words as watch's (from whenLive), not the live layer's.
    whenLive(torrent).catch((err: Error) => { clearTimeout(t); reject(err) })
    live.on('error', (err: Error) => { if (!isNotLive(err)) onErr(err) })
    torrent.once('error', onErr)
    client.once('error', onErr)
  })
  const fields: Record<string, unknown> = {
    name: torrent.name ?? null,
    infoHash: torrent.infoHash,
    magnetURI: torrent.magnetURI,
    publicKey: live.publicKey ? toHex(live.publicKey) : null,
    pieceLength: live.info ? live.info.pieceLength : null
  }
  if (head) {
    Object.assign(fields, { pieces: head.count, bytes: head.length, ended: head.ended, live: !head.ended, time: head.time })
    if (head.ended) {
      const f = finalOf(torrent, head)
      Object.assign(fields, { finalInfoHash: f.infoHash, finalMagnetURI: f.magnetURI })
    }
  }
  if (out.json) out.event('info', fields)
  else {
    const lines: Array<[string, unknown]> = [
      ['name', fields.name], ['infohash', fields.infoHash], ['key', fields.publicKey], ['piece length', fields.pieceLength],
      ['pieces', head ? head.count : 'unknown'], ['bytes', head ? head.length : 'unknown'],
      ['state', head ? (head.ended ? 'ended' : 'live') : 'unknown'],
      ...(head ? [['last head', new Date(head.time).toISOString()] as [string, unknown]] : []),
      ...(head?.ended ? [['final infohash', fields.finalInfoHash], ['final magnet', fields.finalMagnetURI]] as Array<[string, unknown]> : [])
    ]
    process.stdout.write(lines.map(([k, v]) => `${(k + ':').padEnd(16)}${String(v ?? 'unknown')}`).join('\n') + '\n')
  }
  if (!head) {
    out.error(`no peer sent a head within ${timeout} s`)
    return await exit(1)
  }
  return await exit(0)
}
