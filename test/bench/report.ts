// Benchmark results: the shapes suites return, the table printed for people and the JSON kept in bench-results/.
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { MachineInfo } from './machine.js';
import type { Measurement } from './measure.js';

/** mbPerSec and opsPerSec come from a Measurement; the others are figures a suite computes itself (simulations). */
export type Metric = 'mbPerSec' | 'opsPerSec' | 'seconds' | 'bytesPerSec' | 'bytes';

/** One figure beside one baseline from the same run. */
export interface Comparison {
  readonly figure: string;
  readonly baseline: string;
  readonly metric: Metric;
  readonly value: number;
  readonly baselineValue: number;
  /** figure / baseline */
  readonly ratio: number;
}

export interface SuiteContext {
  /** A short run: smaller minimums, same shape. */
  readonly quick: boolean;
  /** Progress for the person watching; not part of the results. */
  log(message: string): void;
}

export interface SuiteOutput {
  readonly measurements: readonly Measurement[];
  readonly comparisons: readonly Comparison[];
  /** What a reader must know to read the ratios (what the figure includes that the baseline does not). */
  readonly notes: readonly string[];
}

export interface Suite {
  readonly name: string;
  readonly description: string;
  run(context: SuiteContext): Promise<SuiteOutput>;
}

export interface SuiteResult extends SuiteOutput {
  readonly name: string;
  readonly description: string;
  readonly seconds: number;
}

export interface BenchReport {
  readonly format: 'shoal-bench/1';
  readonly machine: MachineInfo;
  readonly quick: boolean;
  readonly suites: readonly SuiteResult[];
  /** Suites that threw, with the error: their figures are missing, not zero. */
  readonly failures: readonly { readonly name: string; readonly error: string }[];
  readonly finishedAt: string;
}

export function compare(figure: Measurement, baseline: Measurement, metric: 'mbPerSec' | 'opsPerSec'): Comparison {
  const value = figure[metric];
  const baselineValue = baseline[metric];
  return { figure: figure.name, baseline: baseline.name, metric, value, baselineValue, ratio: value / baselineValue };
}

const UNIT: Record<Metric, string> = { mbPerSec: 'MB/s', opsPerSec: 'ops/s', seconds: 's', bytesPerSec: 'B/s', bytes: 'B' };

export function formatSuite(result: SuiteResult): string {
  const lines = [`== ${result.name}: ${result.description} (${result.seconds.toFixed(1)} s)`, ''];
  lines.push('figure / baseline, both measured in this run');
  lines.push(...table(
    ['figure', 'value', 'baseline', 'value', 'ratio'],
    result.comparisons.map((c) => [c.figure, `${number(c.value)} ${UNIT[c.metric]}`, c.baseline, `${number(c.baselineValue)} ${UNIT[c.metric]}`, ratio(c.ratio)]),
    ['l', 'r', 'l', 'r', 'r'],
  ));
  lines.push('', 'measurements (MB = 10^6 bytes; latency from start to settle of one operation)');
  lines.push(...table(
    ['measurement', 'in flight', 'ops', 's', 'MB/s', 'ops/s', 'p50 ms', 'p99 ms', 'max ms'],
    result.measurements.map((m) => [
      m.name, String(m.concurrency), String(m.ops), m.seconds.toFixed(2), number(m.mbPerSec), number(m.opsPerSec),
      latency(m.latency?.p50Ms), latency(m.latency?.p99Ms), latency(m.latency?.maxMs),
    ]),
    ['l', 'r', 'r', 'r', 'r', 'r', 'r', 'r', 'r'],
  ));
  if (result.notes.length > 0) lines.push('', ...result.notes.map((note) => `note: ${note}`));
  return lines.join('\n');
}

/** Writes bench-results/<timestamp>.json and bench-results/latest.json; returns the first path. */
export async function writeReport(directory: string, report: BenchReport): Promise<string> {
  await mkdir(directory, { recursive: true });
  const text = `${JSON.stringify(report, null, 2)}\n`;
  // Colons are not allowed in file names on every system that may read these files.
  const path = join(directory, `${report.machine.date.replace(/[:.]/g, '-')}.json`);
  await writeFile(path, text);
  await writeFile(join(directory, 'latest.json'), text);
  return path;
}

function table(header: readonly string[], rows: readonly (readonly string[])[], align: readonly ('l' | 'r')[]): string[] {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: readonly string[]): string =>
    cells.map((cell, i) => (align[i] === 'r' ? cell.padStart(widths[i] ?? 0) : cell.padEnd(widths[i] ?? 0))).join('  ').trimEnd();
  return [line(header), line(widths.map((w) => '-'.repeat(w))), ...rows.map(line)];
}

/** Three significant figures at most, never exponent notation. */
function number(value: number): string {
  if (!Number.isFinite(value)) return String(value);
  if (value >= 100) return Math.round(value).toLocaleString('en-US');
  return value >= 10 ? value.toFixed(1) : value.toFixed(2);
}

function ratio(value: number): string {
  return value >= 1 ? value.toFixed(2) : value.toPrecision(3);
}

function latency(ms: number | undefined): string {
  return ms === undefined ? '-' : ms < 10 ? ms.toFixed(2) : ms.toFixed(1);
}
