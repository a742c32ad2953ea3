// One Paxos instance (one version) as the proposer runs it: prepare, accept, choose; and what it learns on the way.
import { assert } from '../base/assert.js';
import { isShoalError, ShoalError } from '../base/errors.js';
import { ballotAbove, compareBallots, maxBallot, sameBallot, ZERO_BALLOT, type Ballot } from './ballot.js';
import type { ChosenEntry } from './acceptor.js';
import type {
  AcceptedMessage, ChosenInfo, NackMessage, OriginLog, PromiseMessage, Versioned, WrongQuorumMessage,
} from './messages.js';
import { originFate } from './messages.js';
import { countMembers, normalizeQuorum, sameQuorum, type NodeId, type Quorum } from './quorum.js';
import {
  addLearned, attempt, complete, currentQuorum, jitter, knownVersion, originAt, phaseSizes, send,
  type Batch, type BatchedOp, type Cx, type OpResult, type PendingWrite, type Proposal, type UpdateFn, type WritePhase,
} from './proposer-state.js';
import { catchUpConfirms } from './reconfigure.js';

type Accepting<R> = Extract<WritePhase<R>, { kind: 'accepting' }>;
type Preparing<R> = Extract<WritePhase<R>, { kind: 'preparing' }>;

/** Starts the next instance: straight to accept when we hold the ballot on this quorum (multi-Paxos), else prepare. */
export function startInstance<R extends Versioned, T>(cx: Cx<R, T>): void {
  const { s } = cx;
  const leader = s.leader;
  if (s.mine === undefined && s.finishAt === undefined && leader !== undefined && sameQuorum(leader.quorum, currentQuorum(s))) {
    proposeNew(cx, leader.ballot, leader.quorum);
  } else {
    prepare(cx);
  }
}

function prepare<R extends Versioned, T>(cx: Cx<R, T>): void {
  const { s, env } = cx;
  const quorum = currentQuorum(s);
  const ballot = ballotAbove(maxBallot(s.highest, s.leader?.ballot ?? ZERO_BALLOT), s.config.proposerId);
  s.highest = ballot;
  s.leader = undefined;
  const resendMs = s.timing.resendMs;
  s.write = { kind: 'preparing', ballot, quorum, promises: new Map(), resendAt: env.now + jitter(cx, resendMs), resendMs };
  for (const to of quorum) sendPrepare(cx, ballot, to);
}

function sendPrepare<R extends Versioned, T>(cx: Cx<R, T>, ballot: Ballot, to: NodeId): void {
  const { s } = cx;
  send(cx, to, { kind: 'prepare', block: s.block, from: s.config.self, ballot, knownVersion: knownVersion(s) });
}

export function onPromise<R extends Versioned, T>(cx: Cx<R, T>, m: PromiseMessage<R>): void {
  learn(cx, m.from, m.chosen, m.origins);
  const w = cx.s.write;
  if (w.kind !== 'preparing' || !sameBallot(w.ballot, m.ballot) || !w.quorum.includes(m.from)) return;
  w.promises.set(m.from, m);
  if (countMembers(w.quorum, w.promises.keys()) >= phaseSizes(cx.s, w.quorum).phase1) decidePhase1(cx, w);
}

/**
 * Phase 1 is done: no value below our ballot can be chosen for version known + 1 except the one accepted at the
 * highest ballot among the promises, which we must propose (finish). Failing that we re-propose our own unresolved
 * value (one value per version per proposer keeps op accounting exact), or a new batch.
 */
function decidePhase1<R extends Versioned, T>(cx: Cx<R, T>, w: Preparing<R>): void {
  const { s } = cx;
  s.leader = { ballot: w.ballot, quorum: w.quorum };
  const next = knownVersion(s) + 1;
  let pending: { ballot: Ballot; origin: Ballot; value: R } | undefined;
  for (const promise of w.promises.values()) {
    const a = promise.accepted;
    if (a !== undefined && a.value.version === next && (pending === undefined || compareBallots(a.ballot, pending.ballot) > 0)) pending = a;
  }
  if (pending !== undefined) return propose(cx, w.ballot, w.quorum, { version: next, origin: pending.origin, value: pending.value });
  if (s.finishAt !== undefined && s.finishAt <= next) s.finishAt = undefined; // nothing there to finish
  if (s.mine !== undefined) {
    assert(s.mine.proposal.version === next, 'an unresolved value of ours is always for the next version');
    return propose(cx, w.ballot, w.quorum, s.mine.proposal);
  }
  proposeNew(cx, w.ballot, w.quorum);
}

