/**
 * Strict Ed25519 in Chromium: the bundle's WebCrypto and elliptic verifiers reject every
 * strictEd25519 vector (spec §4.2). Chromium's own WebCrypto accepts most of them (small-order and
 * non-canonical keys, R the identity), which this test also records, so the pre-check is what
 * makes the browser agree with Node.
 */
import assert from 'node:assert/strict'
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { chromium } from 'playwright-core'
import { buildBundles, CHROMIUM, CHROMIUM_ARGS, Env, haveChromium } from './helpers.js'

/* eslint-disable @typescript-eslint/no-explicit-any */

interface StrictVector { description: string, rule: string, publicKey: string, message: string, signature: string, laxAccepts: boolean }
const root = new URL('../../../', import.meta.url).pathname
const V = (JSON.parse(readFileSync(join(root, 'test/vectors/ut_live-v1.json'), 'utf8')) as { strictEd25519: StrictVector[] }).strictEd25519

describe('browser: strict Ed25519 (WebCrypto and elliptic in Chromium)', function () {
  this.timeout(120_000)
  let env: Env | null = null
  before(async function () {
    if (!haveChromium()) this.skip()
    await buildBundles()
  })
  after(async () => { await env?.stop() })

  it('every vector is rejected by the bundle\'s verifiers, whatever raw WebCrypto says', async () => {
    env = new Env()
    await env.start()
    env.browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS })
    const server = await env.page({ magnetURI: '' })
    const page = await env.open(`${server.url}broadcast?state=strict`)
    const out = await page.evaluate(async (vectors: StrictVector[]) => {
      const { ed25519, ellipticEd25519 } = (window as any).wtl.signers
      const b = (h: string): Uint8Array<ArrayBuffer> => Uint8Array.from(h.match(/../g) ?? [], (x) => parseInt(x, 16))
      const native = await ed25519()
      const rows = []
      for (const v of vectors) {
        let raw: boolean | string
        try {
          const k = await crypto.subtle.importKey('raw', b(v.publicKey), { name: 'Ed25519' }, false, ['verify'])
          raw = await crypto.subtle.verify({ name: 'Ed25519' }, k, b(v.signature), b(v.message))
        } catch (e) { raw = String(e) }
        rows.push({
          rule: v.rule,
          raw,
          native: await native.verify(b(v.publicKey), b(v.message), b(v.signature)),
          elliptic: await ellipticEd25519.verify(b(v.publicKey), b(v.message), b(v.signature))
        })
      }
      return { name: native.name as string, rows }
    }, V)
    assert.equal(out.name, 'webcrypto')
    assert.equal(out.rows.length, V.length)
    out.rows.forEach((r, i) => {
      assert.equal(r.native, false, `webcrypto accepted: ${V[i]!.description}`)
      assert.equal(r.elliptic, false, `elliptic accepted: ${V[i]!.description}`)
    })
    const rawAccepts = out.rows.filter((r) => r.raw === true).map((r) => r.rule)
    console.log(`      raw Chromium WebCrypto accepts ${rawAccepts.length} of ${V.length} strict vectors (${[...new Set(rawAccepts)].join(', ')})`)
  })
})
