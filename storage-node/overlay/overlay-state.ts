// One node's membership knowledge (member table, queue of recent changes, tombstones, its own record), changed only through the merge rule.
import { assert } from '../base/assert.js';
import { retransmitLimit, TransmitQueue } from './gossip-plan.js';
import { MemberTable, snapshotMembers, type MemberSnapshot } from './member-table.js';
import { compareRecords, isGone, sameRecord, STATE_RANK, supersedes, withState, type Member } from './membership.js';
import type { OverlayConfig } from './overlay-config.js';
import { fromTuple, toTuple, type RecordTuple } from './overlay-messages.js';

/**
 * Where a record comes from decides what is done with it besides merging:
 * - 'gossip': infection-style (piggybacked, gossip, a joiner's own record), and 'local': this node's verdicts.
 *   Both are queued to be passed on (SWIM §4.1).
 * - 'sync': anti-entropy. Old news to most nodes, so not passed on (a joiner would re-gossip the whole list).
 * Death verdicts from others may be taken as suspicions first: see learn().
 */
export type RecordSource = 'gossip' | 'local' | 'sync';

export interface StateListener {
  /** A record changed (and was queued for dissemination unless it came from anti-entropy or was demoted). */
  onChanged(record: Member, previous: Member | undefined): void;
  /** Something was queued for dissemination: a gossip round is due. */
  onQueued(): void;
  /** A suspicion taken without passing it on (from anti-entropy, or a demoted death verdict): its subject may never hear of it otherwise, so tell it directly. */
  onNotice(record: Member): void;
}

type Mutable<T> = { -readonly [K in keyof T]: T[K] };
type StateConfig = Pick<OverlayConfig, 'syncBuckets' | 'retransmitMult' | 'usedBytesPublishIntervalMs' | 'deadMemberRetentionMs'>;

interface Tombstone {
  /** When this node learned it: records are forgotten deadMemberRetentionMs later. */
  readonly sinceMs: number;
  readonly dead: boolean;
}

export class OverlayState {
  readonly table: MemberTable;
  readonly queue = new TransmitQueue();
  readonly #config: StateConfig;
  readonly #listener: StateListener;
  readonly #gone = new Map<string, Tombstone>();
  #self: Member;
  #pendingUsedBytes: number | undefined;
  #lastPublishMs = Number.NEGATIVE_INFINITY;
  refutations = 0;

  constructor(config: StateConfig, self: Member, initial: readonly Member[] | MemberSnapshot, listener: StateListener) {
    this.#config = config;
    this.#listener = listener;
    const snapshot = 'idHashes' in initial && initial.bucketHashes.length === config.syncBuckets
      ? initial : snapshotMembers('idHashes' in initial ? initial.records : initial, config.syncBuckets);
    this.table = new MemberTable(config.syncBuckets, snapshot);
    assert(self.state === 'alive' || self.state === 'draining', 'a node starts alive or draining');
    const known = this.table.get(self.id);
    // A saved record of ourselves from a previous run: start above it, as a refutation would.
    const start = known !== undefined && !sameRecord(known, self) && known.incarnation >= self.incarnation
      ? { ...self, incarnation: known.incarnation + 1 } : self;
    this.#self = start;
    this.table.upsert(start);
  }

  get self(): Member {
    return this.#self;
  }

  get goneCount(): number {
    return this.#gone.size;
  }