/** Builds a batch from the queue on the known value and proposes it; goes idle when there is nothing to change. */
function proposeNew<R extends Versioned, T>(cx: Cx<R, T>, ballot: Ballot, quorum: Quorum): void {
  const batch = buildBatch(cx, ballot);
  if (batch === undefined) {
    cx.s.write = { kind: 'idle' };
    return;
  }
  cx.s.mine = batch;
  propose(cx, ballot, quorum, batch.proposal);
}

function propose<R extends Versioned, T>(cx: Cx<R, T>, ballot: Ballot, quorum: Quorum, proposal: Proposal<R>): void {
  const { s, env } = cx;
  assert(proposal.version === knownVersion(s) + 1, 'a proposal is always for the version after the known one');
  const targets = acceptTargets(s, quorum);
  const thrifty = targets.length < quorum.length;
  // Thrifty: the first resend (to everyone still silent) comes after widenMs, the later ones as usual.
  const w: Accepting<R> = { kind: 'accepting', ballot, quorum, proposal, accepted: new Set(), behind: new Set(),
    resendAt: env.now + jitter(cx, thrifty ? s.timing.widenMs : s.timing.resendMs), resendMs: thrifty ? s.timing.resendMs / 2 : s.timing.resendMs };
  s.write = w;
  for (const to of targets) sendAccept(cx, w, to);
}

/** Who gets an accept first: all of the quorum, or (thrifty) a phase-2 set, quickest last time first. */
function acceptTargets<R extends Versioned, T>(s: Cx<R, T>['s'], quorum: Quorum): readonly NodeId[] {
  const needed = phaseSizes(s, quorum).phase2;
  if (s.config.thrifty === false || needed >= quorum.length) return quorum;
  const ordered = [...s.responsive.filter((id) => quorum.includes(id)), ...quorum.filter((id) => !s.responsive.includes(id))];
  return ordered.slice(0, needed);
}

/** Sends the latest chosen value to the members that were left out of the accepts since they last had it. */
export function catchUpLaggards<R extends Versioned, T>(cx: Cx<R, T>): void {
  const { s } = cx;
  s.laggardsAt = undefined;
  const known = s.known;
  if (known !== undefined) {
    const chosen = { version: known.value.version, origin: known.origin, value: known.value };
    for (const to of s.lagging) if (currentQuorum(s).includes(to)) send(cx, to, { kind: 'confirm', block: s.block, from: s.config.self, chosen });
  }
  s.lagging.clear();
}

function sendAccept<R extends Versioned, T>(cx: Cx<R, T>, w: Accepting<R>, to: NodeId): void {
  const { s } = cx;
  const known = s.known;
  // The previous version rides along as a confirm (a ref), and as a value for nodes that said they lack it.
  const previous: { previous?: ChosenInfo<R> } = known === undefined ? {} : {
    previous: w.behind.has(to) || s.lagging.has(to)
      ? { version: known.value.version, origin: known.origin, value: known.value }
      : { version: known.value.version, origin: known.origin },
  };
  const { origin, value } = w.proposal;
  send(cx, to, { kind: 'accept', block: s.block, from: s.config.self, ballot: w.ballot, origin, value, ...previous });
}

export function onAccepted<R extends Versioned, T>(cx: Cx<R, T>, m: AcceptedMessage): void {
  const w = cx.s.write;
  if (w.kind !== 'accepting' || !sameBallot(w.ballot, m.ballot) || !w.quorum.includes(m.from)) return;
  if (m.version !== w.proposal.version || !sameBallot(m.origin, w.proposal.origin)) return;
  w.accepted.add(m.from);
  if (countMembers(w.quorum, w.accepted) >= phaseSizes(cx.s, w.quorum).phase2) onChosen(cx, w);
}

