// Limits with their units; relations between them are checked when the module loads.
import { assert } from './assert.js';

export const MiB = 1024 * 1024;

/** Largest content block (DESIGN §3): a chunk and its encryption overhead fit with room to spare. */
export const CONTENT_BLOCK_BYTES_MAX = 4 * MiB + 4096;
export const BLOCK_ADDRESS_BYTES = 32;
export const BLOCK_SALT_BYTES_MAX = 64;
export const OWNER_KEY_BYTES = 32;

/** One wire frame; a header claiming more closes the connection before anything is allocated. */
export const FRAME_BYTES_MAX = 16 * MiB;
/** A batch (multi-put) is cut so that it fits one frame. */
export const BATCH_BYTES_MAX = 12 * MiB;
export const BATCH_ITEMS_MAX = 1024;
/** Bytes of requests a connection keeps in flight before new requests wait (backpressure). */
export const CONNECTION_INFLIGHT_BYTES_MAX = 48 * MiB;
/** Requests a server runs at once per connection before it stops reading from that socket. */
export const SERVER_INFLIGHT_REQUESTS_MAX = 256;

export const REQUEST_TIMEOUT_MS_DEFAULT = 15_000;

assert(CONTENT_BLOCK_BYTES_MAX + 1024 <= BATCH_BYTES_MAX, 'one content block must fit a batch');
assert(BATCH_BYTES_MAX + 64 * 1024 <= FRAME_BYTES_MAX, 'a batch and its envelope must fit a frame');
assert(FRAME_BYTES_MAX <= CONNECTION_INFLIGHT_BYTES_MAX, 'a whole frame must be able to go in flight');
