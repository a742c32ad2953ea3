// What to send and to whom: the piggyback queue of recent changes, random peer choice, and the anti-entropy digest exchange.
//
// Two mechanisms, as SWIM and Scuttlebutt divide the work:
// - Infection-style dissemination (SWIM §4.1): every change a node learns goes into a queue and rides on the
//   next probes, acks and gossip messages, each change sent about λ·log(n) times by every node that learned
//   it (memberlist's TransmitLimitedQueue). A change reaches n nodes in O(log n) rounds, and a node's bytes
//   per second depend on the rate of changes, not on n.
// - Anti-entropy (after Scuttlebutt, van Renesse et al. 2008, §3.2): repairs what the infection missed (loss,
//   partitions, joins). Scuttlebutt's digest is one (member, version) pair per member: at 10,000 members that
//   is over 100 KB per exchange. Here the digest is a fixed array of bucket hashes (XOR of record fingerprints
//   of the members whose id hash falls in the bucket): 256 buckets cost about 1.3 KB at any n. The peer
//   answers with the records of the buckets that differ (≈ n/256 each), and the asker pushes back whatever it
//   holds newer in those buckets. One round trip narrows to the differing buckets; records travel only there.
//   Dead and left records do not enter the hashes, so a node that has forgotten a tombstone (or never knew the
//   member) agrees with one that still keeps it. Records learned this way are not re-infected, and a pull goes
//   on past one reply only while it teaches new members (a joiner): see AntiEntropy.
import type { Random } from '../base/random.js';
import type { MemberTable } from './member-table.js';
import { compareRecords, isGone, STATE_RANK, type Member } from './membership.js';
import { toTuple, type RecordTuple, type SyncMessage, type SyncReplyMessage } from './overlay-messages.js';

/** memberlist: retransmitMult × ceil(log10(n + 1)); SWIM §4.1's λ·log(n) with λ = retransmitMult. */
export function retransmitLimit(retransmitMult: number, memberCount: number): number {
  return retransmitMult * Math.max(1, Math.ceil(Math.log10(memberCount + 1)));
}

/** Under mass change, a duplicate received counts as floor(pending changes in its lane / this) of our transmissions. */
const DUPLICATE_WEIGHT_LANE = 32;

interface QueueEntry {
  readonly tuple: RecordTuple;
  transmits: number;
  /** False once a newer record of the same member replaced this one, or once it was sent enough. */
  live: boolean;
  /** The take() call that last sent it, so that one message never carries it twice. */
  lastTake: number;
}

/**
 * One priority class of the queue. New entries wait in `fresh`; sent ones cycle through `ring` in the order they
 * were sent, so the head of the ring is the least-sent: O(k) per message however many changes are pending.
 */
class Lane {
  /** Live entries in this lane. */
  size = 0;
  #fresh: QueueEntry[] = [];
  #freshHead = 0;
  #ring: QueueEntry[] = [];
  #ringHead = 0;

  add(entry: QueueEntry): void {
    this.#fresh.push(entry);
  }

