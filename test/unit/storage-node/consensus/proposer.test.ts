// Goal: the proposer's behaviours the simulator cannot pin down one at a time: the one-round-trip fast path, batching,
// replay after losing a version, typed op failures, conditional reads, timers and resends, stale timers.
// Method: three acceptors and proposers on a synchronous in-memory network the test drives message by message.
import test from 'ava';
import { ShoalError } from '../../../../storage-node/base/errors.js';
import { Random } from '../../../../storage-node/base/random.js';
import { acceptorStep, type AcceptorBlockState, type AcceptorContext } from '../../../../storage-node/consensus/acceptor.js';
import type { Outcome, ProposerEffect } from '../../../../storage-node/consensus/effects.js';
import type { AcceptorReply, AcceptorRequest, ConsensusMessage } from '../../../../storage-node/consensus/messages.js';
import { createProposer, proposerStep, type BlockCodec, type ClientOp, type ProposerState } from '../../../../storage-node/consensus/proposer.js';

interface Rec { readonly version: number; readonly quorum: readonly string[]; readonly data: number }
const codec: BlockCodec<Rec, number> = { open: (r) => r.data, seal: (p, data, quorum) => ({ version: (p?.version ?? 0) + 1, quorum, data }) };
const Q = ['a', 'b', 'c'];

class Cluster {
  now = 0;
  readonly acceptors = new Map<string, AcceptorBlockState<Rec> | undefined>(Q.map((id) => [id, undefined]));
  readonly proposers = new Map<string, ProposerState<Rec, number>>();
  readonly inflight: { to: string; message: ConsensusMessage<Rec> }[] = [];
  readonly outcomes = new Map<string | number, Outcome<number>>();
  readonly timers = new Map<string, number>();
  /** When each proposer's timer is due (its set-timer's delay after the step that set it). */
  readonly due = new Map<string, number>();
  sent: ConsensusMessage<Rec>[] = [];
  drop: (to: string, m: ConsensusMessage<Rec>) => boolean = () => false;
  /** An acceptor's own refusal, on top of "versions only move forward". */
  refuse: (acceptor: string, next: Rec) => ShoalError | undefined = () => undefined;
  readonly random = new Random('proposer-test');

  /** Every accept to the whole quorum (false) or to a majority first (the default). */
  thrifty = true;

  proposer(id: string): ProposerState<Rec, number> {
    let state = this.proposers.get(id);
    if (state === undefined) {
      state = createProposer({
        self: id, proposerId: `${id}#1`, codec, thrifty: this.thrifty,
        timing: { resendMs: 10, backoffMs: 5, opTimeoutMs: 1000, widenMs: 2, laggardMs: 20 },
      }, 'x', Q);
      this.proposers.set(id, state);
    }
    return state;
  }

  submit(proposer: string, op: ClientOp<number>): void {
    this.#run(proposer, proposerStep(this.proposer(proposer), { kind: 'submit', op }, { now: this.now, random: this.random }).effects);
  }

  fire(proposer: string): void {
    const timer = this.timers.get(proposer);
    if (timer !== undefined) this.#run(proposer, proposerStep(this.proposer(proposer), { kind: 'timeout', timer }, { now: this.now, random: this.random }).effects);
  }

  #run(proposer: string, effects: ProposerEffect<Rec, number>[]): void {
    for (const e of effects) {
      if (e.kind === 'send') this.inflight.push({ to: e.to, message: e.message });
      if (e.kind === 'complete') this.outcomes.set(e.op, e.outcome);
      if (e.kind === 'set-timer') {
        this.timers.set(proposer, e.timer);
        this.due.set(proposer, this.now + e.delayMs);
      }
    }
  }

  /** Delivers messages (in order) until none is left. */
  settle(): void {
    for (let next = this.inflight.shift(); next !== undefined; next = this.inflight.shift()) {
      const { to, message } = next;
      if (this.drop(to, message)) continue;
      this.sent.push(message);
      if (this.acceptors.has(to)) {
        const ctx: AcceptorContext<Rec> = { self: to, validate: (_b, c, n) => (n.version > (c?.version ?? 0) ? this.refuse(to, n) : new ShoalError('Conflict', 'old')) };
        const { state, effects } = acceptorStep(ctx, this.acceptors.get(to), message as AcceptorRequest<Rec>);
        this.acceptors.set(to, state);
        for (const e of effects) if (e.kind === 'send') this.inflight.push({ to: e.to, message: e.message });
      } else {
        this.#run(to, proposerStep(this.proposer(to), { kind: 'message', message: message as AcceptorReply<Rec> }, { now: this.now, random: this.random }).effects);
      }
    }
  }

  kinds(): string[] {
    const kinds = this.sent.map((m) => m.kind);
    this.sent = [];
    return kinds;
  }
}

