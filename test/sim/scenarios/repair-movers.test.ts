// Goal: repair's quorum moves stay safe while clients write: every node runs its own mover (a second kind of
// proposer, node-signed, dying and coming back with its host), acceptors that just restarted refuse node-signed
// versions that the others take, and the usual loss, duplication, delay, crashes and partitions go on. Nothing
// acknowledged is lost, no op that failed took effect, and every history is linearizable.
import test from 'ava';
import { FIVE, replayLine, runAndCheck, seedsToRun, standardOptions } from '../harness/consensus-verdict.js';

const FILE = 'dist/test/sim/scenarios/repair-movers.test.js';

// Seed 1 failed before a nack named the value it refused (a late refusal failed the ops of a value then chosen).
for (const [seed, thrifty] of seedsToRun(['1', '2', '3'], 1).flatMap((seed) => [[seed, false], [seed, true]] as const)) {
  test(`quorum moves by every node's repair under crashes, partitions and distrust${thrifty ? ', thrifty accepts' : ''}: seed ${seed}`, (t) => {
    const verdict = runAndCheck(standardOptions(seed, {
      acceptors: FIVE,
      quorum: ['a1', 'a2', 'a3'],
      thrifty,
      movers: { everyMs: 60, distrustMs: 300, orderlyRatio: 0.7, timeoutMs: 2000 },
    }));
    t.log(verdict.summary, [...verdict.result.tally].filter(([k]) => k.startsWith('move')).map(([k, n]) => `${k} ${n}`).join(', '));
    t.deepEqual(verdict.problems, [], replayLine(seed, FILE));
    t.true((verdict.result.tally.get('move:ok') ?? 0) > 20, 'quorums did move');
    t.true((verdict.result.tally.get('nack:invalid') ?? 0) > 0, 'restarted acceptors refused node-signed versions');
  });
}
