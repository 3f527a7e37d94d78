/** `webtorrent-live keygen [--out FILE]`: a new Ed25519 stream key, written with mode 0600. */
import { existsSync, writeFileSync, chmodSync } from 'node:fs'
import { createKeyPair, encodeKeyFile } from '../live/keys.js'
import { toHex } from '../protocol/bytes.js'
import { bool, parse, str, UserError, type Spec } from './args.js'
import { exit, Output } from './common.js'

export const KEYGEN_USAGE = `usage: webtorrent-live keygen [--out FILE] [--force] [--json]

Writes a new Ed25519 key file (mode 0600; default ./webtorrent-live.key) for broadcast --key.
Whoever holds it can publish into every stream made with it: keep it secret.`

export const KEYGEN_SPEC: Spec = {
  flags: { out: 'string', force: 'bool', json: 'bool', quiet: 'bool', help: 'bool' },
  aliases: { q: 'quiet', h: 'help', o: 'out' },
  positionals: [0, 0]
}

export async function runKeygen (argv: string[]): Promise<void> {
  const p = parse(argv, KEYGEN_SPEC)
  if (bool(p, 'help')) { process.stdout.write(KEYGEN_USAGE + '\n'); return await exit(0) }
  const path = str(p, 'out') ?? 'webtorrent-live.key'
  if (existsSync(path) && !bool(p, 'force')) throw new UserError(`${path} exists; not overwriting a key (use --force)`)
  const out = new Output({ json: bool(p, 'json'), quiet: bool(p, 'quiet'), command: 'keygen' })
  const kp = await createKeyPair()
  try {
    writeFileSync(path, encodeKeyFile(kp), { mode: 0o600 })
    chmodSync(path, 0o600)
  } catch (err) {
    throw new UserError(`cannot write ${path}: ${(err as Error).message}`)
  }
  out.event('key', { path, publicKey: toHex(kp.publicKey) })
  out.info(`wrote ${path} (public key ${toHex(kp.publicKey)})`)
  return await exit(0)
}
