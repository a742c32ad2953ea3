// One node's copy of the member list, kept sorted by (idHash, id) with the anti-entropy bucket hashes maintained as records change.
//
// Why this layout: every node holds every member (DESIGN §5), so a 10,000-node simulation in one process holds
// 10^8 entries. Parallel arrays sorted by id hash cost about 20 bytes per entry (a pointer to the shared,
// immutable record, a 4-byte hash, an 8-byte last-heard time), where a Map per node costs about 50 more.
// Sorting by hash also makes each anti-entropy bucket (the top bits of the hash) one contiguous slice.
import { assert } from '../base/assert.js';
import { idHash, isGone, recordFingerprint, type Member } from './membership.js';

/** A member list prepared once (sorted, hashed) and loaded by many tables: restarts and simulations. */
export interface MemberSnapshot {
  readonly records: readonly Member[];
  readonly idHashes: Uint32Array;
  readonly bucketHashes: Uint32Array;
}

const HASH_SPACE = 4294967296;

export function bucketShift(bucketCount: number): number {
  assert(Number.isInteger(Math.log2(bucketCount)) && bucketCount >= 1 && bucketCount <= 65536, 'bucket count is a power of two');
  return 32 - Math.log2(bucketCount);
}

/** The bucket of a hash: its top log2(bucketCount) bits. */
export function bucketOf(hash: number, shift: number): number {
  return shift >= 32 ? 0 : hash >>> shift;
}

const before = (hashA: number, idA: string, hashB: number, idB: string): boolean =>
  hashA < hashB || (hashA === hashB && idA < idB);

/** Sorts and hashes a list once; the records are shared, not copied, by every table loaded from it. */
export function snapshotMembers(members: readonly Member[], bucketCount: number): MemberSnapshot {
  const shift = bucketShift(bucketCount);
  const keyed = members.map((record) => ({ record, hash: idHash(record.id) }));
  keyed.sort((a, b) => (before(a.hash, a.record.id, b.hash, b.record.id) ? -1 : 1));
  const idHashes = new Uint32Array(keyed.length);
  const bucketHashes = new Uint32Array(bucketCount);
  keyed.forEach(({ record, hash }, i) => {
    assert(i === 0 || keyed[i - 1]?.record.id !== record.id, `member ${record.id} listed twice`);
    idHashes[i] = hash;
    if (!isGone(record.state)) bucketHashes[bucketOf(hash, shift)]! ^= recordFingerprint(record);
  });
  return { records: keyed.map((k) => k.record), idHashes, bucketHashes };
}

export class MemberTable {
  readonly bucketCount: number;
  readonly #shift: number;
  #records: Member[];
  #hashes: Uint32Array;
  #heardMs: Float64Array;
  #bucketHashes: Uint32Array;

  constructor(bucketCount: number, snapshot?: MemberSnapshot) {
    this.bucketCount = bucketCount;
    this.#shift = bucketShift(bucketCount);
    const size = snapshot?.records.length ?? 0;
    assert(snapshot === undefined || snapshot.bucketHashes.length === bucketCount, 'snapshot made for another bucket count');
    this.#records = snapshot ? snapshot.records.slice() : [];
    this.#hashes = new Uint32Array(Math.max(16, size));
    if (snapshot) this.#hashes.set(snapshot.idHashes);
    this.#heardMs = new Float64Array(Math.max(16, size)).fill(Number.NaN);
    this.#bucketHashes = snapshot ? snapshot.bucketHashes.slice() : new Uint32Array(bucketCount);
  }

  get size(): number {
    return this.#records.length;
  }

  at(slot: number): Member | undefined {
    return this.#records[slot];
  }

  /** Slot of a member, or -1: binary search on the hash, then the ids of equal hashes. */
  slotOf(id: string, hash: number = idHash(id)): number {
    const slot = this.#lowerBound(hash, id);
    return slot < this.#records.length && this.#records[slot]?.id === id ? slot : -1;
  }

  get(id: string): Member | undefined {
    const slot = this.slotOf(id);
    return slot < 0 ? undefined : this.#records[slot];
  }

