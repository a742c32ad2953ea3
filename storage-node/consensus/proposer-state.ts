// The proposer's state, configuration and the small helpers its parts (instance, read, reconfigure) share.
import { isShoalError, ShoalError } from '../base/errors.js';
import type { Random } from '../base/random.js';
import type { Ballot } from './ballot.js';
import type { ChosenEntry } from './acceptor.js';
import type { OpId, Outcome, ProposerEffect } from './effects.js';
import type { AcceptorRequest, BlockKey, PromiseMessage, ReadReplyMessage, ValueRef, Versioned } from './messages.js';
import { majoritySizes, type NodeId, type PhaseSizes, type Quorum } from './quorum.js';

/** How client content (T) and consensus values (R, the block kind's signed records) relate; supplied by the driver. */
export interface BlockCodec<R extends Versioned, T> {
  /** The content of a chosen record (decode, decrypt). May throw ShoalError (e.g. Forbidden: cannot open it). */
  open(record: R): T;
  /** The next record: version previous.version + 1 (1 without a previous), `quorum`, signed. May throw ShoalError. */
  seal(previous: R | undefined, content: T, quorum: Quorum): R;
}

/** A client operation as a pure function of the current content: the new content, or why it no longer applies. */
export type UpdateFn<T> = (current: T | undefined) => T | ShoalError;

export type ClientOp<T> =
  | { readonly kind: 'update'; readonly id: OpId; readonly apply: UpdateFn<T>; readonly timeoutMs?: number }
  | { readonly kind: 'read'; readonly id: OpId; readonly ifNewerThan?: number; readonly timeoutMs?: number }
  /** `from`: the quorum the caller planned the move from; when the block has moved on since, the op fails with Conflict. */
  | { readonly kind: 'reconfigure'; readonly id: OpId; readonly quorum: Quorum; readonly from?: Quorum; readonly timeoutMs?: number };

export type WriteOp<T> = Extract<ClientOp<T>, { kind: 'update' | 'reconfigure' }>;

export interface ProposerTiming {
  /** First resend of an unanswered prepare, accept or read (a few round trips plus an fsync). */
  readonly resendMs: number;
  readonly resendMsMax: number;
  /** First wait after losing a ballot; doubles per loss up to the max, with jitter from Random. */
  readonly backoffMs: number;
  readonly backoffMsMax: number;
  /** Default deadline of an op that gives none. */
  readonly opTimeoutMs: number;
  /** A read that sees an unfinished value re-reads after this, `readRetries` times, before finishing it itself. */
  readonly readRetryMs: number;
  readonly readRetries: number;
  /**
   * Thrifty accepts: a value goes first to a phase-2-sized set of the quorum (the members that answered first last
   * time), and to the rest only if that set has not accepted it after this long.
   */
  readonly widenMs: number;
  /** Members left out of accepts learn the latest chosen value at most this long after falling behind. */
  readonly laggardMs: number;
}

export const DEFAULT_TIMING: ProposerTiming = {
  resendMs: 50, resendMsMax: 1000, backoffMs: 10, backoffMsMax: 500, opTimeoutMs: 15_000, readRetryMs: 10, readRetries: 2,
  widenMs: 10, laggardMs: 50,
};

export interface ProposerConfig<R extends Versioned, T> {
  /** This client's node id: acceptors reply to it. */
  readonly self: NodeId;
  /** Unique per proposer incarnation (e.g. node id + a random suffix from Entropy): ballots must never repeat. */
  readonly proposerId: string;
  readonly codec: BlockCodec<R, T>;
  readonly timing?: Partial<ProposerTiming>;
  /** Ops per instance (default 256). */
  readonly batchMax?: number;
  /**
   * Replies each phase needs (default: a majority for both). Safe only while phase1 + phase2 > quorum size; the
   * checker-can-fail test sets both to 1 to prove the checker sees the result.
   */
  readonly phaseSizes?: (quorum: Quorum) => PhaseSizes;
  /**
   * Send accepts to a phase-2-sized set first, the members that answered last time (default true): with R = 3 one
   * acceptor in three does no work per write (no validation, no flush) and catches up in batches, every laggardMs,
   * with states it writes without delaying any answer. On one machine's two cores and one disk that is one device
   * flush and one signature check fewer beside each write (measured: uncontended p50 1.38 against 1.61 ms). A
   * member that stays silent costs the first write after it widenMs.
   */
  readonly thrifty?: boolean;
}

export interface ProposerEnv {
  /** Monotonic milliseconds (Clock.now()). */
  readonly now: number;
  /** This proposer's own stream (Random.fork(proposerId)): jitter and backoff. */
  readonly random: Random;
}

export interface PendingWrite<T> {
  readonly op: WriteOp<T>;
  readonly deadline: number;
  /** Completed (timed out while in flight): kept for the accounting of its value, never completed twice. */
  done: boolean;
}

export type OpResult<T> = { readonly content: T } | { readonly error: ShoalError };

export interface BatchedOp<T> {
  readonly pending: PendingWrite<T>;
  readonly result: OpResult<T>;
}

export interface Proposal<R> {
  readonly version: number;
  readonly origin: Ballot;
  readonly value: R;
}

/** Our own value for one version, and the ops whose fate it carries. */
export interface Batch<R, T> {
  readonly proposal: Proposal<R>;
  readonly ops: BatchedOp<T>[];
  /** What an acceptor's origin log said about it, once one could tell. */
  fate?: 'chosen' | 'lost' | undefined;
  /** Members that answered after its version was decided without being able to tell. */
  readonly undecided: Set<NodeId>;
}

