// The benchmark runner behind `npm run bench`: runs the registered suites, prints each figure beside its
// baseline and writes the results to bench-results/.
//
//   node dist/test/bench/run.js [--quick] [--only <suite>[,<suite>]]...
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { contentBlocksSuite } from './content-blocks.bench.js';
import { mutableBlocksSuite } from './mutable-blocks.bench.js';
import { nfsSuite } from './nfs.bench.js';
import { formatMachine, machineInfo } from './machine.js';
import { fsSuite } from './fs.bench.js';
import { overlaySuite } from './overlay.suite.js';
import { repairSuite } from './repair.bench.js';
import { s3Suite } from './s3.bench.js';
import { formatSuite, writeReport, type Suite, type SuiteResult } from './report.js';
import { stopwatch } from './measure.js';

/** Every suite, in the order they run. A new suite is one file and one line here. */
const SUITES: readonly Suite[] = [contentBlocksSuite, mutableBlocksSuite, overlaySuite, fsSuite, nfsSuite, s3Suite, repairSuite];

const USAGE = `usage: npm run bench -- [--quick] [--only <suite>[,<suite>]]
  --quick        a short run (about 20 s per suite): the same figures, less settled
  --only <name>  run only the named suites (repeatable or comma-separated)
suites: ${SUITES.map((s) => s.name).join(', ')}`;

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: { quick: { type: 'boolean', default: false }, only: { type: 'string', multiple: true }, help: { type: 'boolean', default: false } },
    strict: true,
  });
  if (values.help) {
    console.log(USAGE);
    return;
  }
  const suites = selectSuites(values.only ?? []);
  // The integration harness finds bin/shoal.js from the working directory, and results belong to the checkout.
  process.chdir(fileURLToPath(new URL('../../../', import.meta.url)));

  const machine = machineInfo();
  const quick = values.quick ?? false;
  console.log(formatMachine(machine));
  console.log(`run      ${quick ? 'quick' : 'full'}; suites: ${suites.map((s) => s.name).join(', ')}\n`);

  const results: SuiteResult[] = [];
  const failures: { name: string; error: string }[] = [];
  for (const suite of suites) {
    const elapsed = stopwatch();
    try {
      const output = await suite.run({ quick, log: (message) => console.log(`  [${suite.name}] ${message}`) });
      const result: SuiteResult = { name: suite.name, description: suite.description, seconds: elapsed() / 1000, ...output };
      results.push(result);
      console.log(`\n${formatSuite(result)}\n`);
    } catch (err) {
      // One broken suite should not hide the figures of the others; the exit code still says it failed.
      const error = err instanceof Error ? (err.stack ?? err.message) : String(err);
      failures.push({ name: suite.name, error });
      console.error(`\n== ${suite.name} FAILED\n${error}\n`);
    }
  }

  const path = await writeReport('bench-results', { format: 'shoal-bench/1', machine, quick, suites: results, failures, finishedAt: new Date().toISOString() });
  console.log(`results: ${path} (and bench-results/latest.json)`);
  if (failures.length > 0) process.exitCode = 1;
}

function selectSuites(only: readonly string[]): Suite[] {
  const names = only.flatMap((o) => o.split(',')).map((n) => n.trim()).filter((n) => n.length > 0);
  if (names.length === 0) return [...SUITES];
  const unknown = names.filter((n) => !SUITES.some((s) => s.name === n));
  if (unknown.length > 0) throw new Error(`no suite named ${unknown.join(', ')}\n${USAGE}`);
  return SUITES.filter((s) => names.includes(s.name));
}

try {
  await main();
} catch (err) {
  console.error(err instanceof Error ? err.message : err);
  process.exitCode = 1;
}