/** A phase-2 majority accepted at our ballot: the value is chosen. Confirm it (async) and settle our ops. */
function onChosen<R extends Versioned, T>(cx: Cx<R, T>, w: Accepting<R>): void {
  const { s, env } = cx;
  const { version, origin, value } = w.proposal;
  const thrifty = s.config.thrifty !== false;
  for (const to of w.quorum) {
    if (w.accepted.has(to)) {
      send(cx, to, { kind: 'confirm', block: s.block, from: s.config.self, chosen: { version, origin } });
      s.lagging.delete(to);
    } else if (thrifty) {
      // Left out: it learns the value with the next accept it gets, or in laggardMs, whichever is first; one
      // validation and one write for many versions instead of one per version.
      s.lagging.add(to);
    } else {
      send(cx, to, { kind: 'confirm', block: s.block, from: s.config.self, chosen: { version, origin, value } });
    }
  }
  if (s.lagging.size > 0 && s.laggardsAt === undefined) s.laggardsAt = env.now + s.timing.laggardMs;
  s.responsive = [...w.accepted];
  s.write = { kind: 'idle' };
  s.attempts = 0;
  adoptKnown(cx, { origin, value }, w.ballot);
}

export function onNack<R extends Versioned, T>(cx: Cx<R, T>, m: NackMessage<R>): void {
  const { s } = cx;
  learn(cx, m.from, m.chosen, m.origins);
  s.highest = maxBallot(s.highest, m.highest);
  const w = s.write;
  if ((w.kind !== 'preparing' && w.kind !== 'accepting') || !sameBallot(w.ballot, m.ballot)) return;
  if (m.reason === 'ballot') return loseBallot(cx); // a higher promise stops every accept at this ballot
  // The other reasons are about one value: a leader keeps its ballot across versions, so a late refusal of the
  // value before this one must not be taken for a refusal of this one (its ops would fail although it is chosen).
  if (w.kind !== 'accepting' || m.refused === undefined || m.refused.version !== w.proposal.version
    || !sameBallot(m.refused.origin, w.proposal.origin)) return;
  switch (m.reason) {
    case 'ahead': // (what was decided is learned above, when the nack carried it; prepare to learn the rest)
      return loseBallot(cx);
    case 'behind':
      // Resend at once with the predecessor's value, but only the first time: a node that stays behind (its
      // catch-up refused) gets the timer's resends, not a ping-pong at network speed.
      if (s.known !== undefined && !w.behind.has(m.from)) {
        w.behind.add(m.from);
        sendAccept(cx, w, m.from);
      }
      return;
    case 'invalid': {
      const error = new ShoalError(m.error?.kind ?? 'Invalid', m.error?.message ?? 'refused by an acceptor', { subject: 'block' });
      // Unavailable: this acceptor cannot check the value yet, and others may have taken it. Only a refusal that
      // every node holding the predecessor would give proves that the value cannot be chosen.
      if (error.kind === 'Unavailable') {
        // Treat it as silence: the value goes at once to the members not asked yet.
        for (const to of w.quorum) if (to !== m.from && !w.accepted.has(to)) sendAccept(cx, w, to);
        return;
      }
      return refused(cx, w, error);
    }
  }
}

/** Preempted: forget the ballot and prepare again after a random, growing pause (dueling proposers separate). */
export function loseBallot<R extends Versioned, T>(cx: Cx<R, T>): void {
  const { s, env } = cx;
  s.leader = undefined;
  s.attempts++;
  const ceiling = Math.min(s.timing.backoffMsMax, s.timing.backoffMs * 2 ** Math.min(s.attempts, 20));
  s.write = { kind: 'backoff', until: env.now + Math.max(1, Math.round(ceiling * (0.5 + env.random.float() / 2))) };
}

/**
 * Validate refused the value for good (any kind but Unavailable). Every node holding the same predecessor gives the
 * same answer, so no node accepted it: our ops fail for good. A new ballot keeps (ballot, version) naming one value.
 */
function refused<R extends Versioned, T>(cx: Cx<R, T>, w: Accepting<R>, error: ShoalError): void {
  const { s } = cx;
  const mine = s.mine;
  if (mine === undefined || !sameBallot(mine.proposal.origin, w.proposal.origin)) return loseBallot(cx);
  for (const op of mine.ops) {
    if (op.pending.done) continue;
    op.pending.done = true;
    complete(cx, op.pending.op.id, { status: 'failed', error });
  }
  s.mine = undefined;
  s.leader = undefined;
  s.write = { kind: 'idle' };
}

export function onWrongQuorum<R extends Versioned, T>(cx: Cx<R, T>, m: WrongQuorumMessage<R>): void {
  const { s } = cx;
  learn(cx, m.from, m.chosen, m.origins);
  // A member of our quorum that still thinks it is out was removed and added back: send it the state.
  const known = s.known;
  if (known !== undefined && m.chosen.version < known.value.version && currentQuorum(s).includes(m.from)) {
    send(cx, m.from, { kind: 'confirm', block: s.block, from: s.config.self,
      chosen: { version: known.value.version, origin: known.origin, value: known.value } });
  }
}

