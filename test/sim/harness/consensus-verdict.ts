// Seeds, standard scenario options and the verdict of a consensus run, shared by the simulation tests.
import { randomBytes } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import { checkHistory, type HistoryReport } from '../checker/history-check.js';
import { runConsensusScenario, type ScenarioOptions, type ScenarioResult } from './consensus-scenario.js';

export const FIVE = ['a1', 'a2', 'a3', 'a4', 'a5'] as const;

/** The scenario: 5 acceptors, 3 proposers (3 clients each), registers and counters, every network fault. */
export function standardOptions(seed: string, overrides: Partial<ScenarioOptions> = {}): ScenarioOptions {
  return {
    seed, acceptors: FIVE, proposers: 3, clientsPerProposer: 3, registers: 3, counters: 2, opsPerClient: 350, thinkMsMax: 5,
    network: { lossRatio: 0.05, replayRatio: 0.02, delayMsMin: 1, delayMsMean: 5, delayMsMax: 50 },
    nemesis: { crashEveryMs: 300, downMsMax: 500, downMax: 2, partitionEveryMs: 1000, partitionMsMax: 400 },
    quorum: FIVE,
    ...overrides,
  };
}

/** Fixed seeds plus `fresh` new ones, or only SHOAL_SEED when it is set (to replay a failure). */
export function seedsToRun(fixed: readonly string[], fresh: number): string[] {
  const only = process.env['SHOAL_SEED'];
  if (only !== undefined && only !== '') return [only];
  return [...fixed, ...Array.from({ length: fresh }, () => randomBytes(4).toString('hex'))];
}

export function replayLine(seed: string, file: string): string {
  return `SHOAL_SEED=${seed} npx ava ${file}`;
}

export interface Verdict {
  readonly result: ScenarioResult;
  readonly report: HistoryReport;
  readonly runMs: number;
  /** One line of figures for the test log. */
  readonly summary: string;
  /** Everything wrong, for the failure message (empty when all is well). */
  readonly problems: string[];
}

export function runAndCheck(options: ScenarioOptions): Verdict {
  const started = performance.now();
  const result = runConsensusScenario(options);
  const runMs = performance.now() - started;
  const report = checkHistory(result.history.records, result.finals, () => performance.now());
  const counts = result.history.counts();
  const problems: string[] = [];
  for (const block of report.blocks) {
    if (!block.result.ok) problems.push(`${block.block}: not linearizable (${block.result.reason}; deepest linearized prefix ${block.result.deepest.length} ops, ending ${block.result.deepest.slice(-5).join(',')})`);
  }
  problems.push(...report.lost, ...result.history.anomalies, ...result.agreement.map((a) => `agreement: ${a}`));
  const summary = `seed ${options.seed}: ${result.history.records.length} ops (ok ${counts.ok}, fail ${counts.fail}, unknown ${counts.unknown}), `
    + `${Math.round(result.simMs)} ms simulated, ${result.events} events, ${result.network.sent} messages (${result.network.lost} lost), `
    + `${result.crashes} crashes, ${result.partitions} partitions; run ${Math.round(runMs)} ms, check ${Math.round(report.checkMs)} ms; `
    + [...result.tally].filter(([k]) => k.includes(':') || ['finish', 'catch-up', 'wrong-quorum'].includes(k)).map(([k, n]) => `${k} ${n}`).join(', ');
  return { result, report, runMs, summary, problems };
}
