// Goal: under a seeded schedule of kill -9, restart, partition, black hole and delay (one node at a time), nothing
// acknowledged is lost (content blocks, counter increments, S3 PUTs and DELETEs and NFS writes through a gateway)
// and repair brings every block back to its placed nodes. Method: harness/fault-run.ts with two
// fixed seeds (SHOAL_FAULT_SEED runs one other; `node dist/test/integration/harness/fault-runs.js` runs twenty).
import test from 'ava';
import { runFaults } from './harness/fault-run.js';

const SEEDS = process.env['SHOAL_FAULT_SEED'] === undefined ? ['suite-1', 'suite-2'] : [process.env['SHOAL_FAULT_SEED']];

for (const seed of SEEDS) test.serial(`seeded faults (seed ${seed}): nothing acknowledged lost, every block back on its placed nodes`, async (t) => {
  const result = await runFaults(seed, { steps: 6, stepMs: 2_000, s3: true });
  t.log(`schedule: ${result.schedule.join('; ')}`);
  t.log(`${result.acknowledgedBlocks} content blocks and counters ${result.counters.map((c) => `${c.value} (acked ${c.acked}, unknown ${c.unknown})`).join(', ')}; settled ${(result.settleMs / 1000).toFixed(1)} s after the faults`);
  t.log(`S3 through a gateway: ${result.s3?.puts} PUTs and ${result.s3?.deletes} DELETEs acknowledged, ${result.s3?.failures} failed`);
  t.log(`NFS through the same gateway: ${result.nfs?.files} files written with FILE_SYNC, ${result.nfs?.failures} calls failed; each read back over S3`);
  t.true(result.acknowledgedBlocks > 0);
  t.true((result.s3?.puts ?? 0) > 0, 'S3 PUTs went on');
  t.true((result.nfs?.files ?? 0) > 0, 'NFS writes went on');
  t.true(result.counters.every((c) => c.acked > 0));
  t.deepEqual(result.lost, [], `SHOAL_FAULT_SEED=${seed} reproduces the schedule`);
});