/** Takes in what a reply from `from` says was chosen: evidence on our values' fate, and a newer value if it carries one. */
export function learn<R extends Versioned, T>(
  cx: Cx<R, T>, from: NodeId, info: ChosenInfo<R> | undefined, origins: OriginLog | undefined,
): void {
  const { s } = cx;
  if (info === undefined) return;
  addLearned(s, info);
  for (const batch of [s.mine, ...s.limbo]) if (batch !== undefined) noteFate(batch, from, info.version, origins);
  if (info.version > knownVersion(s) && info.value !== undefined && info.value.version === info.version) {
    adoptKnown(cx, { origin: info.origin, value: info.value }, undefined);
  }
  settleLimbo(cx);
}

function noteFate<R, T>(batch: Batch<R, T>, from: NodeId, chosenVersion: number, origins: OriginLog | undefined): void {
  if (batch.fate !== undefined || chosenVersion < batch.proposal.version) return;
  const fate = origins === undefined ? undefined : originFate(origins, chosenVersion, batch.proposal);
  if (fate === undefined) batch.undecided.add(from);
  else batch.fate = fate;
}

/**
 * A newer chosen value. `chosenAt` is the ballot we saw it chosen at; when it is not our leader ballot someone else
 * decided a version, so our ballot no longer rules. Whatever waited on older versions is settled or restarted.
 */
export function adoptKnown<R extends Versioned, T>(cx: Cx<R, T>, entry: ChosenEntry<R>, chosenAt: Ballot | undefined): void {
  const { s } = cx;
  const before = currentQuorum(s);
  s.known = entry;
  addLearned(s, { version: entry.value.version, origin: entry.origin });
  if (s.leader !== undefined && (chosenAt === undefined || !sameBallot(chosenAt, s.leader.ballot))) s.leader = undefined;
  resolveMine(cx);
  settleLimbo(cx);
  const quorumChanged = !sameQuorum(before, currentQuorum(s));
  const w = s.write;
  if (w.kind === 'accepting' && w.proposal.version <= entry.value.version && s.leader === undefined) {
    loseBallot(cx); // another proposer decided the version we were on: contention, so pause before preparing
  } else if ((w.kind === 'accepting' && w.proposal.version <= entry.value.version) || (w.kind === 'preparing' && quorumChanged)) {
    s.write = { kind: 'idle' };
  }
  if (quorumChanged) {
    // The new quorum runs the next instance: new phase 1 there, and its new members learn the state first.
    s.leader = undefined;
    for (const effect of catchUpConfirms(s.block, s.config.self, before, entry)) cx.out.push(effect);
    const round = s.reads.round;
    if (round !== undefined) {
      s.reads.queue.unshift(...round.waiters);
      s.reads.round = undefined;
    }
  }
}

/** Our value's version is decided: its fate is settled in settleLimbo, as soon as some reply can tell it. */
function resolveMine<R extends Versioned, T>(cx: Cx<R, T>): void {
  const { s } = cx;
  const mine = s.mine;
  if (mine === undefined || knownVersion(s) < mine.proposal.version) return;
  s.mine = undefined;
  s.limbo.push(mine);
}

/**
 * Settles the batches whose version is decided: done if the chosen ref is ours, replayed on the newer value if not
 * (a value can no longer be chosen once its version is decided, so a replay never applies an op twice), unknown
 * once every member of the quorum answered without being able to tell (or, in expire, at the deadline).
 */
export function settleLimbo<R extends Versioned, T>(cx: Cx<R, T>): void {
  const { s } = cx;
  const quorum = currentQuorum(s);
  s.limbo = s.limbo.filter((batch) => {
    const origin = originAt(s, batch.proposal.version);
    const fate = origin === undefined ? batch.fate : sameBallot(origin, batch.proposal.origin) ? 'chosen' : 'lost';
    const live = batch.ops.filter((op) => !op.pending.done);
    if (fate === 'chosen') {
      for (const op of live) settle(cx, op, batch.proposal.version);
    } else if (fate === 'lost') {
      s.queue.unshift(...live.map((op) => op.pending));
    } else if (live.length > 0 && countMembers(quorum, batch.undecided) < quorum.length) {
      return true;
    } else {
      const error = new ShoalError('Unavailable',
        `block ${s.block}: version ${batch.proposal.version} was decided out of sight; the op may or may not have taken effect`, { subject: 'block' });
      for (const op of live) {
        op.pending.done = true;
        complete(cx, op.pending.op.id, { status: 'unknown', error });
      }
    }
    return false;
  });
}