const add = (n: number) => (v: number | undefined) => (v ?? 0) + n;
const create = (n: number) => (v: number | undefined) => (v === undefined ? n : new ShoalError('Exists', 'already there'));

test('the first write prepares; later ones skip prepare (one round trip) and confirm the previous on the way', (t) => {
  const c = new Cluster();
  c.submit('p', { kind: 'update', id: 1, apply: create(10) });
  c.settle();
  t.like(c.outcomes.get(1), { status: 'ok', version: 1, content: 10 });
  t.true(c.kinds().includes('prepare'));
  c.submit('p', { kind: 'update', id: 2, apply: add(1) });
  c.settle();
  t.like(c.outcomes.get(2), { status: 'ok', version: 2, content: 11 });
  const kinds = c.kinds();
  t.false(kinds.includes('prepare'), 'no prepare on the fast path');
  t.is(kinds.filter((k) => k === 'accept').length, 2, 'thrifty: to a majority only');
});

test('thrifty accepts: a silent member is replaced after widenMs, and the one left out catches up within laggardMs', (t) => {
  const c = new Cluster();
  c.submit('p', { kind: 'update', id: 1, apply: create(0) });
  c.settle();
  c.submit('p', { kind: 'update', id: 2, apply: add(1) });
  c.settle();
  const state = c.proposer('p');
  const [first, second] = state.responsive;
  const left = Q.find((id) => !state.responsive.slice(0, 2).includes(id)) as string;
  t.true(first !== undefined && second !== undefined);
  t.true((c.acceptors.get(left)?.chosen?.value.version ?? 0) < 2, 'the member left out has not seen version 2 yet');
  c.now += 25;
  c.fire('p');
  c.settle();
  t.is(c.acceptors.get(left)?.chosen?.value.version, 2, 'caught up after laggardMs');
  // One of the two goes silent: the next accept waits widenMs, then goes to the third, which accepts.
  c.drop = (to) => to === first;
  c.submit('p', { kind: 'update', id: 3, apply: add(1) });
  c.settle();
  t.false(c.outcomes.has(3));
  c.now += 5;
  c.fire('p');
  c.settle();
  t.like(c.outcomes.get(3), { status: 'ok', version: 3, content: 2 });
  t.deepEqual(new Set(c.proposer('p').responsive), new Set([second, left]), 'the next accepts go to the two that answered');
});

test('ops queued meanwhile share one instance, applied in order', (t) => {
  const c = new Cluster();
  c.submit('p', { kind: 'update', id: 1, apply: create(0) });
  for (let i = 2; i <= 6; i++) c.submit('p', { kind: 'update', id: i, apply: add(1) });
  c.submit('p', { kind: 'update', id: 7, apply: create(99) });
  c.settle();
  // All seven were queued during phase 1, so they form the block's first version together.
  t.like(c.outcomes.get(1), { status: 'ok', version: 1, content: 0 });
  t.deepEqual([2, 3, 4, 5, 6].map((id) => c.outcomes.get(id)), [1, 2, 3, 4, 5].map((content) => ({ status: 'ok', version: 1, content })));
  t.is(c.outcomes.get(7)?.status, 'failed', 'create on an existing block: Exists');
  t.is((c.outcomes.get(7) as { error: ShoalError }).error.kind, 'Exists');
  t.is(c.kinds().filter((k) => k === 'accept').length, 2, 'one accept round (to a majority) for the whole batch');
  t.is(c.acceptors.get('a')?.accepted?.value.data ?? c.acceptors.get('a')?.chosen?.value.data, 5);
});

test('another proposer wins the version: the op is replayed on the newer value, applied exactly once', (t) => {
  const c = new Cluster();
  c.submit('p', { kind: 'update', id: 1, apply: create(0) });
  c.settle();
  c.submit('q', { kind: 'update', id: 2, apply: add(100) }); // q takes the ballot and writes version 2
  c.settle();
  c.submit('p', { kind: 'update', id: 3, apply: add(1) }); // p's fast path is stale: preempted, then replays
  c.settle();
  for (let i = 0; i < 20 && !c.outcomes.has(3); i++) {
    c.now += 50;
    c.fire('p');
    c.settle();
  }
  t.like(c.outcomes.get(3), { status: 'ok', version: 3, content: 101 });
  c.submit('q', { kind: 'read', id: 4 });
  c.settle();
  t.like(c.outcomes.get(4), { status: 'ok', version: 3, content: 101 });
});

