// The Paxos acceptor of one block on one node: a pure step from (state, request) to (state, persist + reply effects).
//
// Design note.
//
// State per block (AcceptorBlockState, immutable; the driver persists the whole object):
//   promised  the highest ballot promised; never decreases.
//   accepted  (ballot, origin, value) accepted for version chosen + 1, the instance in progress; dropped once that
//             version (or a later one) is known chosen.
//   chosen    (origin, value): the latest value this node knows chosen. Its `quorum` is the block's quorum for the
//             next instance, so the quorum lives in the state through the value (the brief's "quorum" field).
//   origins   per proposer, the latest chosen version it originated (OriginLog): how a proposer that missed versions
//             learns whether its value won.
//
// Each version is one Paxos instance; the promise covers every instance from chosen + 1 on (multi-Paxos).
//   prepare(b)           b ≥ promised: promise, reporting chosen (with its value only if newer than the proposer's) and
//                        accepted; else nack('ballot').
//   accept(b, origin, v) learn `previous` (a confirm of v.version − 1 riding along) first; then v.version must be
//                        chosen + 1 (else nack 'ahead' or 'behind'), b ≥ promised (else nack 'ballot'), and
//                        validate(chosen, v) must pass (else nack 'invalid' with the typed error); accept and reply.
//                        A nack of an accept names the value it refuses (`refused`: version and origin), since a
//                        leader's ballot spans many versions.
//   confirm(ref[, v])    adopt a newer chosen value: our own accepted value when the ref names it, else the value sent
//                        along, after validate. No reply.
//   read(knownVersion)   report chosen and accepted without changing anything.
// A node outside its chosen value's quorum answers every request with wrong-quorum (the quorum and the chosen value),
// but still learns confirms, so that a node added back later can catch up.
//
// Invariants (the simulator checks the first two across all nodes):
//   - At most one value is chosen per version: accept needs chosen = version − 1, and a promise from a node that has
//     not accepted version k+1 is a promise for instance k+1, so phase 1 in any majority sees every value that could
//     have been chosen for the next version (the usual Paxos argument, per instance).
//   - An acceptor takes part in instance k+1 only once it holds chosen k, so it validates against the exact
//     predecessor and, after a reconfiguration, new members cannot act before they learn the state (reconfigure.ts).
//   - promised ≥ accepted.ballot; accepted.value.version = chosen.version + 1; chosen.version never decreases.
//   - Nothing is sent before the state it reports is durable: the driver's rule for Persist (effects.ts).
import { ShoalError, type ErrorKind } from '../base/errors.js';
import { assert, unreachable } from '../base/assert.js';
import { compareBallots, maxBallot, sameBallot, ZERO_BALLOT, type Ballot } from './ballot.js';
import type { AcceptorEffect } from './effects.js';
import {
  EMPTY_ORIGINS, ORIGINS_MAX, type AcceptMessage, type BlockKey, type AcceptorReply, type AcceptorRequest, type ChosenInfo,
  type NackMessage, type NackReason, type OriginLog, type PrepareMessage, type ValueRef, type Versioned,
} from './messages.js';
import type { NodeId, Quorum } from './quorum.js';

export interface AcceptedEntry<R> {
  readonly ballot: Ballot;
  readonly origin: Ballot;
  readonly value: R;
}

export interface ChosenEntry<R> {
  readonly origin: Ballot;
  readonly value: R;
}

export interface AcceptorBlockState<R> {
  readonly promised: Ballot;
  readonly accepted?: AcceptedEntry<R>;
  readonly chosen?: ChosenEntry<R>;
  readonly origins: OriginLog;
}

/**
 * The block kind's check of a value before this node accepts or adopts it: `block` is the key the value is filed
 * under (the kind checks that the value belongs to it), `current` this node's chosen value (undefined before the
 * first), `next` the candidate. For accepts next.version = current.version + 1 always; a confirm
 * that catches a lagging node up may skip versions, and then the kind must check `next` on its own. Must be
 * deterministic (every node holding the same `current` gives the same answer), except for refusals of kind
 * Unavailable: "cannot check this here yet", which proposers do not take as final.
 */
export type Validate<R> = (block: BlockKey, current: R | undefined, next: R) => ShoalError | undefined;

export interface AcceptorContext<R> {
  /** This node's id, as it appears in quorums. */
  readonly self: NodeId;
  readonly validate: Validate<R>;
  /** How many proposers the origin log remembers (default 8, at most ORIGINS_MAX). */
  readonly originsMax?: number;
}

