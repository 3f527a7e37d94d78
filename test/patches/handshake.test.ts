import assert from 'node:assert/strict'
import { createDiffieHellman } from 'node:crypto'
import { MseDiffieHellman } from '../../patches/handshake.js'

/** bittorrent-protocol mse.js DH_PRIME (768 bits), generator 2. */
const MSE_PRIME = 'ffffffffffffffffc90fdaa22168c234c4c6628b80dc1cd129024e088a67cc74020bbea63b139b22514a08798e3404ddef9519b3cd3a431b302b0a6df25f14374fe1356d6d51c245e485b576625e7ec6f44c42e9a63a36210000000000090563'

describe('MSE handshake in BigInt (patches/handshake.ts)', () => {
  it("agrees with Node's DiffieHellman over the MSE prime, both ways, in 96 bytes", () => {
    for (let k = 0; k < 16; k++) { // each key's 40 windows of 4 bits: every table entry is used
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

  it("refuses the public keys Node's DiffieHellman refuses (0, 1, P − 1, P)", () => {
    const ours = new MseDiffieHellman()
    ours.generateKeys()
    const p = Buffer.from(MSE_PRIME, 'hex')
    const pMinus1 = Buffer.from(p)
    pMinus1[95] = pMinus1[95]! - 1
    const one = Buffer.alloc(96)
    one[95] = 1
    for (const y of [Buffer.alloc(96), one, pMinus1, p]) {
      assert.throws(() => ours.computeSecret(y), { code: 'ERR_CRYPTO_INVALID_KEYLEN' })
    }
  })
})
