/** An Ed25519 implementation. Keys: 32-byte seed (secret) and 32-byte public key; signatures 64 bytes. */
export interface Ed25519 {
  readonly name: string
  publicKey (seed: Uint8Array): Promise<Uint8Array>
  sign (seed: Uint8Array, message: Uint8Array): Promise<Uint8Array>
  /** Resolves false (never rejects) for a bad key, signature or message. */
  verify (publicKey: Uint8Array, message: Uint8Array, signature: Uint8Array): Promise<boolean>
}