export interface AcceptorStepResult<R> {
  /** Undefined only when the block was unknown and still is (a read or a refused request). */
  readonly state: AcceptorBlockState<R> | undefined;
  /** A persist (first, when the state changed), then at most one reply. */
  readonly effects: AcceptorEffect<R>[];
}

export const ORIGINS_DEFAULT = 8;

const EMPTY: AcceptorBlockState<never> = { promised: ZERO_BALLOT, origins: EMPTY_ORIGINS };

export function chosenVersion<R extends Versioned>(state: AcceptorBlockState<R> | undefined): number {
  return state?.chosen?.value.version ?? 0;
}

/** The quorum this node knows for the block (from its chosen value); undefined before the first version. */
export function acceptorQuorum<R extends Versioned>(state: AcceptorBlockState<R> | undefined): Quorum | undefined {
  return state?.chosen?.value.quorum;
}

export function acceptorStep<R extends Versioned>(
  ctx: AcceptorContext<R>, current: AcceptorBlockState<R> | undefined, message: AcceptorRequest<R>,
): AcceptorStepResult<R> {
  const before: AcceptorBlockState<R> = current ?? EMPTY;
  const effects: AcceptorEffect<R>[] = [];
  const reply = (m: AcceptorReply<R>): void => void effects.push({ kind: 'send', to: message.from, message: m });
  let state = before;
  switch (message.kind) {
    case 'confirm':
      state = learnChosen(ctx, message.block, before, message.chosen);
      break;
    case 'prepare':
      state = onPrepare(ctx, before, message, reply);
      break;
    case 'accept':
      state = onAccept(ctx, before, message, reply);
      break;
    case 'read':
      if (isOutside(ctx, before)) reply(wrongQuorum(ctx, before, message.block, message.knownVersion));
      else {
        reply({ kind: 'read-reply', block: message.block, from: ctx.self, readId: message.readId,
          ...chosenField(before, message.knownVersion), ...acceptedField(before), origins: before.origins });
      }
      break;
    default:
      unreachable(message);
  }
  if (state !== before) effects.unshift({ kind: 'persist', block: message.block, state });
  return { state: state === EMPTY ? current : state, effects };
}

function onPrepare<R extends Versioned>(
  ctx: AcceptorContext<R>, s: AcceptorBlockState<R>, m: PrepareMessage, reply: (m: AcceptorReply<R>) => void,
): AcceptorBlockState<R> {
  if (isOutside(ctx, s)) {
    reply(wrongQuorum(ctx, s, m.block, m.knownVersion));
    return s;
  }
  const order = compareBallots(m.ballot, s.promised);
  if (order < 0) {
    reply(nack(ctx, s, m.block, m.ballot, 'ballot', m.knownVersion));
    return s;
  }
  const next = order > 0 ? { ...s, promised: m.ballot } : s;
  reply({ kind: 'promise', block: m.block, from: ctx.self, ballot: m.ballot,
    ...chosenField(next, m.knownVersion), ...acceptedField(next), origins: next.origins });
  return next;
}

function onAccept<R extends Versioned>(
  ctx: AcceptorContext<R>, s0: AcceptorBlockState<R>, m: AcceptMessage<R>, reply: (m: AcceptorReply<R>) => void,
): AcceptorBlockState<R> {
  const s = m.previous === undefined ? s0 : learnChosen(ctx, m.block, s0, m.previous);
  const version = m.value.version;
  const known = version - 1;
  if (isOutside(ctx, s)) {
    reply(wrongQuorum(ctx, s, m.block, known));
    return s;
  }
  const refused: ValueRef = { version, origin: m.origin };
  if (compareBallots(m.ballot, s.promised) < 0) {
    reply(nack(ctx, s, m.block, m.ballot, 'ballot', known, refused));
    return s;
  }
  const accepted = (): void => reply({ kind: 'accepted', block: m.block, from: ctx.self, ballot: m.ballot, version, origin: m.origin });
  const cv = chosenVersion(s);
  if (version <= cv) {
    // Decided already: say yes only to the value that was chosen, so the proposer's count stays true.
    if (version === cv && s.chosen !== undefined && sameBallot(s.chosen.origin, m.origin)) accepted();
    else reply(nack(ctx, s, m.block, m.ballot, 'ahead', known, refused));
    return s;
  }
  if (version > cv + 1) {
    reply(nack(ctx, s, m.block, m.ballot, 'behind', known, refused));
    return s;
  }
  if (s.accepted !== undefined && sameBallot(s.accepted.ballot, m.ballot) && sameBallot(s.accepted.origin, m.origin)) {
    accepted(); // a duplicate: already accepted (and persisted, or pending in the same flush)
    return s;
  }
  const error = version === 1 && !m.value.quorum.includes(ctx.self)
    ? new ShoalError('Invalid', `node ${ctx.self} is not in the quorum of the block's first version`, { subject: 'block' })
    : ctx.validate(m.block, s.chosen?.value, m.value);
  if (error !== undefined) {
    reply(nack(ctx, s, m.block, m.ballot, 'invalid', known, refused, error));
    return s;
  }
  accepted();
  return { ...s, promised: maxBallot(s.promised, m.ballot), accepted: { ballot: m.ballot, origin: m.origin, value: m.value } };
}