  /** Tombstones of the initial list date from the first step, when the time is first known. */
  start(nowMs: number): void {
    for (let slot = 0; slot < this.table.size; slot++) {
      const record = this.table.at(slot);
      if (record && record.id !== this.#self.id && isGone(record.state)) this.#gone.set(record.id, { sinceMs: nowMs, dead: record.state === 'dead' });
    }
  }

  /**
   * Records from gossip. Most are duplicates (each change reaches a node about λ·log n times), so they are
   * compared on (incarnation, state) only, without building an object: two records that differ in nothing else
   * happen only when a node restarts at an old incarnation with new fields, and anti-entropy (whose hashes cover
   * every field, and whose merge compares every field) settles that case.
   */
  learnTuples(tuples: readonly RecordTuple[], source: RecordSource, nowMs: number): void {
    const limit = retransmitLimit(this.#config.retransmitMult, this.table.size);
    for (const tuple of tuples) {
      if (tuple[0] === this.#self.id) {
        this.#answerRumour(fromTuple(tuple), nowMs);
        continue;
      }
      const known = this.table.get(tuple[0]);
      if (known !== undefined) {
        const rank = STATE_RANK[known.state];
        if (tuple[7] < known.incarnation || (tuple[7] === known.incarnation && tuple[6] < rank)) continue;
        if (tuple[7] === known.incarnation && tuple[6] === rank) {
          this.queue.heardAgain(known.id, limit); // known.id: our own copy of the string, hashed once
          continue;
        }
      }
      this.learn(fromTuple(tuple), source, nowMs);
    }
  }

  /**
   * The merge rule (membership.compareRecords): keep the greater record. Two refinements for records from
   * others, both about not spreading a verdict this node has no evidence for:
   * - a dead verdict about a member this node does not suspect (at that incarnation) is taken as a suspicion,
   *   with its own timer, and not passed on. After a crash, nodes hold the suspicion already (it spread first),
   *   so nothing changes; after a partition heals, the other side's verdicts stop at the first node that
   *   still sees the member alive, instead of making every node declare it dead until it refutes;
   * - a suspicion taken this way or from anti-entropy is told to its subject directly, since no gossip will.
   */
  learn(incoming: Member, source: RecordSource, nowMs: number): void {
    if (incoming.id === this.#self.id) return this.#answerRumour(incoming, nowMs);
    const previous = this.table.get(incoming.id);
    // A tombstone of a member we never knew protects nothing here (and would undo forgetting it).
    if (previous === undefined) {
      if (isGone(incoming.state)) return;
    } else if (incoming.state === 'dead' && source !== 'local' && !isGone(previous.state)
      && !(previous.state === 'suspect' && previous.incarnation === incoming.incarnation)) {
      return this.#store(withState(incoming, 'suspect'), previous, false, nowMs);
    }
    this.#store(incoming, previous, source !== 'sync', nowMs);
  }

  #store(record: Member, previous: Member | undefined, infect: boolean, nowMs: number): void {
    if (!supersedes(record, previous)) return;
    this.table.upsert(record);
    if (!isGone(record.state)) this.#gone.delete(record.id);
    else if (previous === undefined || !isGone(previous.state)) this.#gone.set(record.id, { sinceMs: nowMs, dead: record.state === 'dead' });
    else this.#gone.set(record.id, { sinceMs: this.#gone.get(record.id)?.sinceMs ?? nowMs, dead: record.state === 'dead' });
    this.#listener.onChanged(record, previous);
    if (infect) this.#queue(record);
    else if (record.state === 'suspect') this.#listener.onNotice(record);
  }

  /**
   * SWIM §4.2: a rumour that would win over our own record (we are suspect or dead at our incarnation, or a record
   * from a previous life) is refuted with a higher incarnation; one that loses to ours needs no answer.
   */
  #answerRumour(record: Member, nowMs: number): void {
    if (compareRecords(record, this.#self) <= 0) {
      // An old verdict on us is still about: we refuted it already, perhaps on one side of a partition while the
      // other side kept it. Nobody else will pass on our current record (it is news to no one who spreads), so
      // spread it again, once per verdict heard while it is not already queued.
      if ((record.state === 'suspect' || record.state === 'dead') && !this.queue.has(this.#self.id)) this.#queue(this.#self);
      return;
    }
    this.refutations++;
    this.publishSelf({ incarnation: record.incarnation + 1 }, nowMs);
  }

  /** Every change of our own record takes a new incarnation, so that (id, incarnation) names one version of our fields. */
  publishSelf(fields: Partial<Pick<Member, 'capacityBytes' | 'state' | 'incarnation'>>, nowMs: number): void {
    const previous = this.#self;
    const next: Mutable<Member> = { ...previous, ...fields, incarnation: Math.max(previous.incarnation + 1, fields.incarnation ?? 0) };
    if (this.#pendingUsedBytes !== undefined) next.usedBytes = this.#pendingUsedBytes;
    this.#pendingUsedBytes = undefined;
    this.#lastPublishMs = nowMs;
    this.#self = next;
    this.table.upsert(next);
    this.#listener.onChanged(next, previous);
    this.#queue(next);
  }

  #queue(record: Member): void {
    this.queue.push(record);
    this.#listener.onQueued();
  }

  /**
   * Capacity and draining matter to placement at once. Used bytes change on every write, and each publication
   * costs every node a record, so they wait until usedBytesPublishIntervalMs after the last publication.
   */
  updateSelf(update: { readonly usedBytes?: number; readonly capacityBytes?: number; readonly state?: 'alive' | 'draining' }, nowMs: number): void {
    for (const value of [update.usedBytes, update.capacityBytes]) {
      assert(value === undefined || (Number.isSafeInteger(value) && value >= 0), 'byte counts are non-negative integers');
    }
    const fields: Mutable<Partial<Pick<Member, 'capacityBytes' | 'state'>>> = {};
    if (update.capacityBytes !== undefined && update.capacityBytes !== this.#self.capacityBytes) fields.capacityBytes = update.capacityBytes;
    if (update.state !== undefined && update.state !== this.#self.state) fields.state = update.state;
    if (update.usedBytes !== undefined) this.#pendingUsedBytes = update.usedBytes === this.#self.usedBytes ? undefined : update.usedBytes;
    if (Object.keys(fields).length > 0 || nowMs >= this.publishDueMs) this.publishSelf(fields, nowMs);
  }

  /** When a pending used-bytes change is due (infinity when none is pending). */
  get publishDueMs(): number {
    return this.#pendingUsedBytes === undefined ? Number.POSITIVE_INFINITY : this.#lastPublishMs + this.#config.usedBytesPublishIntervalMs;
  }

  /** Records for one message: the recipient's own record first when we hold it suspect or dead (so it can refute), then recent changes. */
  updates(recipient: string | undefined, max: number): RecordTuple[] {
    const out: RecordTuple[] = [];
    const record = recipient === undefined ? undefined : this.table.get(recipient);
    const prepended = record !== undefined && (record.state === 'suspect' || record.state === 'dead');
    if (prepended) out.push(toTuple(record));
    const limit = retransmitLimit(this.#config.retransmitMult, this.table.size);
    for (const tuple of this.queue.take(max - out.length, limit)) {
      if (!prepended || tuple[0] !== recipient) out.push(tuple);
    }
    return out;
  }

  /** Members held dead (not left): the candidates for a reconnect. */
  deadIds(): string[] {
    const ids: string[] = [];
    for (const [id, tombstone] of this.#gone) if (tombstone.dead) ids.push(id);
    return ids;
  }

  /** Forgets dead and left members learned deadMemberRetentionMs ago: by then no stale record of them is in flight. */
  forgetGone(nowMs: number): void {
    for (const [id, tombstone] of this.#gone) {
      if (nowMs - tombstone.sinceMs < this.#config.deadMemberRetentionMs) continue;
      this.table.remove(id);
      this.#gone.delete(id);
    }
  }
}