  /** The next live entry not yet in this message, or undefined when the lane has none. */
  next(take: number): QueueEntry | undefined {
    for (;;) {
      let entry: QueueEntry | undefined;
      if (this.#freshHead < this.#fresh.length) entry = this.#fresh[this.#freshHead++];
      else if (this.#ringHead < this.#ring.length) entry = this.#ring[this.#ringHead++];
      if (entry === undefined) return undefined;
      if (!entry.live) continue;
      if (entry.lastTake === take) {
        this.#ringHead--; // went round the whole ring: put it back
        return undefined;
      }
      return entry;
    }
  }

  sent(entry: QueueEntry): void {
    this.#ring.push(entry);
  }

  compact(): void {
    if (this.#freshHead > 64 && this.#freshHead * 2 > this.#fresh.length) {
      this.#fresh = this.#fresh.slice(this.#freshHead);
      this.#freshHead = 0;
    }
    if (this.#ringHead > 64 && this.#ringHead * 2 > this.#ring.length) {
      this.#ring = this.#ring.slice(this.#ringHead);
      this.#ringHead = 0;
    }
  }
}

/**
 * Recent changes, each sent a limited number of times, fewest-sent first, in two lanes. Records the owner wrote
 * (alive, draining, left: refutations, joins, leaves) go before rumours (suspect, dead): a refutation must reach
 * every suspecting node before its timer runs out, while a death verdict only makes a removal faster. Without
 * this, after a partition a refutation waited behind a thousand death verdicts for longer than the suspicion
 * timeout, and a live node was declared dead.
 */
export class TransmitQueue {
  readonly #entries = new Map<string, QueueEntry>();
  readonly #urgent = new Lane();
  readonly #rumours = new Lane();
  #takes = 0;

  get size(): number {
    return this.#entries.size;
  }

  has(id: string): boolean {
    return this.#entries.has(id);
  }

  /** Queues a member's newest record, replacing (and restarting the count of) an older one. */
  push(record: Member): void {
    const old = this.#entries.get(record.id);
    if (old) this.#retire(old);
    const entry: QueueEntry = { tuple: toTuple(record), transmits: 0, live: true, lastTake: 0 };
    this.#entries.set(record.id, entry);
    const lane = this.#laneOf(entry);
    lane.size++;
    lane.add(entry);
  }

  /**
   * Receiving a record we already hold means the rumour has spread. Under mass change (a lane holding more
   * than DUPLICATE_WEIGHT_LANE changes, as after a partition heals) such a duplicate counts as transmissions
   * of ours (rumour mongering with feedback, Demers et al. 1987, §1.4), more the longer the lane: push
   * infection needs about n·ln n sends per change to reach everyone, which a thousand simultaneous changes
   * turn into a flood, and the few nodes left out are anti-entropy's to repair. A normal queue is below the
   * threshold and keeps SWIM's full λ·log n redundancy: feedback there would leave ~1 node in 3,000 out of
   * each change for up to syncIntervalMs.
   */
  heardAgain(id: string, limit: number): void {
    const entry = this.#entries.get(id);
    if (entry === undefined) return;
    entry.transmits += Math.floor(this.#laneOf(entry).size / DUPLICATE_WEIGHT_LANE);
    if (entry.transmits >= limit) this.#retire(entry);
  }

  /** Up to `max` records for one message; an entry sent `limit` times leaves the queue. */
  take(max: number, limit: number): RecordTuple[] {
    const out: RecordTuple[] = [];
    const take = ++this.#takes;
    for (const lane of [this.#urgent, this.#rumours]) {
      while (out.length < max) {
        const entry = lane.next(take);
        if (entry === undefined) break;
        entry.lastTake = take;
        entry.transmits++;
        out.push(entry.tuple);
        if (entry.transmits < limit) lane.sent(entry);
        else this.#retire(entry);
      }
      lane.compact();
    }
    return out;
  }

  #retire(entry: QueueEntry): void {
    if (!entry.live) return;
    entry.live = false;
    this.#laneOf(entry).size--;
    if (this.#entries.get(entry.tuple[0]) === entry) this.#entries.delete(entry.tuple[0]);
  }

  #laneOf(entry: QueueEntry): Lane {
    return entry.tuple[6] <= STATE_RANK.draining || entry.tuple[6] === STATE_RANK.left ? this.#urgent : this.#rumours;
  }
}

/**
 * Up to `count` distinct members that pass `eligible`, uniformly at random: rejection sampling over slots
 * (O(count) when most members are eligible), then one scan when few are.
 */
export function pickPeers(table: MemberTable, random: Random, count: number, eligible: (m: Member) => boolean): Member[] {
  const chosen: Member[] = [];
  const size = table.size;
  if (size === 0 || count <= 0) return chosen;
  for (let attempt = 0; attempt < count * 8 && chosen.length < count; attempt++) {
    const member = table.at(random.int(size));
    if (member && eligible(member) && !chosen.includes(member)) chosen.push(member);
  }
  if (chosen.length < count) {
    const rest: Member[] = [];
    for (let slot = 0; slot < size; slot++) {
      const member = table.at(slot);
      if (member && eligible(member) && !chosen.includes(member)) rest.push(member);
    }
    random.shuffle(rest);
    chosen.push(...rest.slice(0, count - chosen.length));
  }
  return chosen;
}

export interface SyncReplyPlan {
  readonly buckets: number[];
  readonly records: Member[];
  readonly more: boolean;
}

/**
 * The buckets whose hash differs from the peer's (all non-empty ones when `remote` is undefined: a joiner),
 * from a random start so that repeated capped replies cover every bucket, and all their records (tombstones
 * included, so that a stale alive is corrected). Whole buckets only, up to about `recordsMax` records.
 */
export function planSyncReply(table: MemberTable, remote: readonly number[] | undefined, startBucket: number, recordsMax: number): SyncReplyPlan {
  const count = table.bucketCount;
  const buckets: number[] = [];
  const records: Member[] = [];
  for (let k = 0; k < count; k++) {
    const bucket = (startBucket + k) % count;
    if (table.bucketHash(bucket) === (remote?.[bucket] ?? 0)) continue;
    const [start, end] = table.bucketRange(bucket);
    if (records.length > 0 && records.length + (end - start) > recordsMax) return { buckets, records, more: true };
    buckets.push(bucket);
    for (let slot = start; slot < end; slot++) {
      const record = table.at(slot);
      if (record) records.push(record);
    }
  }
  return { buckets, records, more: false };
}

/**
 * After merging a sync reply: the records of the covered buckets that the peer lacks or holds older, to push
 * back (the push half of push-pull). Tombstones the peer does not have are not pushed: they are not in the
 * hashes, and a member it never knew needs none.
 */
export function planSyncPush(table: MemberTable, buckets: readonly number[], remote: readonly Member[]): Member[] {
  const theirs = new Map(remote.map((r) => [r.id, r]));
  const push: Member[] = [];
  for (const bucket of buckets) {
    if (bucket >= table.bucketCount) continue;
    const [start, end] = table.bucketRange(bucket);
    for (let slot = start; slot < end; slot++) {
      const mine = table.at(slot);
      if (mine === undefined) continue;
      const their = theirs.get(mine.id);
      if (their === undefined ? !isGone(mine.state) : compareRecords(mine, their) > 0) push.push(mine);
    }
  }
  return push;
}

/** Consecutive anti-entropy pulls after replies that said `more`: 64 × syncRecordsMax covers 32,768 members. */
const SYNC_PULLS_MAX = 64;

/**
 * One node's side of the anti-entropy exchange: sync (our digest) → sync-reply (their differing buckets) →
 * sync-reply covering no bucket (what we hold newer, pushed back). The caller merges received records.
 */
export class AntiEntropy {
  readonly #table: MemberTable;
  readonly #random: Random;
  readonly #recordsMax: number;
  #pulls = 0;
  /** A joiner pulling the member list: set while replies teach new members and say `more`. */
  catchingUp = false;

  constructor(table: MemberTable, random: Random, recordsMax: number) {
    this.#table = table;
    this.#random = random;
    this.#recordsMax = recordsMax;
  }

  digest(src: string): SyncMessage {
    return { kind: 'sync', src, hashes: this.#table.bucketHashes() };
  }

  /** The reply to a peer's digest (of our size: the caller checks), or undefined when we agree: silence is the answer. */
  answer(src: string, digest: SyncMessage): SyncReplyMessage | undefined {
    const plan = planSyncReply(this.#table, digest.hashes, this.#random.int(this.#table.bucketCount), this.#recordsMax);
    if (plan.buckets.length === 0) return undefined;
    return { kind: 'sync-reply', src, buckets: plan.buckets, records: plan.records.map(toTuple), more: plan.more };
  }

  /** A joiner knows only our address: answer as to an empty digest, with what we hold of the joiner first. */
  answerJoin(src: string, joiner: Member | undefined): SyncReplyMessage {
    const plan = planSyncReply(this.#table, undefined, this.#random.int(this.#table.bucketCount), this.#recordsMax);
    const records = joiner === undefined ? plan.records : [joiner, ...plan.records.filter((r) => r.id !== joiner.id)];
    return { kind: 'sync-reply', src, buckets: plan.buckets, records: records.map(toTuple), more: plan.more };
  }

  /**
   * After the caller merged a reply (`newMembers` of its records were unknown to us): the push-back messages,
   * and whether to pull again at once. Pulling continues only while replies teach us members we did not know
   * (a joiner catching up). After a partition heals nearly every bucket differs, and pulling them all would be
   * memberlist's full-state push-pull at every exchange; the refutations that make views agree travel by
   * infection anyway.
   */
  afterReply(src: string, reply: SyncReplyMessage, records: readonly Member[], newMembers: number): { push: SyncReplyMessage[]; pullAgain: boolean } {
    const mine = planSyncPush(this.#table, reply.buckets, records);
    const push: SyncReplyMessage[] = [];
    for (let i = 0; i < mine.length; i += this.#recordsMax) {
      push.push({ kind: 'sync-reply', src, buckets: [], records: mine.slice(i, i + this.#recordsMax).map(toTuple), more: false });
    }
    this.catchingUp = reply.more && newMembers > records.length / 2 && this.#pulls < SYNC_PULLS_MAX;
    this.#pulls = this.catchingUp ? this.#pulls + 1 : 0;
    return { push, pullAgain: this.catchingUp };
  }
}
