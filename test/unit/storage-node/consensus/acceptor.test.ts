// Goal: the acceptor's rules, one by one: promises, the per-version accept conditions, persist-before-reply,
// confirms, reads, wrong-quorum, and the origin log. Method: step the pure core by hand and inspect effects.
import test from 'ava';
import { ShoalError } from '../../../../storage-node/base/errors.js';
import { acceptorStep, recordOrigin, type AcceptorBlockState, type AcceptorContext } from '../../../../storage-node/consensus/acceptor.js';
import type { AcceptorEffect } from '../../../../storage-node/consensus/effects.js';
import { EMPTY_ORIGINS, originFate, type AcceptorRequest, type AcceptorReply } from '../../../../storage-node/consensus/messages.js';

interface Rec { readonly version: number; readonly quorum: readonly string[]; readonly data: number }
const Q = ['a', 'b', 'c'];
const rec = (version: number, data = version, quorum = Q): Rec => ({ version, quorum, data });
const ctx: AcceptorContext<Rec> = {
  self: 'a',
  validate: (_block, current, next) => (next.data < 0 ? new ShoalError('Forbidden', 'negative') : next.version > (current?.version ?? 0) ? undefined : new ShoalError('Conflict', 'old')),
};
const b = (round: number, proposer = 'p'): { round: number; proposer: string } => ({ round, proposer });

function step(state: AcceptorBlockState<Rec> | undefined, message: AcceptorRequest<Rec>, context = ctx) {
  const { state: next, effects } = acceptorStep(context, state, message);
  const reply = effects.find((e): e is Extract<AcceptorEffect<Rec>, { kind: 'send' }> => e.kind === 'send')?.message as AcceptorReply<Rec> | undefined;
  return { next, effects, reply };
}
const prepare = (round: number, knownVersion = 0): AcceptorRequest<Rec> => ({ kind: 'prepare', block: 'x', from: 'p', ballot: b(round), knownVersion });
const accept = (round: number, value: Rec, extra: object = {}): AcceptorRequest<Rec> =>
  ({ kind: 'accept', block: 'x', from: 'p', ballot: b(round), origin: b(round), value, ...extra }) as AcceptorRequest<Rec>;

/** An acceptor holding version 1 chosen (at ballot 1) and promised ballot 1. */
function withVersion1(): AcceptorBlockState<Rec> {
  const s1 = step(undefined, accept(1, rec(1))).next;
  return step(s1, { kind: 'confirm', block: 'x', from: 'p', chosen: { version: 1, origin: b(1) } }).next as AcceptorBlockState<Rec>;
}

test('prepare: a higher ballot is promised and persisted before the reply; a lower one is refused', (t) => {
  const first = step(undefined, prepare(2));
  t.deepEqual(first.effects.map((e) => e.kind), ['persist', 'send'], 'persist comes first');
  t.is(first.reply?.kind, 'promise');
  const again = step(first.next, prepare(2));
  t.deepEqual(again.effects.map((e) => e.kind), ['send'], 'the same ballot again: same promise, nothing new to persist');
  const lower = step(first.next, prepare(1));
  t.like(lower.reply, { kind: 'nack', reason: 'ballot', highest: b(2) });
  t.is(lower.next, first.next);
});

test('accept: only the next version, at a ballot not below the promise, after validate', (t) => {
  const s = withVersion1();
  t.like(step(s, accept(1, rec(2))).reply, { kind: 'accepted', version: 2 });
  t.like(step(s, accept(1, rec(3))).reply, { kind: 'nack', reason: 'behind' });
  t.like(step(s, accept(1, rec(1, 99), { origin: b(1, 'other') })).reply, { kind: 'nack', reason: 'ahead' });
  const promised = step(s, prepare(5)).next;
  t.like(step(promised, accept(4, rec(2))).reply, { kind: 'nack', reason: 'ballot', highest: b(5) });
  const refused = step(s, accept(1, rec(2, -1)));
  t.like(refused.reply, { kind: 'nack', reason: 'invalid', error: { kind: 'Forbidden' } });
  t.is(refused.effects.length, 1, 'nothing persisted for a refused value');
});

test('accept: re-accepting the chosen value says yes, a duplicate accept is answered without a write', (t) => {
  const s = withVersion1();
  t.like(step(s, accept(1, rec(1))).reply, { kind: 'accepted', version: 1 }, 'the chosen value itself');
  const accepted = step(s, accept(2, rec(2))).next;
  const dup = step(accepted, accept(2, rec(2)));
  t.deepEqual(dup.effects.map((e) => e.kind), ['send']);
  t.like(dup.reply, { kind: 'accepted' });
});

