import assert from 'node:assert/strict'
import { createDiffieHellman } from 'node:crypto'
import { connect } from 'node:net'
import { MseDiffieHellman } from '../../patches/handshake.js'
import { broadcast } from '../../lib/index.js'
import { air, bytes, collect, destroyAll, join, makeClient, sleep, withTimeout } from '../support/clients.js'

/** bittorrent-protocol mse.js DH_PRIME (768 bits), generator 2. */
const MSE_PRIME = 'ffffffffffffffffc90fdaa22168c234c4c6628b80dc1cd129024e088a67cc74020bbea63b139b22514a08798e3404ddef9519b3cd3a431b302b0a6df25f14374fe1356d6d51c245e485b576625e7ec6f44c42e9a63a36210000000000090563'

describe('MSE handshake in BigInt (patches/handshake.ts)', () => {
  afterEach(destroyAll)

  it("agrees with Node's DiffieHellman over the MSE prime, both ways, in 96 bytes", () => {
    for (let k = 0; k < 16; k++) {
      const node = createDiffieHellman(MSE_PRIME, 'hex', 2)
      const nodePub = node.generateKeys()
      const ours = new MseDiffieHellman()
      const ourPub = ours.generateKeys()
      assert.equal(ourPub.length, 96)
      const s1 = ours.computeSecret(nodePub.length === 96 ? nodePub : Buffer.concat([Buffer.alloc(96 - nodePub.length), nodePub]))
      const s2 = node.computeSecret(ourPub)
      assert.equal(s1.length, 96)
      assert.deepEqual(Buffer.from(s1), s2)
    }
  })

  it('computes 2^X and Y^X exactly for edge exponents (top bit only, all ones, zero windows)', () => {
    const P = BigInt('0x' + MSE_PRIME)
    const plain = (b: bigint, e: bigint): bigint => { let r = 1n; b %= P; for (; e > 0n; e >>= 1n, b = b * b % P) if (e & 1n) r = r * b % P; return r }
    const big = (u: Uint8Array): bigint => BigInt('0x0' + Buffer.from(u).toString('hex'))
    const xs = [1n << 159n, (1n << 160n) - 1n, (1n << 159n) | 1n, (1n << 159n) | 0xf000000000000000000000000000000000fn]
    const ys = [2n, 3n, P - 2n, 1n << 767n]
    for (const x of xs) {
      const ours = new MseDiffieHellman()
      Object.defineProperty(ours, 'x', { value: x })
      assert.equal(big(ours.generateKeys()), plain(2n, x))
      for (const y of ys) {
        const s = ours.computeSecret(Buffer.from(y.toString(16).padStart(192, '0'), 'hex'))
        assert.equal(s.length, 96)
        assert.equal(big(s), plain(y, x))
      }
    }
  })

  it("answers the public keys Node's DiffieHellman refuses (0, 1, P − 1, P) with a random secret, never a throw", () => {
    const ours = new MseDiffieHellman()
    ours.generateKeys()
    const p = Buffer.from(MSE_PRIME, 'hex')
    const pMinus1 = Buffer.from(p)
    pMinus1[95] = pMinus1[95]! - 1
    const one = Buffer.alloc(96)
    one[95] = 1
    for (const y of [Buffer.alloc(96), one, pMinus1, p]) {
      const a = ours.computeSecret(y)
      const b = ours.computeSecret(y)
      assert.equal(a.length, 96)
      assert.notDeepEqual(a, b, 'a secret no one can guess, different each time')
    }
  })

  it('a peer that opens an encrypted handshake with the public key 0 (116 zero bytes) does not take the process down: the broadcast goes on byte-identical', async function () {
    this.timeout(60_000)
    const a = await makeClient()
    const bc = await broadcast(a, { name: 'mse-zero.bin', pieceLength: 16384 })
    const data = bytes(16384 * 8 + 3, 6)
    await air(bc, data.subarray(0, 16384 * 2))
    // Raw TCP: 96 bytes of key (0) and 20 of padding, where mse.js computes S = 0^X.
    const sock = connect(a.address().port, '127.0.0.1')
    sock.on('error', () => {})
    sock.write(Buffer.alloc(116))
    await sleep(1000) // mse.js has computed S from it (the old patch threw here: an uncaught error)
    sock.destroy()
    const v = await makeClient()
    const tv = join(v, bc.torrentFile, [a])
    const out = collect(tv.live.createReadStream())
    await air(bc, data.subarray(16384 * 2))
    await bc.end()
    assert.ok((await withTimeout(out, 30_000, 'viewer read')).equals(data), 'byte-identical')
  })
})
