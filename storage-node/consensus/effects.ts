// What the pure cores ask their drivers to do: a closed union, run by the driver in the etcd order (persist, then send).
import type { ShoalError } from '../base/errors.js';
import type { AcceptorBlockState } from './acceptor.js';
import type { BlockKey, ConsensusMessage } from './messages.js';
import type { NodeId } from './quorum.js';

/**
 * Make this block's acceptor state durable (replacing the previous one). The driver must not perform any Send of
 * the same step, nor of any later step on this acceptor, before this state is on disk (LMDB: after the flush, not the
 * commit). Several persists of one block in a batch may be coalesced: the last one wins.
 */
export interface PersistEffect<R> {
  readonly kind: 'persist';
  readonly block: BlockKey;
  readonly state: AcceptorBlockState<R>;
}

/** Send a message; the transport may lose, duplicate or reorder it (the cores resend and deduplicate). */
export interface SendEffect<R> {
  readonly kind: 'send';
  readonly to: NodeId;
  readonly message: ConsensusMessage<R>;
}

/** A client operation is over: correlate by `op`, the id the driver gave in its submit input. Sent once per op. */
export interface CompleteEffect<T> {
  readonly kind: 'complete';
  readonly block: BlockKey;
  readonly op: OpId;
  readonly outcome: Outcome<T>;
}

/**
 * Deliver `{ kind: 'timeout', timer }` to this block's proposer after `delayMs`. A later set-timer of the same block
 * supersedes it: the core ignores a stale id, so the driver may cancel the older timer or let it fire.
 */
export interface SetTimerEffect {
  readonly kind: 'set-timer';
  readonly block: BlockKey;
  readonly timer: number;
  readonly delayMs: number;
}

export type Effect<R, T> = PersistEffect<R> | SendEffect<R> | CompleteEffect<T> | SetTimerEffect;
export type AcceptorEffect<R> = PersistEffect<R> | SendEffect<R>;
export type ProposerEffect<R, T> = SendEffect<R> | CompleteEffect<T> | SetTimerEffect;

/** The driver's correlation id for a client operation. */
export type OpId = number | string;

/**
 * - ok: an update took effect in `version` (`content` is the block's content right after this op), or a read saw
 *   `version` (0 and no content: the block does not exist).
 * - not-modified: a conditional read found nothing newer than the version it was given.
 * - failed: the op had no effect; `error` says why (Exists, NotFound, Conflict from the op itself; Forbidden, Invalid
 *   from the acceptors; Timeout when it never reached a proposal before its deadline).
 * - unknown: the op may or may not have taken effect (its value was in flight when the deadline passed, or the
 *   instance it was in was decided while this proposer was away). Retrying a non-idempotent op may apply it twice.
 */
export type Outcome<T> =
  | { readonly status: 'ok'; readonly version: number; readonly content: T | undefined }
  | { readonly status: 'not-modified'; readonly version: number }
  | { readonly status: 'failed'; readonly error: ShoalError }
  | { readonly status: 'unknown'; readonly error: ShoalError };
