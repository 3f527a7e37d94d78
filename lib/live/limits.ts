/**
 * Every budget a peer's behaviour can drive, in one place, each with its reason. A peer decides
 * what it sends us; these decide what that may cost us (memory, loops, time) before it is cut off.
 * (The wire-level ones, REQQ / MAX_PEER_REQUESTS / PENDING_BITFIELD_MS / MAX_BLOCK_LENGTH, live
 * with the WebTorrent patches in patches/wire-*.ts; the protocol's own in lib/protocol/constants.ts.)
 */

// ---- bans (peer-policy.ts) -------------------------------------------------------------------

/** How long a peer that broke the protocol stays banned (its peer id and its address). */
export const BAN_MS = 10 * 60 * 1000
/** Bans remembered at most (peer ids and addresses); the oldest go first. Fresh peer ids are free. */
export const MAX_BANS = 4096
/**
 * A peer that is unchoking us, holds requests of ours and sends not one block for this long is
 * holding them: dropped and banned for TIMEOUT_BAN_MS (WebTorrent's own limit is 30 s).
 */
export const PIECE_TIMEOUT_MS = 10_000
export const TIMEOUT_BAN_MS = 60_000
/** A requester whose own upload queue needs this long to drain bans nobody for TIMEOUT (its REQUESTs wait in that queue). */
export const OWN_QUEUE_MS = 2000
/** A peer that served us before and then let our requests time out is asked only for what nobody else offers, this long. */
export const SLOW_PEER_MS = 10_000
/** After a peer REJECTs a request of ours (its uplink is full: upload-budget.ts), it is not asked again for this long. */
export const REJECTED_BACKOFF_MS = 150
/**
 * Each further REJECT in a row from the same peer (no block from it in between) doubles its
 * back-off, up to this. A peer whose upload limit cannot serve a block in time rejects every
 * request (upload-budget.ts, MAX_SERVE_MS): asked again every 150 ms, 50 viewers of a 16 kbit/s
 * stream spent more upload on REQUEST and REJECT than on pieces.
 */
export const MAX_REJECTED_BACKOFF_MS = 1000
/**
 * A viewer asks the broadcaster last (request-routing.ts): only for pieces no other peer it may ask
 * holds, until no piece has become its own for this long. Then the swarm is not serving it (a
 * holder that sits on our requests, or a scheduler that never asks it), and the broadcaster may
 * serve anything. Lab, 50 viewers at 55 connections: 1 s let the source serve whenever the
 * CPU-bound swarm paused (source 5.7–6.0×); 3 s keeps the cut (4.0–5.1× against 6.8–8.6×).
 */
export const LAST_RESORT_MS = 3000
/**
 * A holder that has held requests of ours this long without sending a byte does not keep the
 * broadcaster last (request-routing.ts): a peer that sits on requests stalled a viewer until it
 * was dropped (PIECE_TIMEOUT_MS, 10 s) instead of 0.4 s. Blocks come 0.4 / 0.64 s (p50 / p90)
 * after the request in the lab.
 */
export const HOLDER_STUCK_MS = 1500

// ---- claims: what a peer says it has, before it proves it (peer-policy.ts) ----------------------

/** A peer may announce (HAVE) pieces this far beyond our newest head: heads and HAVEs race. */
export const MAX_HAVE_AHEAD = 4096
/** A peer that claims (live_n, or an unverified head) more pieces than it proves in this time is banned. */
export const CLAIM_PROOF_MS = 30_000
/** Memory all unproved claims may take together (an honest 1M-piece stream claims 125 KB a peer). */
export const UNPROVEN_CLAIM_BYTES = 16 * 1024 * 1024

// ---- messages (extension.ts, peer.ts) --------------------------------------------------------

/** Per-peer budget: ut_live messages per second before the peer counts as flooding. */
export const MAX_MESSAGES_PER_SECOND = 500
/**
 * HASH_REQUESTs a peer gets answered with a page each second; beyond, HASH_REJECT (it asks
 * another peer). An 11-byte request draws a page of up to 10 KiB: at the message budget that was
 * 5 MB/s of our upload per wire. An honest catch-up asks a peer for a few pages a second (17 MiB/s
 * of 16 KiB pieces is 2 pages).
 */