/** Adopts a newer chosen value, if it can be trusted: our own accepted value, or one that passes validate. */
export function learnChosen<R extends Versioned>(
  ctx: AcceptorContext<R>, block: BlockKey, s: AcceptorBlockState<R>, info: ChosenInfo<R>,
): AcceptorBlockState<R> {
  if (info.version <= chosenVersion(s)) return s;
  let value: R;
  if (s.accepted !== undefined && s.accepted.value.version === info.version && sameBallot(s.accepted.origin, info.origin)) {
    value = s.accepted.value; // validated when accepted; equal origins name equal values
  } else if (info.value !== undefined && info.value.version === info.version) {
    if (ctx.validate(block, s.chosen?.value, info.value) !== undefined) return s;
    value = info.value;
  } else {
    return s; // a bare ref to a value we do not hold: stay behind until someone sends it
  }
  const originsMax = Math.min(ctx.originsMax ?? ORIGINS_DEFAULT, ORIGINS_MAX);
  const ref = { version: info.version, origin: info.origin };
  const { accepted, ...rest } = s;
  const keepAccepted = accepted !== undefined && accepted.value.version > info.version ? { accepted } : {};
  return {
    ...rest,
    ...keepAccepted,
    chosen: { origin: info.origin, value },
    origins: recordOrigin(s.origins, ref, info.version === chosenVersion(s) + 1, originsMax),
  };
}

/** The log after `ref` is chosen: in order it updates its proposer's entry; over a gap the log starts again. */
export function recordOrigin(log: OriginLog, ref: ValueRef, inOrder: boolean, max: number): OriginLog {
  if (!inOrder) return { completeFrom: ref.version, latest: [ref] };
  const latest = [...log.latest.filter((e) => e.origin.proposer !== ref.origin.proposer), ref];
  let completeFrom = log.completeFrom;
  while (latest.length > max) {
    const evicted = latest.shift() as ValueRef;
    completeFrom = Math.max(completeFrom, evicted.version + 1);
  }
  return { completeFrom, latest };
}

function isOutside<R extends Versioned>(ctx: AcceptorContext<R>, s: AcceptorBlockState<R>): boolean {
  return s.chosen !== undefined && !s.chosen.value.quorum.includes(ctx.self);
}

function chosenField<R extends Versioned>(s: AcceptorBlockState<R>, knownVersion: number): { chosen?: ChosenInfo<R> } {
  if (s.chosen === undefined) return {};
  const { origin, value } = s.chosen;
  return { chosen: value.version > knownVersion ? { version: value.version, origin, value } : { version: value.version, origin } };
}

function acceptedField<R>(s: AcceptorBlockState<R>): { accepted?: AcceptedEntry<R> } {
  return s.accepted === undefined ? {} : { accepted: s.accepted };
}

function nack<R extends Versioned>(
  ctx: AcceptorContext<R>, s: AcceptorBlockState<R>, block: string, ballot: Ballot, reason: NackReason,
  knownVersion: number, refused?: ValueRef, error?: ShoalError,
): NackMessage<R> {
  const errorField: { error?: { kind: ErrorKind; message: string } } =
    error === undefined ? {} : { error: { kind: error.kind, message: error.message } };
  const refusedField: { refused?: ValueRef } = refused === undefined ? {} : { refused };
  return { kind: 'nack', block, from: ctx.self, ballot, ...refusedField, reason, highest: s.promised,
    ...chosenField(s, knownVersion), origins: s.origins, ...errorField };
}

function wrongQuorum<R extends Versioned>(
  ctx: AcceptorContext<R>, s: AcceptorBlockState<R>, block: string, knownVersion: number,
): AcceptorReply<R> {
  const chosen = chosenField(s, knownVersion).chosen;
  assert(s.chosen !== undefined && chosen !== undefined, 'wrong-quorum is only sent by a node that holds a chosen value');
  return { kind: 'wrong-quorum', block, from: ctx.self, quorum: s.chosen.value.quorum, chosen, origins: s.origins };
}
