// Goal: per-block Paxos stays linearizable and loses no acknowledged write under every fault the simulator has.
// Method: seeded runs of 5 acceptors and 3 proposers (9 clients) on registers and counters, thousands of ops each,
// with loss, duplication, reordering, delay, crashes losing unflushed writes, and partitions; every history goes
// through the Wing–Gong checker and the end-state check. Fixed seeds plus fresh ones; a failure prints its replay line.
import test from 'ava';
import { FIVE, replayLine, runAndCheck, seedsToRun, standardOptions } from '../harness/consensus-verdict.js';

const FILE = 'dist/test/sim/scenarios/consensus.test.js';

for (const seed of seedsToRun(['1', '2', '3'], 2)) {
  test(`loss, duplication, reordering, crashes (≤ f down) and partitions: seed ${seed}`, (t) => {
    const verdict = runAndCheck(standardOptions(seed));
    t.log(verdict.summary);
    t.deepEqual(verdict.problems, [], replayLine(seed, FILE));
    t.false(verdict.result.stalled, `liveness: the run did not finish within f failures. ${replayLine(seed, FILE)}`);
    t.true(verdict.result.history.records.length >= 3000, 'thousands of ops per seed');
    // The rare paths ran: preemption, deciding a version someone else decided, catch-up of a lagging node, and
    // finishing a value another proposer left accepted but unconfirmed.
    for (const path of ['nack:ballot', 'nack:ahead', 'nack:behind', 'catch-up', 'finish']) {
      t.true((verdict.result.tally.get(path) ?? 0) > 0, `never took the ${path} path`);
    }
  });
}

// Proposers send accepts to a majority first by default (thrifty); the same faults with accepts to every member.
for (const seed of seedsToRun(['4'], 1)) {
  test(`loss, duplication, reordering, crashes and partitions, accepts to the whole quorum: seed ${seed}`, (t) => {
    const verdict = runAndCheck(standardOptions(seed, { thrifty: false }));
    t.log(verdict.summary);
    t.deepEqual(verdict.problems, [], replayLine(seed, FILE));
    t.false(verdict.result.stalled, `liveness: the run did not finish within f failures. ${replayLine(seed, FILE)}`);
  });
}

for (const seed of seedsToRun(['11'], 1)) {
  test(`partitions longer than op deadlines (ops time out, some unknown): seed ${seed}`, (t) => {
    const verdict = runAndCheck(standardOptions(seed, {
      opsPerClient: 150,
      nemesis: { crashEveryMs: 300, downMsMax: 500, downMax: 2, partitionEveryMs: 1500, partitionMsMax: 3000 },
      timing: { opTimeoutMs: 1000 },
    }));
    t.log(verdict.summary);
    t.deepEqual(verdict.problems, [], replayLine(seed, FILE));
    const counts = verdict.result.history.counts();
    t.true(counts.fail + counts.unknown > 0, 'the scenario does exercise timeouts');
  });
}

for (const seed of seedsToRun(['21'], 0)) {
  test(`beyond f: three of five acceptors down at once fails safe (never wrong): seed ${seed}`, (t) => {
    const verdict = runAndCheck(standardOptions(seed, {
      opsPerClient: 200,
      nemesis: { crashEveryMs: 50, downMsMax: 150, downMax: 3, partitionEveryMs: 0, partitionMsMax: 0 },
    }));
    t.log(verdict.summary);
    t.deepEqual(verdict.problems, [], replayLine(seed, FILE));
  });
}

test('the same seed replays the same run, event for event', (t) => {
  const options = standardOptions('replay', { opsPerClient: 40, quorum: FIVE });
  const a = runAndCheck(options).result;
  const b = runAndCheck(options).result;
  t.is(a.events, b.events);
  t.is(a.simMs, b.simMs);
  t.deepEqual(a.history.records, b.history.records);
});