export const MAX_PAGES_PER_SECOND = 64
/**
 * PUSH blocks are piece data and do not count against MAX_MESSAGES_PER_SECOND (a broadcaster
 * pushing a fast stream sends more blocks than that: it was banned for FLOOD); pushed pieces a peer
 * had or did not want do, against this budget (honest pushes race now and then, a flood does not).
 */
export const MAX_WASTED_PUSHES_PER_SECOND = 256
/**
 * A peer pushes at most this many pieces a second to one neighbour (HAVE for the rest): push saves
 * round trips at the live edge of a stream (64 × 16 KiB is 8 Mbit/s), not in a burst, where whole
 * pieces pushed ahead of their heads' checks are dropped anyway; and it keeps every honest pusher
 * far inside the receiver's MAX_WASTED_PUSHES_PER_SECOND (a loaded receiver drops many).
 */
export const MAX_PUSHES_PER_SECOND = 64

// ---- pushed pieces (push.ts) ------------------------------------------------------------------

/**
 * A piece may be pushed this far beyond our newest head or the pusher's claim (the count of its
 * HEAD that is still being checked, as for HAVE: peer-policy.ts).
 */
export const MAX_PUSH_AHEAD = 64
/** Whole pushed pieces per wire waiting for their HEAD to be checked; more are dropped (not blamed: a bulk publish). */
export const MAX_PUSH_UNPROVEN = 8
/** A piece pushed this far below our newest head is stale (our count raced ahead while it travelled): dropped unbuffered, not blamed. */
export const MAX_PUSH_BEHIND = 64
/** Pieces a wire may have partly pushed at once (an honest sender sends a piece's blocks back to back: 1). */
export const MAX_PUSH_PARTIALS = 2
/** A piece whose push has begun is not requested elsewhere for this long (ms), unless the push fails first. */
export const PUSH_WAIT_MS = 1000
/**
 * Bytes held in partly pushed pieces, all wires together. A pusher that sends a piece's first block
 * and stops holds a whole piece of ours (2 a wire, 1 MiB each at most): past this, a piece begun
 * is consumed but not kept (it is pulled instead), after dropping partials older than PUSH_STALE_MS.
 */
export const MAX_PUSH_BUFFERED_BYTES = 16 * 1024 * 1024
/** A partly pushed piece this old is stale: its buffer may be dropped to make room for another. */
export const PUSH_STALE_MS = 10_000
/** A viewer forwards a pushed piece only this close to the newest head (the live edge). */
export const FORWARD_EDGE = 2

// ---- hash pages (page-sync.ts) ----------------------------------------------------------------

/** A hash page not answered in this time is asked of another peer. */
export const PAGE_TIMEOUT_MS = 10_000
/** Hash pages asked for at once per gap (verified backwards as they link up; 10 KiB each kept early). */
export const PAGES_IN_FLIGHT = 8
/** After a HASH_REJECT or a timeout, the peer is asked again for those hashes after this long. */
export const PAGE_RETRY_MS = 1000
/** Timed-out page requests remembered per peer, so that their late answers are ignored (a busy honest peer answers late). */
export const MAX_LATE_PAGES = 64

// ---- corrupt pieces (smart-ban.ts) ------------------------------------------------------------

/** Failed pieces whose blocks' digests are kept until the piece verifies (smart ban). */
export const MAX_SUSPECT_PIECES = 1024
/** Blocks (or digests) kept per piece in flight: a piece has at most this many blocks we asked for. */
export const MAX_BLOCKS_PER_PIECE = 1024
/**
 * Pieces whose received blocks are kept until they verify or fail, at most (the oldest are
 * forgotten first): a piece that never completes (released below a window, the viewer gone past
 * it) would otherwise keep its blocks for the life of the torrent.
 */
export const MAX_PIECES_IN_FLIGHT = 4096

// ---- pieces on disk (selection.ts) ------------------------------------------------------------

/** A restarted viewer checks the pieces on its disk this many bytes at a time between other work. */
export const ADOPT_BYTES_PER_TURN = 16 * 1024 * 1024

// ---- connections (one-wire.ts) ----------------------------------------------------------------

/**
 * Two wires to one peer opened within this long of each other were dialled by both sides at once:
 * the one the lower peer id dialled is kept on both ends. Later, the newer wire is the duplicate.
 */
export const DUPLICATE_GRACE_MS = 2000