test('an op that no longer applies fails with its typed error, once its base is proven current', (t) => {
  const c = new Cluster();
  c.submit('p', { kind: 'update', id: 1, apply: create(1) });
  c.settle();
  c.submit('p', { kind: 'update', id: 2, apply: create(2) });
  c.settle();
  t.like(c.outcomes.get(2), { status: 'failed' });
  t.true(c.kinds().includes('read'), 'a batch that changes nothing is confirmed by a fresh read, not a new version');
  t.is(c.acceptors.get('a')?.chosen?.value.version, 1);
});

test('a late refusal of the previous version is not taken for the value in flight at the same ballot', (t) => {
  const c = new Cluster();
  c.thrifty = false;
  c.submit('p', { kind: 'update', id: 1, apply: create(0) });
  c.settle();
  // c refuses version 2 (its own check), a and b take it: chosen. c's nack is held back until version 3, at the
  // same leader ballot, is in flight.
  c.refuse = (acceptor, next) => (acceptor === 'c' && next.version === 2 ? new ShoalError('Forbidden', 'c says no') : undefined);
  const held: { to: string; message: ConsensusMessage<Rec> }[] = [];
  c.drop = (to, m) => (m.kind === 'nack' && m.from === 'c' ? (held.push({ to, message: m }), true) : false);
  c.submit('p', { kind: 'update', id: 2, apply: add(1) });
  c.settle();
  t.like(c.outcomes.get(2), { status: 'ok', version: 2, content: 1 });
  t.is(held.length, 1);
  c.drop = () => false;
  c.submit('p', { kind: 'update', id: 3, apply: add(1) });
  c.inflight.unshift(...held);
  c.settle();
  t.like(c.outcomes.get(3), { status: 'ok', version: 3, content: 2 }, 'version 3 is chosen: its op must not fail');
  t.is(c.acceptors.get('a')?.accepted?.value.data ?? c.acceptors.get('a')?.chosen?.value.data, 2);
});

test('a refusal only one node gives (Unavailable) is not final: the value is proposed again and chosen', (t) => {
  const c = new Cluster();
  c.submit('p', { kind: 'update', id: 1, apply: create(0) });
  c.settle();
  let trusting = false;
  c.refuse = (acceptor) => (acceptor !== 'a' && !trusting ? new ShoalError('Unavailable', 'cannot check this signer yet') : undefined);
  c.submit('p', { kind: 'update', id: 2, apply: add(1) });
  c.settle();
  t.false(c.outcomes.has(2), 'b and c cannot check it yet: the op waits');
  trusting = true;
  for (let i = 0; i < 20 && !c.outcomes.has(2); i++) {
    c.now += 50;
    c.fire('p');
    c.settle();
  }
  t.like(c.outcomes.get(2), { status: 'ok', version: 2, content: 1 });
});

test('a proposer state made again for the same proposer id starts above the ballots of the one before', (t) => {
  const state = createProposer<Rec, number>({ self: 'p', proposerId: 'p#1', codec }, 'x', Q, { round: 7, proposer: '' });
  const { effects } = proposerStep(state, { kind: 'submit', op: { kind: 'update', id: 1, apply: create(0) } }, { now: 0, random: new Random('x') });
  const prepares = effects.flatMap((e) => (e.kind === 'send' && e.message.kind === 'prepare' ? [e.message.ballot] : []));
  t.is(prepares.length, 3);
  t.true(prepares.every((b) => b.round === 8 && b.proposer === 'p#1'));
});

test('conditional reads: not-modified while nothing newer, the value once there is', (t) => {
  const c = new Cluster();
  c.submit('p', { kind: 'update', id: 1, apply: create(5) });
  c.settle();
  c.submit('q', { kind: 'read', id: 2, ifNewerThan: 1 });
  c.settle();
  t.deepEqual(c.outcomes.get(2), { status: 'not-modified', version: 1 });
  c.submit('p', { kind: 'update', id: 3, apply: add(1) });
  c.settle();
  c.submit('q', { kind: 'read', id: 4, ifNewerThan: 1 });
  c.settle();
  t.deepEqual(c.outcomes.get(4), { status: 'ok', version: 2, content: 6 });
  c.kinds();
  for (let id = 5; id <= 8; id++) c.submit('q', { kind: 'read', id });
  c.settle();
  // Read 5 opens a round at once; 6 to 8, invoked while it is in flight, may not use it (it began before them)
  // and share the next one.
  t.is(c.kinds().filter((k) => k === 'read').length, 6, 'four reads, two rounds');
  t.true([5, 6, 7, 8].every((id) => c.outcomes.get(id)?.status === 'ok'));
});