test('a confirm promotes our accepted value by reference; a value sent along must validate', (t) => {
  const s = step(withVersion1(), accept(2, rec(2))).next as AcceptorBlockState<Rec>;
  const promoted = step(s, { kind: 'confirm', block: 'x', from: 'p', chosen: { version: 2, origin: b(2) } }).next;
  t.is(promoted?.chosen?.value.version, 2);
  t.is(promoted?.accepted, undefined, 'accepted is dropped once its version is chosen');
  const unknownRef = step(s, { kind: 'confirm', block: 'x', from: 'p', chosen: { version: 2, origin: b(9) } });
  t.is(unknownRef.next?.chosen?.value.version, 1, 'a ref to a value we do not hold changes nothing');
  const bad = step(s, { kind: 'confirm', block: 'x', from: 'p', chosen: { version: 3, origin: b(9), value: rec(3, -1) } });
  t.is(bad.next?.chosen?.value.version, 1, 'a catch-up value that fails validate is not adopted');
  const jump = step(s, { kind: 'confirm', block: 'x', from: 'p', chosen: { version: 4, origin: b(9), value: rec(4) } }).next;
  t.is(jump?.chosen?.value.version, 4);
  t.deepEqual(jump?.origins, { completeFrom: 4, latest: [{ version: 4, origin: b(9) }] }, 'a gap restarts the origin log');
});

test('accept carries a confirm of the previous version (the multi-Paxos fast path)', (t) => {
  const s = step(withVersion1(), accept(2, rec(2))).next;
  const next = step(s, accept(2, rec(3), { previous: { version: 2, origin: b(2) } }));
  t.like(next.reply, { kind: 'accepted', version: 3 });
  t.is(next.next?.chosen?.value.version, 2);
  const lagging = step(withVersion1(), accept(2, rec(3), { previous: { version: 2, origin: b(2), value: rec(2) } }));
  t.like(lagging.reply, { kind: 'accepted', version: 3 }, 'a lagging node catches up from the value sent along');
});

test('read reports without writing; promise and read omit a value the proposer already holds', (t) => {
  const s = withVersion1();
  const read = step(s, { kind: 'read', block: 'x', from: 'p', readId: 7, knownVersion: 0 });
  t.deepEqual(read.effects.map((e) => e.kind), ['send']);
  t.like(read.reply, { kind: 'read-reply', readId: 7, chosen: { version: 1, value: rec(1) } });
  const cached = step(s, { kind: 'read', block: 'x', from: 'p', readId: 8, knownVersion: 1 }).reply;
  t.true(cached?.kind === 'read-reply' && cached.chosen !== undefined && !('value' in cached.chosen));
  t.is(step(undefined, { kind: 'read', block: 'x', from: 'p', readId: 9, knownVersion: 0 }).next, undefined, 'an unknown block stays unknown');
});

test('a node outside the chosen quorum answers wrong-quorum but still learns confirms', (t) => {
  const moved = step(step(withVersion1(), accept(1, rec(2, 2, ['b', 'c', 'd']))).next, {
    kind: 'confirm', block: 'x', from: 'p', chosen: { version: 2, origin: b(1) },
  }).next as AcceptorBlockState<Rec>;
  t.like(step(moved, prepare(9, 1)).reply, { kind: 'wrong-quorum', quorum: ['b', 'c', 'd'], chosen: { version: 2, value: rec(2, 2, ['b', 'c', 'd']) } });
  t.like(step(moved, { kind: 'read', block: 'x', from: 'p', readId: 1, knownVersion: 0 }).reply, { kind: 'wrong-quorum' });
  const back = step(moved, { kind: 'confirm', block: 'x', from: 'p', chosen: { version: 3, origin: b(3), value: rec(3, 3, ['a', 'b', 'c']) } }).next;
  t.like(step(back, prepare(9, 3)).reply, { kind: 'promise' }, 'added back: answers again');
  t.like(step(undefined, accept(1, rec(1, 1, ['b', 'c', 'd']))).reply, { kind: 'nack', reason: 'invalid' }, 'not in the first quorum');
});

test('the origin log: per proposer its latest version, complete from completeFrom, evictions move it', (t) => {
  let log = EMPTY_ORIGINS;
  log = recordOrigin(log, { version: 1, origin: b(1, 'p') }, true, 2);
  log = recordOrigin(log, { version: 2, origin: b(2, 'q') }, true, 2);
  log = recordOrigin(log, { version: 3, origin: b(2, 'q') }, true, 2);
  t.is(originFate(log, 3, { version: 1, origin: b(1, 'p') }), 'chosen');
  t.is(originFate(log, 3, { version: 2, origin: b(2, 'p') }), 'lost', 'p originated nothing at 2');
  t.is(originFate(log, 3, { version: 2, origin: b(2, 'q') }), undefined, 'q moved on: 2 is no longer recorded');
  t.is(originFate(log, 3, { version: 4, origin: b(2, 'q') }), undefined, 'not decided here yet');
  log = recordOrigin(log, { version: 4, origin: b(3, 'r') }, true, 2);
  t.is(log.completeFrom, 2, 'p evicted: versions from 2 on are still complete');
  t.is(originFate(log, 4, { version: 1, origin: b(1, 'p') }), undefined);
  t.is(originFate(log, 4, { version: 3, origin: b(9, 'p') }), 'lost');
});
