// Linearizable reads from a majority of the block's quorum, finishing an accepted-but-unconfirmed value first.
//
// A read round asks every member for its chosen version and accepted value; reads queued before the round starts
// share it (a read is never served by a round that began before it was invoked). With replies from a phase-1-sized
// set (any such set meets every phase-2 majority), let C be the highest chosen version seen (the proposer learns
// the value if it lacks it):
//   - no reply holds an accepted C+1: nothing newer can have been chosen before the replies were taken (version
//     C+2 would need a majority holding chosen C+1; version C+1 a majority holding it accepted), so C is current.
//   - a phase-2 majority of replies holds the same C+1 at the same ballot: it is chosen; read it (and confirm it).
//   - otherwise C+1 may or may not be chosen, and answering either way could be contradicted by the next read. Wait
//     a little and read again (the writer is usually about to confirm it); after `readRetries` tries finish it
//     ourselves: the proposer runs phase 1 and re-proposes whatever it finds (finishAt), then the read starts over.
// If the proposer already knows a value newer than C (learned meanwhile), that value was chosen after the read
// began (C+1 was not yet chosen when the replies were taken) and is returned: it was current when it was chosen.
// A conditional read (ifNewerThan v) answers not-modified when the result's version is ≤ v.
import { assert } from '../base/assert.js';
import { isShoalError } from '../base/errors.js';
import { ballotText, type Ballot } from './ballot.js';
import type { ReadReplyMessage, Versioned } from './messages.js';
import { countMembers, type NodeId } from './quorum.js';
import { adoptKnown, learn, settle } from './instance.js';
import {
  attempt, complete, currentQuorum, jitter, knownVersion, phaseSizes, send, type Cx, type ReadRound, type ReadWaiter,
} from './proposer-state.js';

/** Starts a round for the queued reads (or limbo), unless one is running, a finish is pending or a re-read is waiting. */
export function startReadRound<R extends Versioned, T>(cx: Cx<R, T>): void {
  const { s, env } = cx;
  const reads = s.reads;
  if (reads.round !== undefined || (reads.queue.length === 0 && s.limbo.length === 0) || s.finishAt !== undefined) return;
  if (reads.retryAt !== undefined && reads.retryAt > env.now) return;
  // A round with no reader asks about our undecided values (replies carry origin logs): one per resend interval.
  reads.retryAt = reads.queue.length === 0 ? env.now + jitter(cx, s.timing.resendMs) : undefined;
  const round: ReadRound<R, T> = {
    readId: reads.nextId++, quorum: currentQuorum(s), knownVersion: knownVersion(s), replies: new Map(),
    waiters: reads.queue, resendAt: env.now + jitter(cx, s.timing.resendMs), resendMs: s.timing.resendMs,
  };
  reads.queue = [];
  reads.round = round;
  for (const to of round.quorum) sendRead(cx, round, to);
}

function sendRead<R extends Versioned, T>(cx: Cx<R, T>, round: ReadRound<R, T>, to: NodeId): void {
  const { s } = cx;
  send(cx, to, { kind: 'read', block: s.block, from: s.config.self, readId: round.readId, knownVersion: round.knownVersion });
}

export function onReadReply<R extends Versioned, T>(cx: Cx<R, T>, m: ReadReplyMessage<R>): void {
  learn(cx, m.from, m.chosen, m.origins); // may restart the round (a new quorum)
  const round = cx.s.reads.round;
  if (round === undefined || m.readId !== round.readId || !round.quorum.includes(m.from)) return;
  round.replies.set(m.from, m);
  if (countMembers(round.quorum, round.replies.keys()) >= phaseSizes(cx.s, round.quorum).phase1) decideRead(cx, round);
}

function decideRead<R extends Versioned, T>(cx: Cx<R, T>, round: ReadRound<R, T>): void {
  const { s, env } = cx;
  s.reads.round = undefined;
  let highest = 0;
  for (const reply of round.replies.values()) highest = Math.max(highest, reply.chosen?.version ?? 0);
  assert(knownVersion(s) >= highest, 'a reply newer than the round carries its value, and the proposer learned it');
  if (knownVersion(s) === highest && !settlePending(cx, round, highest + 1)) {
    s.reads.queue.unshift(...round.waiters);
    if (s.reads.retries < s.timing.readRetries) {
      s.reads.retries++;
      s.reads.retryAt = env.now + jitter(cx, s.timing.readRetryMs);
    } else {
      s.reads.retries = 0;
      s.finishAt = highest + 1;
    }
    return;
  }
  s.reads.retries = 0;
  for (const waiter of round.waiters) answer(cx, waiter);
}

/** True when no reply holds version `next` accepted, or a phase-2 majority holds one value at one ballot (chosen). */
function settlePending<R extends Versioned, T>(cx: Cx<R, T>, round: ReadRound<R, T>, next: number): boolean {
  const groups = new Map<string, { ballot: Ballot; origin: Ballot; value: R; holders: NodeId[] }>();
  for (const [from, reply] of round.replies) {
    const a = reply.accepted;
    if (a === undefined || a.value.version !== next) continue;
    const key = `${ballotText(a.ballot)}/${ballotText(a.origin)}`;
    const group = groups.get(key) ?? { ballot: a.ballot, origin: a.origin, value: a.value, holders: [] };
    group.holders.push(from);
    groups.set(key, group);
  }
  if (groups.size === 0) return true;
  const needed = phaseSizes(cx.s, round.quorum).phase2;
  for (const group of groups.values()) {
    if (countMembers(round.quorum, group.holders) < needed) continue;
    const { s } = cx;
    for (const to of round.quorum) {
      const chosen = group.holders.includes(to) ? { version: next, origin: group.origin } : { version: next, origin: group.origin, value: group.value };
      send(cx, to, { kind: 'confirm', block: s.block, from: s.config.self, chosen });
    }
    adoptKnown(cx, { origin: group.origin, value: group.value }, group.ballot);
    return true;
  }
  return false;
}

function answer<R extends Versioned, T>(cx: Cx<R, T>, waiter: ReadWaiter<T>): void {
  const { s } = cx;
  const version = knownVersion(s);
  if (waiter.kind === 'recheck') {
    const live = waiter.ops.filter((op) => !op.pending.done);
    if (version === waiter.baseVersion) for (const op of live) settle(cx, op, version);
    else s.queue.unshift(...live.map((op) => op.pending)); // the block moved on: replay on the newer value
    return;
  }
  if (waiter.done) return;
  waiter.done = true;
  if (waiter.ifNewerThan !== undefined && version <= waiter.ifNewerThan) {
    return complete(cx, waiter.id, { status: 'not-modified', version });
  }
  const value = s.known?.value;
  const content = value === undefined ? undefined : attempt(() => s.config.codec.open(value));
  if (isShoalError(content)) return complete(cx, waiter.id, { status: 'failed', error: content });
  complete(cx, waiter.id, { status: 'ok', version, content });
}

/** Resends the round's read to the members that have not answered, each time waiting longer. */
export function resendRead<R extends Versioned, T>(cx: Cx<R, T>): void {
  const { s, env } = cx;
  const round = s.reads.round;
  if (round === undefined) return;
  for (const to of round.quorum) if (!round.replies.has(to)) sendRead(cx, round, to);
  round.resendMs = Math.min(round.resendMs * 2, s.timing.resendMsMax);
  round.resendAt = env.now + jitter(cx, round.resendMs);
}
