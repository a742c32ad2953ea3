// The proposer of one block, run by a client (gateway): client ops, acceptor replies and timeouts in; sends, timers
// and op completions out.
//
// Design note.
//
// Inputs (ProposerInput): submit(op) — an update (a pure function of the current content), a read (optionally "if
// newer than v") or a reconfiguration; message(reply) — promise, accepted, read-reply, nack, wrong-quorum from an
// acceptor; timeout(timer) — the timer of the last set-timer effect fired.
// Effects (effects.ts): send (to acceptors), set-timer (one per block; a newer one supersedes), complete (once per op).
// Nothing is persisted: a proposer's only duty after a restart is a fresh proposerId, so its ballots are new.
//
// State (ProposerState): the latest value known chosen (`known`, a cache: every decision re-checks it against a
// majority); the ballot it holds as leader (`leader`: phase 1 won on the current quorum); queued update ops; `mine`,
// its own value for the next version with the ops it carries; the write phase (idle | backoff | preparing |
// accepting); the read queue and read round (read.ts).
//
// Write path, per version (instance.ts):
//   - fast path: as leader, apply the queued ops in order to the known content (one batch → one value, signed by
//     codec.seal), send accept(ballot, value, previous = confirm of the known version) to the quorum; a phase-2
//     majority of accepted ⇒ chosen: complete the ops, confirm to the quorum (ref only to nodes that accepted it),
//     and go on with the next batch at the same ballot. One round trip per write, and all ops queued meanwhile share
//     the next one.
//   - otherwise (new proposer, preempted, quorum changed, finishing for a read): prepare(new ballot above everything
//     seen) → promises from a phase-1 majority → propose the highest-ballot accepted value for the next version if
//     any (finish), else our own unresolved value, else a new batch.
//   - preempted (nack 'ballot'/'ahead'): drop leadership and back off for a random, growing time (from Random).
//   - unanswered: resend to the silent members with growing intervals; op deadlines bound everything.
// Replay: each value is named by (version, origin ballot), and acceptors report, per proposer, the latest version it
// originated (OriginLog). Once the version our value was for is decided, its batch waits in `limbo` until some reply
// tells its fate: done if the chosen ref is ours; replayed on the newer value if not (a value can no longer be
// chosen once its version is decided, so a replay never applies an op twice); unknown only when every member of the
// quorum answered without being able to tell, or at the deadline. A limbo with no other traffic polls with a read
// round at most once per resend interval. An op whose function returns an error (Exists, NotFound, Conflict) rides
// along with the batch and fails when the batch is chosen, i.e. once the content it saw is proven current; if nothing
// in a batch changes anything, a fresh read proves it instead (a recheck).
//
// Invariants: one value per (ballot, version) from this proposer; `mine`, when set, is for version known + 1; every
// op is completed exactly once; an op completed `failed` had no effect.
import { unreachable } from '../base/assert.js';
import { ShoalError } from '../base/errors.js';
import { ZERO_BALLOT, type Ballot } from './ballot.js';
import type { ProposerEffect } from './effects.js';
import { catchUpLaggards, onAccepted, onNack, onPromise, onWrongQuorum, resendWrite, settleLimbo, startInstance } from './instance.js';
import type { AcceptorReply, BlockKey, Versioned } from './messages.js';
import { normalizeQuorum, type Quorum } from './quorum.js';
import { onReadReply, resendRead, startReadRound } from './read.js';
import {
  complete, DEFAULT_TIMING, knownVersion, timeoutError, type ClientOp, type Cx, type ProposerConfig, type ProposerEnv,
  type ProposerState,
} from './proposer-state.js';

export type {
  BlockCodec, ClientOp, ProposerConfig, ProposerEnv, ProposerState, ProposerTiming, UpdateFn,
} from './proposer-state.js';
export { DEFAULT_TIMING } from './proposer-state.js';

/**
 * What a driver feeds a block's proposer: a client op (its `id` comes back in the complete effect), a reply from an
 * acceptor (after parseConsensusMessage; replies for another block are ignored), or the timer of the latest
 * set-timer effect (an older timer id is ignored, so cancelling is optional).
 */
export type ProposerInput<R, T> =
  | { readonly kind: 'submit'; readonly op: ClientOp<T> }
  | { readonly kind: 'message'; readonly message: AcceptorReply<R> }
  | { readonly kind: 'timeout'; readonly timer: number };

export interface ProposerStepResult<R extends Versioned, T> {
  /** The same object as the input state, updated. */
  readonly state: ProposerState<R, T>;
  /** Sends (perform in any order; nothing to persist), at most one set-timer, and completions. */
  readonly effects: ProposerEffect<R, T>[];
}

/**
 * A proposer for `block`; `quorum` is placement's answer, used until a chosen value says otherwise. `usedBelow`: a
 * ballot at or above every ballot an earlier state of this proposerId may have used on the block (a driver that
 * drops idle states and makes them again must pass it, or a ballot could name two values). `firstReadId`: above every
 * read id an earlier state used, for the same reason: a late reply to its read must not count for a new one.
 */
