// The long fault command: twenty seeded fault runs one after another (or `--runs N`, `--seed-prefix P`), each
// ending with the check that nothing acknowledged is lost. Exit code 1 when any run lost something or failed.
//   node dist/test/integration/harness/fault-runs.js [--runs 20] [--seed-prefix long]
import { parseArgs } from 'node:util';
import { runFaults } from './fault-run.js';

const { values } = parseArgs({ options: { runs: { type: 'string', default: '20' }, 'seed-prefix': { type: 'string', default: 'long' } } });
const runs = Number(values.runs);
let failed = 0;
for (let i = 1; i <= runs; i++) {
  const seed = `${values['seed-prefix']}-${i}`;
  try {
    const result = await runFaults(seed, { steps: 10, stepMs: 2_000, s3: true });
    const ok = result.lost.length === 0;
    if (!ok) failed++;
    console.log(`${ok ? 'ok' : 'LOST'} seed ${seed}: ${result.acknowledgedBlocks} blocks, counters ${result.counters.map((c) => `${c.value}/${c.acked}+${c.unknown}`).join(' ')}, S3 ${result.s3?.puts ?? 0} PUTs ${result.s3?.deletes ?? 0} DELETEs (${result.s3?.failures ?? 0} failed), NFS ${result.nfs?.files ?? 0} files (${result.nfs?.failures ?? 0} failed), settled in ${(result.settleMs / 1000).toFixed(1)} s; ${result.schedule.join('; ')}`);
    for (const line of result.lost) console.log(`  lost: ${line}`);
  } catch (err) {
    failed++;
    console.log(`FAILED seed ${seed}: ${(err as Error).message}`);
  }
}
console.log(`${runs - failed} of ${runs} runs lost nothing`);
process.exitCode = failed > 0 ? 1 : 0;