export function settle<R extends Versioned, T>(cx: Cx<R, T>, op: BatchedOp<T>, version: number): void {
  op.pending.done = true;
  complete(cx, op.pending.op.id, 'error' in op.result
    ? { status: 'failed', error: op.result.error }
    : { status: 'ok', version, content: op.result.content });
}

/**
 * Applies the queued ops in order to the known content. Ops that fail ride along with the others (their error
 * stands once the value they saw is confirmed latest by the choice); if none changes anything there is nothing
 * to propose, and their errors wait for a fresh read instead (a recheck).
 */
function buildBatch<R extends Versioned, T>(cx: Cx<R, T>, ballot: Ballot): Batch<R, T> | undefined {
  const { s } = cx;
  const base = s.known?.value;
  const version = knownVersion(s) + 1;
  const taken = s.queue.splice(0, s.config.batchMax ?? 256).filter((p) => !p.done);
  if (taken.length === 0) return undefined;
  const opened = base === undefined ? undefined : attempt(() => s.config.codec.open(base));
  if (isShoalError(opened)) return failAll(cx, taken, opened);
  let content = opened;
  let quorum = currentQuorum(s);
  let changed = false;
  const ops: BatchedOp<T>[] = [];
  for (const pending of taken) {
    let result: OpResult<T>;
    if (pending.op.kind === 'reconfigure') {
      const { quorum: wanted, from } = pending.op;
      const next = attempt(() => normalizeQuorum(wanted));
      if (content === undefined) result = { error: new ShoalError('NotFound', 'no block to move', { subject: 'block' }) };
      else if (isShoalError(next)) result = { error: next };
      else if (from !== undefined && !sameQuorum(normalizeQuorum(from), quorum)) {
        // Replayed on a block that moved meanwhile: the planned change may no longer be one member.
        result = { error: new ShoalError('Conflict', `the block's quorum is no longer the one the move was planned from`, { subject: 'block' }) };
      }
      else { quorum = next; changed = true; result = { content } }
    } else {
      const next = applyUpdate(pending.op.apply, content);
      if (isShoalError(next)) result = { error: next };
      else { content = next; changed = true; result = { content: next } }
    }
    ops.push({ pending, result });
  }
  if (!changed || content === undefined) {
    s.reads.queue.push({ kind: 'recheck', ops, baseVersion: version - 1 });
    return undefined;
  }
  const sealedContent = content;
  const value = attempt(() => s.config.codec.seal(base, sealedContent, quorum));
  if (isShoalError(value)) return failAll(cx, taken, value);
  assert(value.version === version && sameQuorum(value.quorum, quorum), 'codec.seal gives version previous + 1 and the quorum asked');
  return { proposal: { version, origin: ballot, value }, ops, undecided: new Set() };
}

/**
 * A caller's function that throws (a bug in it, not a refusal) fails its own op: the others in its batch go on, and
 * no op is left queued with nobody to complete it.
 */
function applyUpdate<T>(apply: UpdateFn<T>, content: T | undefined): T | ShoalError {
  try {
    return apply(content);
  } catch (err) {
    if (isShoalError(err)) return err;
    return new ShoalError('Invalid', `the update function threw: ${err instanceof Error ? err.message : String(err)}`, { subject: 'block', cause: err });
  }
}

function failAll<R extends Versioned, T>(cx: Cx<R, T>, taken: readonly PendingWrite<T>[], error: ShoalError): undefined {
  for (const pending of taken) {
    pending.done = true;
    complete(cx, pending.op.id, { status: 'failed', error });
  }
  return undefined;
}

/** Resends the current phase to the nodes that have not answered, each time waiting longer. */
export function resendWrite<R extends Versioned, T>(cx: Cx<R, T>): void {
  const { s, env } = cx;
  const w = s.write;
  if (w.kind !== 'preparing' && w.kind !== 'accepting') return;
  for (const to of w.quorum) {
    if (w.kind === 'preparing' && !w.promises.has(to)) sendPrepare(cx, w.ballot, to);
    if (w.kind === 'accepting' && !w.accepted.has(to)) sendAccept(cx, w, to);
  }
  w.resendMs = Math.min(w.resendMs * 2, s.timing.resendMsMax);
  w.resendAt = env.now + jitter(cx, w.resendMs);
}