export function createProposer<R extends Versioned, T>(
  config: ProposerConfig<R, T>, block: BlockKey, quorum: Quorum, usedBelow: Ballot = ZERO_BALLOT, firstReadId = 1,
): ProposerState<R, T> {
  return {
    config, block, timing: { ...DEFAULT_TIMING, ...config.timing }, initialQuorum: normalizeQuorum(quorum),
    known: undefined, learned: new Map(), highest: usedBelow, responsive: [], lagging: new Set(), laggardsAt: undefined, leader: undefined, queue: [], mine: undefined, limbo: [],
    write: { kind: 'idle' }, finishAt: undefined, attempts: 0,
    reads: { queue: [], round: undefined, retries: 0, retryAt: undefined, nextId: firstReadId },
    timer: undefined, nextTimerId: 1,
  };
}

export function proposerStep<R extends Versioned, T>(
  state: ProposerState<R, T>, input: ProposerInput<R, T>, env: ProposerEnv,
): ProposerStepResult<R, T> {
  const cx: Cx<R, T> = { s: state, env, out: [] };
  let fresh: number | undefined;
  switch (input.kind) {
    case 'submit':
      fresh = submit(cx, input.op);
      break;
    case 'message':
      if (input.message.block === state.block) receive(cx, input.message);
      break;
    case 'timeout':
      if (state.timer?.id !== input.timer) return { state, effects: [] }; // superseded
      state.timer = undefined;
      onTimeout(cx);
      break;
    default:
      unreachable(input);
  }
  kick(cx);
  rearm(cx, fresh);
  return { state, effects: cx.out };
}

/** True when nothing is queued or in flight: the driver may drop this state (keeping `known` as a cache if it likes). */
export function proposerIdle<R extends Versioned, T>(state: ProposerState<R, T>): boolean {
  return state.queue.length === 0 && state.laggardsAt === undefined && state.mine === undefined && state.limbo.length === 0 && state.write.kind === 'idle'
    && state.reads.queue.length === 0 && state.reads.round === undefined;
}

/** The latest value this proposer knows chosen, and its version (0: none). A cache, not a linearizable read. */
export function proposerKnown<R extends Versioned, T>(state: ProposerState<R, T>): { version: number; value: R | undefined } {
  return { version: knownVersion(state), value: state.known?.value };
}

/** Queues the op; returns its deadline (undefined when it completed at once). */
function submit<R extends Versioned, T>(cx: Cx<R, T>, op: ClientOp<T>): number | undefined {
  const { s, env } = cx;
  const deadline = env.now + (op.timeoutMs ?? s.timing.opTimeoutMs);
  if (op.kind === 'read') {
    const ifNewer = op.ifNewerThan === undefined ? {} : { ifNewerThan: op.ifNewerThan };
    s.reads.queue.push({ kind: 'read', id: op.id, ...ifNewer, deadline, done: false });
    return deadline;
  }
  if (op.kind === 'reconfigure') {
    try {
      normalizeQuorum(op.quorum);
    } catch (err) {
      complete(cx, op.id, { status: 'failed', error: err instanceof ShoalError ? err : new ShoalError('Invalid', String(err)) });
      return undefined;
    }
  }
  s.queue.push({ op, deadline, done: false });
  return deadline;
}

function receive<R extends Versioned, T>(cx: Cx<R, T>, m: AcceptorReply<R>): void {
  switch (m.kind) {
    case 'promise': return onPromise(cx, m);
    case 'accepted': return onAccepted(cx, m);
    case 'nack': return onNack(cx, m);
    case 'wrong-quorum': return onWrongQuorum(cx, m);
    case 'read-reply': return onReadReply(cx, m);
    default: unreachable(m);
  }
}

function onTimeout<R extends Versioned, T>(cx: Cx<R, T>): void {
  const { s, env } = cx;
  expire(cx);
  settleLimbo(cx);
  const w = s.write;
  if (w.kind === 'backoff' && w.until <= env.now) s.write = { kind: 'idle' };
  if ((w.kind === 'preparing' || w.kind === 'accepting') && w.resendAt <= env.now) resendWrite(cx);
  const round = s.reads.round;
  if (round !== undefined && round.resendAt <= env.now) resendRead(cx);
  if (s.laggardsAt !== undefined && s.laggardsAt <= env.now) catchUpLaggards(cx);
  if (s.reads.retryAt !== undefined && s.reads.retryAt <= env.now) s.reads.retryAt = undefined;
}