export type WritePhase<R> =
  | { readonly kind: 'idle' }
  | { readonly kind: 'backoff'; readonly until: number }
  | {
    readonly kind: 'preparing'; readonly ballot: Ballot; readonly quorum: Quorum;
    readonly promises: Map<NodeId, PromiseMessage<R>>; resendAt: number; resendMs: number;
  }
  | {
    readonly kind: 'accepting'; readonly ballot: Ballot; readonly quorum: Quorum; readonly proposal: Proposal<R>;
    readonly accepted: Set<NodeId>; readonly behind: Set<NodeId>; resendAt: number; resendMs: number;
  };

export type ReadWaiter<T> =
  | { readonly kind: 'read'; readonly id: OpId; readonly ifNewerThan?: number; readonly deadline: number; done: boolean }
  /** Ops that changed nothing (all failed): their errors stand only if a fresh read still sees their base version. */
  | { readonly kind: 'recheck'; readonly ops: BatchedOp<T>[]; readonly baseVersion: number };

export interface ReadRound<R, T> {
  readonly readId: number;
  readonly quorum: Quorum;
  readonly knownVersion: number;
  readonly replies: Map<NodeId, ReadReplyMessage<R>>;
  readonly waiters: ReadWaiter<T>[];
  resendAt: number;
  resendMs: number;
}

/**
 * One block's proposer. Owned by one driver and never persisted (a restarted client starts a new one with a new
 * proposerId), so proposerStep updates it in place and returns it rather than copying it per step.
 */
export interface ProposerState<R extends Versioned, T> {
  readonly config: ProposerConfig<R, T>;
  readonly timing: ProposerTiming;
  readonly block: BlockKey;
  /** The quorum to use while no chosen value is known (placement's answer, for a new block). */
  readonly initialQuorum: Quorum;
  /** The latest value known chosen. */
  known: ChosenEntry<R> | undefined;
  /** Origins of versions learned chosen (recent ones): the direct evidence of whether our value won. */
  readonly learned: Map<number, Ballot>;
  highest: Ballot;
  /** Members in the order they accepted the last value we saw chosen: the first ones get the next accept. */
  responsive: readonly NodeId[];
  /** Members that did not accept the latest value we saw chosen, and when they are sent it (laggardMs after). */
  readonly lagging: Set<NodeId>;
  laggardsAt: number | undefined;
  /** Phase 1 done at `ballot` on `quorum`: skip prepare until someone preempts us or the quorum changes. */
  leader: { readonly ballot: Ballot; readonly quorum: Quorum } | undefined;
  queue: PendingWrite<T>[];
  mine: Batch<R, T> | undefined;
  /** Our earlier values whose version is decided but whose fate no reply could tell yet. */
  limbo: Batch<R, T>[];
  write: WritePhase<R>;
  /** A read saw this version accepted but not chosen: finish it before reading again. */
  finishAt: number | undefined;
  attempts: number;
  readonly reads: { queue: ReadWaiter<T>[]; round: ReadRound<R, T> | undefined; retries: number; retryAt: number | undefined; nextId: number };
  timer: { readonly id: number; readonly at: number } | undefined;
  nextTimerId: number;
}

/** One step's context: the state, the environment and the effects gathered so far. */
export interface Cx<R extends Versioned, T> {
  readonly s: ProposerState<R, T>;
  readonly env: ProposerEnv;
  readonly out: ProposerEffect<R, T>[];
}

export const LEARNED_MAX = 64;

export function knownVersion<R extends Versioned, T>(s: ProposerState<R, T>): number {
  return s.known?.value.version ?? 0;
}

export function currentQuorum<R extends Versioned, T>(s: ProposerState<R, T>): Quorum {
  return s.known?.value.quorum ?? s.initialQuorum;
}

export function phaseSizes<R extends Versioned, T>(s: ProposerState<R, T>, quorum: Quorum): PhaseSizes {
  return s.config.phaseSizes?.(quorum) ?? majoritySizes(quorum);
}

export function send<R extends Versioned, T>(cx: Cx<R, T>, to: NodeId, message: AcceptorRequest<R>): void {
  cx.out.push({ kind: 'send', to, message });
}

export function complete<R extends Versioned, T>(cx: Cx<R, T>, op: OpId, outcome: Outcome<T>): void {
  cx.out.push({ kind: 'complete', block: cx.s.block, op, outcome });
}

/** ms scaled by a factor in [0.75, 1.25): spreads resends so that proposers do not move in lockstep. */
export function jitter<R extends Versioned, T>(cx: Cx<R, T>, ms: number): number {
  return Math.max(1, Math.round(ms * (0.75 + cx.env.random.float() / 2)));
}

/** Records a chosen ref; the first origin heard for a version stays (two would mean Paxos is broken). */
export function addLearned<R extends Versioned, T>(s: ProposerState<R, T>, ref: ValueRef): void {
  if (s.learned.has(ref.version)) return;
  s.learned.set(ref.version, ref.origin);
  if (s.learned.size > LEARNED_MAX) {
    let oldest = Infinity;
    for (const version of s.learned.keys()) oldest = Math.min(oldest, version);
    s.learned.delete(oldest);
  }
}

export function originAt<R extends Versioned, T>(s: ProposerState<R, T>, version: number): Ballot | undefined {
  return s.known !== undefined && s.known.value.version === version ? s.known.origin : s.learned.get(version);
}

/** Runs a codec or op callback: a ShoalError is an answer, anything else a bug that propagates. */
export function attempt<V>(run: () => V | ShoalError): V | ShoalError {
  try {
    return run();
  } catch (err) {
    if (isShoalError(err)) return err;
    throw err;
  }
}

export function timeoutError(what: string): ShoalError {
  return new ShoalError('Timeout', what, { subject: 'block' });
}
