// Checks a recorded history: linearizable per block (Wing–Gong), and no acknowledged write lost by the end.
import type { OpRecord } from '../harness/op-history.js';
import { checkLinearizable, type CheckOp, type CheckResult } from './linearizability.js';
import { counterModel, registerModel } from './models.js';

export interface BlockReport {
  readonly block: string;
  readonly ops: number;
  readonly result: CheckResult;
}

export interface HistoryReport {
  readonly linearizable: boolean;
  readonly blocks: readonly BlockReport[];
  /** Acknowledged writes missing from the final state, and other end-state contradictions. */
  readonly lost: readonly string[];
  readonly checkMs: number;
}

/** The ops the checker sees: failed ops had no effect and are left out; unknown ones never return. */
export function toCheckOps(records: readonly OpRecord[]): CheckOp[] {
  const ops: CheckOp[] = [];
  for (const r of records) {
    if (r.status === 'fail' || r.status === 'pending') continue;
    const known = r.status === 'ok';
    const input = { kind: r.kind, ...(r.value === undefined ? {} : { value: r.value }), ...(r.expected === undefined ? {} : { expected: r.expected }) };
    ops.push({ id: r.id, call: r.invokeSeq, ret: known ? (r.completeSeq as number) : Infinity, input, output: known ? r.output : undefined });
  }
  return ops;
}

export function checkHistory(records: readonly OpRecord[], finals: readonly OpRecord[], now: () => number): HistoryReport {
  const started = now();
  const byBlock = new Map<string, OpRecord[]>();
  for (const r of records) {
    const list = byBlock.get(r.block) ?? [];
    list.push(r);
    byBlock.set(r.block, list);
  }
  const blocks: BlockReport[] = [];
  for (const [block, list] of [...byBlock].sort(([a], [b]) => (a < b ? -1 : 1))) {
    const ops = toCheckOps(list);
    const model = list[0]?.model;
    const result = model === 'counter' ? checkLinearizable(counterModel, ops) : checkLinearizable(registerModel, ops);
    blocks.push({ block, ops: ops.length, result });
  }
  const lost = lostWrites(records, finals);
  return { linearizable: blocks.every((b) => b.result.ok), blocks, lost, checkMs: now() - started };
}

/**
 * Every acknowledged update must be in the final state: the final version is at least the version of every ok
 * update; a counter ends between its ok increments and ok + unknown; a register ends at the value its last version
 * wrote, when an ok op reported that version.
 */
export function lostWrites(records: readonly OpRecord[], finals: readonly OpRecord[]): string[] {
  const problems: string[] = [];
  for (const final of finals) {
    if (final.status !== 'ok' || final.version === undefined) {
      problems.push(`${final.block}: the final read did not complete (${final.status} ${final.reason ?? ''})`);
      continue;
    }
    const mine = records.filter((r) => r.block === final.block && r !== final);
    const updates = mine.filter((r) => r.kind !== 'read' && r.status === 'ok' && r.output !== 'conflict');
    const newest = Math.max(0, ...updates.map((r) => r.version ?? 0));
    if (final.version < newest) problems.push(`${final.block}: final version ${final.version} < acknowledged version ${newest}`);
    if (final.model === 'counter') {
      const ok = updates.length;
      const unknown = mine.filter((r) => r.kind === 'incr' && r.status === 'unknown').length;
      const value = final.output as number;
      if (value < ok || value > ok + unknown) problems.push(`${final.block}: counter ends at ${value}, expected ${ok}..${ok + unknown}`);
    } else {
      // Ops in one batch share a version; the last of them in the batch wrote the version's value.
      const atFinal = updates.filter((r) => r.version === final.version && (r.kind === 'write' || r.kind === 'cas'));
      if (atFinal.length > 0 && !atFinal.some((r) => r.value === final.output)) {
        problems.push(`${final.block}: final value ${String(final.output)} was not written at version ${final.version}`);
      }
    }
  }
  return problems;
}