/** Completes every op whose deadline passed: `failed` if it never reached a value, `unknown` if its value is in flight. */
function expire<R extends Versioned, T>(cx: Cx<R, T>): void {
  const { s, env } = cx;
  const now = env.now;
  const late = (deadline: number): boolean => deadline <= now;
  s.queue = s.queue.filter((p) => {
    if (p.done) return false;
    if (!late(p.deadline)) return true;
    p.done = true;
    complete(cx, p.op.id, { status: 'failed', error: timeoutError('the op found no quorum before its deadline') });
    return false;
  });
  for (const op of [s.mine, ...s.limbo].flatMap((batch) => batch?.ops ?? [])) {
    if (op.pending.done || !late(op.pending.deadline)) continue;
    op.pending.done = true;
    complete(cx, op.pending.op.id, { status: 'unknown', error: timeoutError('the op was in flight at its deadline; it may or may not have taken effect') });
  }
  const waiters = [...s.reads.queue, ...(s.reads.round?.waiters ?? [])];
  for (const waiter of waiters) {
    if (waiter.kind === 'read') {
      if (waiter.done || !late(waiter.deadline)) continue;
      waiter.done = true;
      complete(cx, waiter.id, { status: 'failed', error: timeoutError('the read found no quorum before its deadline') });
    } else {
      for (const op of waiter.ops) {
        if (op.pending.done || !late(op.pending.deadline)) continue;
        op.pending.done = true;
        complete(cx, op.pending.op.id, { status: 'failed', error: timeoutError('the op was not confirmed before its deadline') });
      }
    }
  }
  s.reads.queue = s.reads.queue.filter((w) => (w.kind === 'read' ? !w.done : w.ops.some((op) => !op.pending.done)));
}

/** After every input: drop work nobody waits for, start the next instance or read round when one is due. */
function kick<R extends Versioned, T>(cx: Cx<R, T>): void {
  const { s } = cx;
  const readsWaiting = s.reads.queue.length > 0 || s.reads.round !== undefined;
  if (s.finishAt !== undefined && (knownVersion(s) >= s.finishAt || !readsWaiting)) s.finishAt = undefined;
  const mineLive = s.mine !== undefined && s.mine.ops.some((op) => !op.pending.done);
  const wanted = s.queue.length > 0 || mineLive || s.finishAt !== undefined;
  if (!wanted && s.write.kind !== 'idle') {
    // Nobody waits (every op of ours completed, as unknown if in flight): stop. Someone may still finish our
    // value; a fresh ballot next time keeps (ballot, version) naming one value.
    if (s.write.kind === 'accepting' || s.write.kind === 'preparing') s.leader = undefined;
    s.write = { kind: 'idle' };
  }
  if (!mineLive && s.write.kind !== 'accepting') s.mine = undefined;
  if (s.write.kind === 'idle' && wanted) startInstance(cx);
  startReadRound(cx);
}

/**
 * Keeps one timer armed at the earliest moment something is due (a resend, a backoff's end, a deadline). Op deadlines
 * never change and a timer is only ever replaced by an earlier one, so while a timer is armed it is at or before every
 * deadline it has seen: only `fresh`, the deadline of an op submitted in this step, can be earlier. The ops are walked
 * only once the timer has fired (or before the first), which keeps a step O(1) in the queue's length: a hot block
 * has thousands of ops queued, and every submit and every reply is a step.
 */
function rearm<R extends Versioned, T>(cx: Cx<R, T>, fresh: number | undefined): void {
  const { s, env } = cx;
  let at = Infinity;
  const w = s.write;
  if (w.kind === 'backoff') at = Math.min(at, w.until);
  if (w.kind === 'preparing' || w.kind === 'accepting') at = Math.min(at, w.resendAt);
  if (s.reads.round !== undefined) at = Math.min(at, s.reads.round.resendAt);
  if (s.laggardsAt !== undefined) at = Math.min(at, s.laggardsAt);
  if (s.reads.retryAt !== undefined && (s.reads.queue.length > 0 || s.limbo.length > 0)) at = Math.min(at, s.reads.retryAt);
  if (s.timer === undefined) at = Math.min(at, earliestDeadline(s));
  else if (fresh !== undefined) at = Math.min(at, fresh);
  if (at === Infinity || (s.timer !== undefined && s.timer.at <= at)) return;
  const timer = s.nextTimerId++;
  s.timer = { id: timer, at };
  cx.out.push({ kind: 'set-timer', block: s.block, timer, delayMs: Math.max(0, at - env.now) });
}

function earliestDeadline<R extends Versioned, T>(s: ProposerState<R, T>): number {
  let at = Infinity;
  for (const p of s.queue) if (!p.done) at = Math.min(at, p.deadline);
  for (const op of [s.mine, ...s.limbo].flatMap((batch) => batch?.ops ?? [])) if (!op.pending.done) at = Math.min(at, op.pending.deadline);
  for (const waiter of [...s.reads.queue, ...(s.reads.round?.waiters ?? [])]) {
    if (waiter.kind === 'read') { if (!waiter.done) at = Math.min(at, waiter.deadline); }
    else for (const op of waiter.ops) if (!op.pending.done) at = Math.min(at, op.pending.deadline);
  }
  return at;
}
