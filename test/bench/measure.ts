// Timing helpers for benchmarks: runs an operation in a concurrency window for at least a time and a count,
// and summarises it as ops/s, MB/s (10^6 bytes) and latency percentiles.
import { performance } from 'node:perf_hooks';

export const MB = 1_000_000;
export const KiB = 1024;
export const MiB = 1024 * KiB;

export interface Latency {
  readonly p50Ms: number;
  readonly p90Ms: number;
  readonly p99Ms: number;
  readonly maxMs: number;
}

export interface Measurement {
  readonly name: string;
  readonly ops: number;
  readonly bytes: number;
  readonly seconds: number;
  readonly opsPerSec: number;
  readonly mbPerSec: number;
  /** Operations in flight at once. */
  readonly concurrency: number;
  /** Per operation, start to settle; absent where an operation has no meaningful end (a write into a stream). */
  readonly latency?: Latency;
}

export interface LoadOptions {
  readonly concurrency: number;
  /** Keep starting operations until at least this long has passed … */
  readonly minMs: number;
  /** … and at least this many have started. */
  readonly minOps: number;
  /** Never start more than this (counting warm-up): e.g. when the inputs were generated ahead. */
  readonly maxOps?: number;
  /** Untimed operations first, so that connections, JIT and caches are warm when the clock starts. */
  readonly warmupMs?: number;
  /** Awaited before the clock stops: work an operation started but did not wait for (replicas beyond a majority). */
  readonly drain?: () => Promise<void>;
}

/** What a measured operation is given: its index, unique across warm-up and the timed run. */
export type Operation = (index: number) => Promise<unknown>;

/**
 * Runs `op` with `concurrency` in flight until both minimums are met (or maxOps is reached), then drains.
 * Each operation counts `bytesPerOp` towards MB/s.
 */
export async function measureLoad(name: string, bytesPerOp: number, op: Operation, options: LoadOptions): Promise<Measurement> {
  const maxOps = options.maxOps ?? Number.POSITIVE_INFINITY;
  let next = 0;
  if (options.warmupMs !== undefined && options.warmupMs > 0) {
    // Warm-up may take at most a tenth of a bounded input, so the timed run keeps nearly all of it.
    const warmupEnd = performance.now() + options.warmupMs;
    const warmupMax = Math.floor(maxOps / 10);
    await runWindow(options.concurrency, () => performance.now() < warmupEnd && next < warmupMax, () => op(next++), null);
    await options.drain?.();
  }
  const latencies: number[] = [];
  const first = next;
  const start = performance.now();
  const until = start + options.minMs;
  const more = (): boolean => next < maxOps && (performance.now() < until || next - first < options.minOps);
  await runWindow(options.concurrency, more, () => op(next++), latencies);
  await options.drain?.();
  const elapsedMs = performance.now() - start;
  return summarize(name, { ops: next - first, bytes: (next - first) * bytesPerOp, elapsedMs, concurrency: options.concurrency, latencies });
}

/** `concurrency` workers, each starting the next operation when its last settles: a window of that many in flight. */
async function runWindow(concurrency: number, more: () => boolean, start: () => Promise<unknown>, latencies: number[] | null): Promise<void> {
  let failure: { error: unknown } | undefined;
  const worker = async (): Promise<void> => {
    while (failure === undefined && more()) {
      const began = performance.now();
      try {
        await start();
      } catch (error) {
        // The first failure stops every worker; a benchmark of failing operations measures nothing.
        failure ??= { error };
        return;
      }
      latencies?.push(performance.now() - began);
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
  if (failure !== undefined) throw failure.error;
}

export interface RawFigures {
  readonly ops: number;
  readonly bytes: number;
  readonly elapsedMs: number;
  readonly concurrency: number;
  readonly latencies?: readonly number[];
}

/** Turns counts and a duration into a Measurement; for measurements that do not fit measureLoad (streams). */
export function summarize(name: string, raw: RawFigures): Measurement {
  const seconds = raw.elapsedMs / 1000;
  const base = {
    name,
    ops: raw.ops,
    bytes: raw.bytes,
    seconds,
    opsPerSec: raw.ops / seconds,
    mbPerSec: raw.bytes / MB / seconds,
    concurrency: raw.concurrency,
  };
  return raw.latencies && raw.latencies.length > 0 ? { ...base, latency: percentiles(raw.latencies) } : base;
}

/** Nearest-rank percentiles. */
export function percentiles(samples: readonly number[]): Latency {
  const sorted = Float64Array.from(samples).sort();
  const at = (p: number): number => sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(p * sorted.length) - 1))] ?? Number.NaN;
  return { p50Ms: at(0.5), p90Ms: at(0.9), p99Ms: at(0.99), maxMs: at(1) };
}

/** Wall-clock stopwatch in milliseconds. */
export function stopwatch(): () => number {
  const start = performance.now();
  return () => performance.now() - start;
}
