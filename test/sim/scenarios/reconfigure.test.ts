// Goal: a block moves to another quorum through Paxos while writers keep writing: nothing lost, still linearizable,
// and the new quorum holds the state. Method: blocks start on {a1,a2,a3}; an admin proposer moves two of them to
// {a1,a2,a4} mid-run (and one of them on to {a3,a4,a5}, disjoint from where it was) under the usual faults.
import test from 'ava';
import { replayLine, runAndCheck, seedsToRun, standardOptions } from '../harness/consensus-verdict.js';

const FILE = 'dist/test/sim/scenarios/reconfigure.test.js';
const OLD = ['a1', 'a2', 'a3'];
const NEW = ['a1', 'a2', 'a4'];

for (const seed of seedsToRun(['1', '2'], 1)) {
  test(`{a1,a2,a3} → {a1,a2,a4} while writers write: seed ${seed}`, (t) => {
    const verdict = runAndCheck(standardOptions(seed, {
      quorum: OLD,
      opsPerClient: 200,
      reconfigurations: [
        { atMs: 1500, block: 'r0', quorum: NEW },
        { atMs: 1500, block: 'c0', quorum: NEW },
        { atMs: 3500, block: 'r0', quorum: ['a3', 'a4', 'a5'] },
      ],
    }));
    t.log(verdict.summary);
    t.deepEqual(verdict.problems, [], replayLine(seed, FILE));
    const { reconfigured, acceptors, finals } = verdict.result;
    t.deepEqual(reconfigured.map((o) => o.status), ['ok', 'ok', 'ok'], 'every move completed');
    t.true((verdict.result.tally.get('wrong-quorum') ?? 0) > 0, 'stale proposers were sent on by removed nodes');
    const movedAt = (i: number): number => {
      const outcome = reconfigured[i];
      return outcome?.status === 'ok' ? outcome.version : Infinity;
    };
    const state = (node: string, block: string) => acceptors.find((a) => a.id === node)?.stateOf(block);
    const chosenVersion = (node: string, block: string): number => state(node, block)?.chosen?.value.version ?? 0;
    // c0 moved to {a1,a2,a4}: a majority there holds its final version (chosen, or accepted on top of the one before).
    const c0 = finals.find((f) => f.block === 'c0')?.version ?? 0;
    t.true(NEW.filter((id) => chosenVersion(id, 'c0') >= c0 - 1).length >= 2, 'the new quorum holds the state');
    // a3 took part up to the move and never after; a5 was never asked.
    t.true(chosenVersion('a3', 'c0') <= movedAt(1) && (state('a3', 'c0')?.accepted?.value.version ?? 0) <= movedAt(1));
    t.is(state('a5', 'c0'), undefined);
    // r0 went on to {a3,a4,a5}: a1 and a2 stop at that move.
    const r0 = finals.find((f) => f.block === 'r0')?.version ?? 0;
    t.true(r0 > movedAt(2), 'writes went on after the second move');
    for (const id of ['a1', 'a2']) t.true(chosenVersion(id, 'r0') <= movedAt(2), `${id} never runs past the move that removed it`);
  });
}
