// Goal: prove the checker can fail (gryadka's c2p2k1). Method: run the consensus scenario broken on purpose (quorums
// of size 1; acceptors whose disks forget everything) and expect a reported violation; check hand-made histories,
// non-linearizable ones rejected and linearizable ones (with concurrency and unknown outcomes) accepted.
import test from 'ava';
import { lostWrites } from './checker/history-check.js';
import { checkLinearizable, type CheckOp } from './checker/linearizability.js';
import { counterModel, registerModel, type ModelInput } from './checker/models.js';
import { replayLine, runAndCheck, standardOptions } from './harness/consensus-verdict.js';
import type { OpOutput, OpRecord } from './harness/op-history.js';

const FILE = 'dist/test/sim/checker-can-fail.test.js';

test('quorums of size 1 (phase 1 and phase 2 each satisfied by one acceptor) are reported as a violation', (t) => {
  const verdict = runAndCheck(standardOptions('q1', { opsPerClient: 150, phaseSizes: () => ({ phase1: 1, phase2: 1 }) }));
  t.log(verdict.summary);
  t.false(verdict.report.linearizable, `the checker missed a broken quorum. ${replayLine('q1', FILE)}`);
  t.true(verdict.result.agreement.length > 0, 'and the acceptors chose two values for one version');
});

test('acceptors that forget their promises and values (wiped disks, 3 of 5 down) are reported as a violation', (t) => {
  // Each seed is deterministic; several are tried so that a change elsewhere cannot make this test pass vacuously.
  const tried: string[] = [];
  for (const seed of ['amnesia-1', 'amnesia-2', 'amnesia-3', 'amnesia-4', 'amnesia-5']) {
    const verdict = runAndCheck(standardOptions(seed, {
      opsPerClient: 200, amnesia: 'everything',
      nemesis: { crashEveryMs: 50, downMsMax: 100, downMax: 3, partitionEveryMs: 0, partitionMsMax: 0 },
    }));
    tried.push(verdict.summary);
    if (!verdict.report.linearizable || verdict.report.lost.length > 0) {
      t.log(`violation found: ${verdict.summary}`);
      t.pass();
      return;
    }
  }
  t.fail(`no violation reported for forgetful acceptors:\n${tried.join('\n')}`);
});

const w = (value: number): ModelInput => ({ kind: 'write', value });
const r: ModelInput = { kind: 'read' };
const inc: ModelInput = { kind: 'incr' };
let nextId = 0;
const op = (call: number, ret: number, input: ModelInput, output?: OpOutput): CheckOp => ({ id: nextId++, call, ret, input, output });

test('hand-made register histories: stale reads and lost writes are rejected', (t) => {
  // write 1 completes, then a read that starts later returns the old value (null).
  t.false(checkLinearizable(registerModel, [op(0, 1, w(1)), op(2, 3, r, null)]).ok);
  // Two sequential reads see a value and then an older one.
  t.false(checkLinearizable(registerModel, [op(0, 10, w(1)), op(1, 2, r, 1), op(3, 4, r, null)]).ok);
  // A compare-and-set reports a conflict although the value was the expected one throughout.
  t.false(checkLinearizable(registerModel, [op(0, 1, w(5)), op(2, 3, { kind: 'cas', expected: 5, value: 6 }, 'conflict'), op(4, 5, r, 5)]).ok);
  // A read returns a value nobody ever wrote.
  t.false(checkLinearizable(registerModel, [op(0, 1, w(1)), op(2, 3, r, 2)]).ok);
});

test('hand-made register histories: concurrency and unknown outcomes are accepted', (t) => {
  // Concurrent write and read: the read may see either value.
  t.true(checkLinearizable(registerModel, [op(0, 5, w(1)), op(1, 2, r, 1)]).ok);
  t.true(checkLinearizable(registerModel, [op(0, 5, w(1)), op(1, 2, r, null)]).ok);
  // An unknown write may take effect long after it was invoked, or never.
  t.true(checkLinearizable(registerModel, [op(0, Infinity, w(7)), op(1, 2, r, null), op(3, 4, r, 7)]).ok);
  t.true(checkLinearizable(registerModel, [op(0, Infinity, w(7)), op(1, 2, r, null)]).ok);
  // ...but never before it was invoked.
  t.false(checkLinearizable(registerModel, [op(0, 1, r, 7), op(2, Infinity, w(7))]).ok);
  // A successful compare-and-set and a conflicting one, correctly ordered.
  t.true(checkLinearizable(registerModel, [op(0, 1, w(5)), op(2, 3, { kind: 'cas', expected: 5, value: 6 }, 'ok'),
    op(4, 5, { kind: 'cas', expected: 5, value: 7 }, 'conflict'), op(6, 7, r, 6)]).ok);
});

test('hand-made counter histories: a lost or doubled increment is rejected', (t) => {
  t.true(checkLinearizable(counterModel, [op(0, 3, inc, 1), op(1, 4, inc, 2), op(5, 6, r, 2)]).ok);
  t.false(checkLinearizable(counterModel, [op(0, 1, inc, 1), op(2, 3, inc, 2), op(4, 5, r, 1)]).ok, 'a lost increment');
  t.false(checkLinearizable(counterModel, [op(0, 1, inc, 1), op(2, 3, inc, 1)]).ok, 'two increments returning the same value');
  t.true(checkLinearizable(counterModel, [op(0, Infinity, inc), op(1, 2, inc, 1), op(3, 4, r, 2)]).ok, 'an unknown increment that happened');
});

test('a long history with many concurrent ops checks quickly (memoisation)', (t) => {
  // 8 clients, 2,000 increments overlapping in windows of 8: the search would explode without pruning.
  const ops: CheckOp[] = [];
  for (let i = 0; i < 2000; i++) ops.push(op(i * 10, i * 10 + 75, inc, i + 1));
  const result = checkLinearizable(counterModel, ops);
  t.true(result.ok);
  t.true(result.explored < 200_000, `explored ${result.explored}`);
});

test('the end-state check reports an acknowledged increment missing at the end', (t) => {
  const base = { client: 'c', block: 'c0', model: 'counter' as const, invokeMs: 0 };
  const record = (id: number, kind: OpRecord['kind'], status: OpRecord['status'], output?: number, version?: number): OpRecord => ({
    ...base, id, kind, invokeSeq: id * 2, status, completeSeq: id * 2 + 1,
    ...(output === undefined ? {} : { output }), ...(version === undefined ? {} : { version }),
  });
  const history = [record(0, 'incr', 'ok', 1, 1), record(1, 'incr', 'ok', 2, 2), record(2, 'incr', 'unknown')];
  t.deepEqual(lostWrites(history, [record(3, 'read', 'ok', 2, 2)]), []);
  t.deepEqual(lostWrites(history, [record(3, 'read', 'ok', 3, 3)]), [], 'the unknown one may have happened');
  t.is(lostWrites(history, [record(3, 'read', 'ok', 1, 1)]).length, 2, 'version and count both fall short');
});
