/** Every name, version and limit of ut_live version 1 lives here (see lib/protocol/ut_live.md). */

/** The BEP 10 extension name. This is the only place the string is written. */
export const EXTENSION_NAME = 'ut_live'

/** Protocol version carried in the info dict, the extended handshake and the signable bytes. */
export const PROTOCOL_VERSION = 1

/** Signature method named in the info dict. */
export const SIGNATURE_METHOD = 'ed25519'

export const PUBLIC_KEY_BYTES = 32
export const SIGNATURE_BYTES = 64
export const NONCE_BYTES = 16
export const INFOHASH_BYTES = 20
export const PIECE_HASH_BYTES = 20
export const CHAIN_BYTES = 32

/** Piece lengths: powers of two from 1 KiB (tests, tiny latency) to 16 MiB (BitTorrent practice). */
export const MIN_PIECE_LENGTH = 1024
export const MAX_PIECE_LENGTH = 16 * 1024 * 1024

/** A stream may hold at most this many pieces: the count is also a u64 on the wire, but peers allocate per piece. */
export const MAX_PIECES = 1 << 26 // 67 108 864 pieces: 1 TiB at 16 KiB, 20 GiB of stream per 1 GB of piece hashes
/** The largest `live.window` (pieces) a live info dict may carry: as many as a stream may hold. */
export const MAX_WINDOW = MAX_PIECES
/** Holding rule slack (spec §8): a peer may drop pieces below count − window − max(MIN, ceil(window / DIVISOR)). */
export const WINDOW_SLACK_MIN = 64
export const WINDOW_SLACK_DIVISOR = 32
/** Names are short UTF-8 strings. */
export const MAX_NAME_BYTES = 255

/** No ut_live message may exceed this: a WebRTC data channel delivers one message per send(). */
export const MAX_MESSAGE_BYTES = 16 * 1024
/** Hashes carried in a HEAD's tail: enough to follow the edge without a round trip. */
export const MAX_TAIL_HASHES = 64
/** Hashes in one HASHES page (1 + 8 + 2 + 32 + 512 * 20 = 10 283 bytes). */
export const MAX_PAGE_HASHES = 512

/** Message type bytes. The END announcement is a HEAD whose ended flag is set. */
export const MSG_HEAD = 0x01
export const MSG_HASH_REQUEST = 0x02
export const MSG_HASHES = 0x03
export const MSG_HASH_REJECT = 0x04
export const MSG_PUSH = 0x05

/**
 * PUSH (spec §7.9, limits §7.7): piece data sent unasked, in blocks of PUSH_BLOCK_BYTES (the last one shorter),
 * each a PUSH of a 13-byte header and the block: at most MAX_PUSH_MESSAGE_BYTES, exactly the bound
 * of BitTorrent's own PIECE message (16 KiB + 13), the only ut_live message above MAX_MESSAGE_BYTES.
 */
export const PUSH_BLOCK_BYTES = 16 * 1024
export const PUSH_HEADER_BYTES = 1 + 8 + 4
export const MAX_PUSH_MESSAGE_BYTES = PUSH_HEADER_BYTES + PUSH_BLOCK_BYTES
/** Pieces longer than this are never pushed (a receiver buffers a pushed piece whole before it verifies it). */
export const MAX_PUSH_PIECE_BYTES = 1024 * 1024
/** The extended-handshake key by which a peer says it accepts PUSH (§6). */
export const HANDSHAKE_PUSH_KEY = 'live_push'

/** Flags byte of a head. */
export const FLAG_ENDED = 0x01

/** Domain separation: the first bytes of every hashed or signed structure (ASCII, NUL-terminated). */
export const NAMESPACE_HEAD = 'ut_live/1/head\0'
export const NAMESPACE_CHAIN = 'ut_live/1/chain\0'