  /** Stores a record (the caller decided that it wins) and returns the one it replaced. */
  upsert(record: Member): Member | undefined {
    const hash = idHash(record.id);
    const slot = this.#lowerBound(hash, record.id);
    const previous = this.#records[slot];
    if (previous !== undefined && previous.id === record.id) {
      this.#account(hash, previous);
      this.#records[slot] = record;
      this.#account(hash, record);
      return previous;
    }
    this.#insertAt(slot, hash, record);
    this.#account(hash, record);
    return undefined;
  }

  remove(id: string): Member | undefined {
    const hash = idHash(id);
    const slot = this.slotOf(id, hash);
    if (slot < 0) return undefined;
    const [record] = this.#records.splice(slot, 1);
    const size = this.#records.length;
    this.#hashes.copyWithin(slot, slot + 1, size + 1);
    this.#heardMs.copyWithin(slot, slot + 1, size + 1);
    if (record) this.#account(hash, record);
    return record;
  }

  heard(id: string, nowMs: number): void {
    const slot = this.slotOf(id);
    if (slot >= 0) this.#heardMs[slot] = nowMs;
  }

  lastHeardMs(id: string): number | undefined {
    const slot = this.slotOf(id);
    const value = slot < 0 ? Number.NaN : (this.#heardMs[slot] ?? Number.NaN);
    return Number.isNaN(value) ? undefined : value;
  }

  /** XOR of the fingerprints of the live (not dead, not left) records in each bucket. */
  bucketHashes(): readonly number[] {
    return Array.from(this.#bucketHashes);
  }

  bucketHash(bucket: number): number {
    return this.#bucketHashes[bucket] ?? 0;
  }

  /** The slots [start, end) of one bucket: contiguous, since the table is sorted by hash. */
  bucketRange(bucket: number): readonly [number, number] {
    const width = 2 ** this.#shift;
    return [this.#lowerBoundHash(bucket * width), this.#lowerBoundHash((bucket + 1) * width)];
  }

  bucketOfId(id: string): number {
    return bucketOf(idHash(id), this.#shift);
  }

  /** Every record, sorted by id, for people and for placement. */
  list(): Member[] {
    return this.#records.slice().sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  }

  #account(hash: number, record: Member): void {
    // XOR is its own inverse, so adding and removing a fingerprint are the same operation.
    if (!isGone(record.state)) this.#bucketHashes[bucketOf(hash, this.#shift)]! ^= recordFingerprint(record);
  }

  #insertAt(slot: number, hash: number, record: Member): void {
    const size = this.#records.length;
    if (size + 1 > this.#hashes.length) this.#grow(size * 2);
    this.#records.splice(slot, 0, record);
    this.#hashes.copyWithin(slot + 1, slot, size);
    this.#heardMs.copyWithin(slot + 1, slot, size);
    this.#hashes[slot] = hash;
    this.#heardMs[slot] = Number.NaN;
  }

  #grow(capacity: number): void {
    const hashes = new Uint32Array(capacity);
    hashes.set(this.#hashes);
    const heard = new Float64Array(capacity).fill(Number.NaN);
    heard.set(this.#heardMs);
    this.#hashes = hashes;
    this.#heardMs = heard;
  }

  /** First slot whose (hash, id) is not before (hash, id). */
  #lowerBound(hash: number, id: string): number {
    let low = this.#lowerBoundHash(hash);
    const size = this.#records.length;
    while (low < size && this.#hashes[low] === hash && (this.#records[low]?.id ?? '') < id) low++;
    return low;
  }

  /** First slot whose hash is at least `hash` (a number up to 2^32, so that the last bucket's end works). */
  #lowerBoundHash(hash: number): number {
    if (hash >= HASH_SPACE) return this.#records.length;
    let low = 0;
    let high = this.#records.length;
    while (low < high) {
      const mid = (low + high) >>> 1;
      if ((this.#hashes[mid] ?? 0) < hash) low = mid + 1;
      else high = mid;
    }
    return low;
  }
}