test('lost messages are resent on the timer; an unreachable majority ends in a timeout, a stale timer is ignored', (t) => {
  const c = new Cluster();
  let lose = true;
  c.drop = (to, m) => lose && m.kind === 'accept' && to !== 'a';
  c.submit('p', { kind: 'update', id: 1, apply: create(1) });
  c.settle();
  t.false(c.outcomes.has(1));
  lose = false;
  c.now += 20;
  c.fire('p');
  c.settle();
  t.like(c.outcomes.get(1), { status: 'ok', version: 1 });
  const stale = c.timers.get('p') as number;
  c.drop = (to) => to !== 'a' && to !== 'p';
  c.submit('p', { kind: 'read', id: 2, timeoutMs: 100 });
  c.settle();
  t.is(proposerStep(c.proposer('p'), { kind: 'timeout', timer: stale - 1 }, { now: c.now, random: c.random }).effects.length, 0);
  for (let i = 0; i < 10 && !c.outcomes.has(2); i++) {
    c.now += 30;
    c.fire('p');
    c.settle();
  }
  t.is(c.outcomes.get(2)?.status, 'failed');
  t.is((c.outcomes.get(2) as { error: ShoalError }).error.kind, 'Timeout');
});

test('an update function that throws fails its own op; the others in its batch are chosen', (t) => {
  const c = new Cluster();
  c.submit('p', { kind: 'update', id: 1, apply: create(10) });
  c.settle();
  const broken = (): number => {
    throw new TypeError('not a function');
  };
  c.submit('p', { kind: 'update', id: 2, apply: add(1) });
  c.submit('p', { kind: 'update', id: 3, apply: broken });
  c.submit('p', { kind: 'update', id: 4, apply: add(2) });
  c.settle();
  t.like(c.outcomes.get(2), { status: 'ok', content: 11 });
  const failed = c.outcomes.get(3);
  t.is(failed?.status, 'failed');
  t.regex(failed?.status === 'failed' ? failed.error.message : '', /update function threw: not a function/);
  t.like(c.outcomes.get(4), { status: 'ok', content: 13 });
});

test('a proposer state made again starts its read ids where it is told, so a late reply to an earlier read is ignored', (t) => {
  const state = createProposer<Rec, number>({ self: 'p', proposerId: 'p#1', codec }, 'x', Q, { round: 7, proposer: '' }, 42);
  const { effects } = proposerStep(state, { kind: 'submit', op: { kind: 'read', id: 1 } }, { now: 0, random: new Random('x') });
  const reads = effects.flatMap((e) => (e.kind === 'send' && e.message.kind === 'read' ? [e.message.readId] : []));
  t.is(reads.length, 3);
  t.true(reads.every((id) => id === 42));
});

test('an op times out at its deadline even when the next resend is due later', (t) => {
  const c = new Cluster();
  c.submit('p', { kind: 'update', id: 1, apply: create(1) });
  c.settle();
  // From now on nothing arrives: resends back off (10, 20, 40, 80 ms …), and the op's 100 ms end falls between two.
  c.drop = () => true;
  const start = c.now;
  c.submit('p', { kind: 'update', id: 2, apply: add(1), timeoutMs: 100 });
  c.settle();
  for (let fired = 0; !c.outcomes.has(2) && fired < 50; fired++) {
    c.now = c.due.get('p') ?? c.now;
    c.fire('p');
    c.settle();
  }
  t.like(c.outcomes.get(2), { status: 'unknown' });
  t.is(c.now - start, 100, 'completed by the timer set for its deadline, not by the next resend');
});

test('an op submitted while a later timer is set gets a timer for its own deadline', (t) => {
  const c = new Cluster();
  c.submit('p', { kind: 'update', id: 1, apply: create(1) });
  c.settle();
  c.drop = () => true;
  c.submit('p', { kind: 'update', id: 2, apply: add(1) });
  c.settle();
  // Let the resends back off until the next one is well beyond 5 ms away.
  while ((c.due.get('p') ?? 0) - c.now < 40) {
    c.now = c.due.get('p') ?? c.now;
    c.fire('p');
    c.settle();
  }
  const start = c.now;
  c.submit('p', { kind: 'update', id: 3, apply: add(1), timeoutMs: 5 });
  c.settle();
  t.is((c.due.get('p') ?? 0) - start, 5, 'the timer is brought forward to the new deadline');
  c.now = c.due.get('p') ?? c.now;
  c.fire('p');
  t.like(c.outcomes.get(3), { status: 'failed' });
  t.false(c.outcomes.has(2), 'the op in flight is still waiting');
});
