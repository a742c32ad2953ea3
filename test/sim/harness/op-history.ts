// The history a workload records: every op's invocation and completion (ok, fail, unknown) in real-time order.
import type { Outcome } from '../../../storage-node/consensus/effects.js';

export type BlockModel = 'register' | 'counter';
export type OpKind = 'write' | 'read' | 'cas' | 'incr';
/** What the checker compares: a read's value, an increment's new value, a compare-and-set's verdict. */
export type OpOutput = number | null | 'ok' | 'conflict';

export interface OpRecord {
  readonly id: number;
  readonly client: string;
  readonly block: string;
  readonly model: BlockModel;
  readonly kind: OpKind;
  /** write / cas: the value written. */
  readonly value?: number;
  /** cas: the value it expects. */
  readonly expected?: number;
  /** Conditional read: the version the client holds. */
  readonly ifNewerThan?: number;
  /** Order of events in the run (invocations and completions share one counter): real-time order. */
  readonly invokeSeq: number;
  readonly invokeMs: number;
  status: 'pending' | 'ok' | 'fail' | 'unknown';
  output?: OpOutput;
  version?: number;
  completeSeq?: number;
  completeMs?: number;
  /** Why the op failed or is unknown (an error kind). */
  reason?: string;
}

export class History {
  readonly records: OpRecord[] = [];
  /** Problems seen while recording (a not-modified read that contradicts the client's cache). */
  readonly anomalies: string[] = [];
  #seq = 0;

  invoke(fields: Omit<OpRecord, 'id' | 'invokeSeq' | 'status'>): OpRecord {
    const record: OpRecord = { ...fields, id: this.records.length, invokeSeq: this.#seq++, status: 'pending' };
    this.records.push(record);
    return record;
  }

  /**
   * Records a completion. `cached` is what the client knew at the version it sent as ifNewerThan, so a not-modified
   * answer can be turned into the value it stands for.
   */
  complete(record: OpRecord, outcome: Outcome<number>, nowMs: number, cached?: { version: number; value: number | null }): void {
    record.completeSeq = this.#seq++;
    record.completeMs = nowMs;
    switch (outcome.status) {
      case 'ok':
        record.status = 'ok';
        record.version = outcome.version;
        if (record.kind === 'read' || record.kind === 'incr') record.output = outcome.content ?? (record.model === 'counter' ? 0 : null);
        if (record.kind === 'cas') record.output = 'ok';
        return;
      case 'not-modified':
        record.status = 'ok';
        record.version = outcome.version;
        if (cached === undefined || cached.version !== outcome.version) {
          this.anomalies.push(`op ${record.id}: not-modified at version ${outcome.version}, but the client held version ${cached?.version}`);
        }
        record.output = cached?.value ?? null;
        return;
      case 'failed':
        if (record.kind === 'cas' && outcome.error.kind === 'Conflict') {
          record.status = 'ok'; // a definite observation: the value was not the expected one
          record.output = 'conflict';
        } else {
          record.status = 'fail';
          record.reason = outcome.error.kind;
        }
        return;
      case 'unknown':
        record.status = 'unknown';
        record.reason = outcome.error.kind;
        return;
    }
  }

  /** Ops still pending when the run ended: they may or may not have happened. */
  closePending(): void {
    for (const record of this.records) if (record.status === 'pending') record.status = 'unknown';
  }

  counts(): Record<OpRecord['status'], number> {
    const counts = { pending: 0, ok: 0, fail: 0, unknown: 0 };
    for (const record of this.records) counts[record.status]++;
    return counts;
  }
}
