// Goal: the member record's merge rule is a total order (so merging is a max: commutative, associative, idempotent),
// its precedence is SWIM's, and the member table keeps lookups, buckets and bucket hashes right through any sequence
// of changes. Method: hand-picked cases for the precedence, seeded random histories for the algebra, and a
// recomputation from scratch to check the table's incremental hashes (including ids whose hashes collide).
import test from 'ava';
import { Random } from '../../../../storage-node/base/random.js';
import { MemberTable, snapshotMembers } from '../../../../storage-node/overlay/member-table.js';
import {
  compareRecords, idHash, isServing, mergeRecord, recordFingerprint, sameRecord, supersedes, withState,
  type Member, type MemberState,
} from '../../../../storage-node/overlay/membership.js';
import { fromTuple, toTuple } from '../../../../storage-node/overlay/overlay-messages.js';

const base: Member = {
  id: 'node-a', address: '10.0.0.1:7000', zone: 'z1', rack: 'r1',
  capacityBytes: 4_000_000_000_000, usedBytes: 1_000, state: 'alive', incarnation: 3,
};
const at = (state: MemberState, incarnation: number, fields: Partial<Member> = {}): Member => ({ ...base, ...fields, state, incarnation });

test('a higher incarnation wins whatever the states', (t) => {
  t.true(supersedes(at('alive', 4), at('dead', 3)), 'a refutation beats the death it refutes');
  t.true(supersedes(at('alive', 4), at('left', 3)), 'a node that left and came back');
  t.false(supersedes(at('dead', 3), at('alive', 4)), 'an old verdict does not kill a refuted member');
  t.false(supersedes(at('suspect', 3), at('alive', 4)));
});

test('at one incarnation: alive < draining < suspect < dead < left (SWIM §4.2, left above dead)', (t) => {
  const order: MemberState[] = ['alive', 'draining', 'suspect', 'dead', 'left'];
  for (let i = 0; i < order.length; i++) {
    for (let j = 0; j < order.length; j++) {
      const a = at(order[i] as MemberState, 7);
      const b = at(order[j] as MemberState, 7);
      t.is(Math.sign(compareRecords(a, b)), Math.sign(i - j), `${a.state} vs ${b.state}`);
    }
  }
  t.is(mergeRecord(at('left', 7), at('dead', 7)).state, 'left', 'a node that left and stopped answering stays left');
});

test('records equal in incarnation and state are ordered by their fields, antisymmetrically', (t) => {
  const a = at('alive', 0, { address: '10.0.0.1:7000' });
  const b = at('alive', 0, { address: '10.0.0.1:7001' });
  t.is(compareRecords(a, b), -compareRecords(b, a));
  t.not(compareRecords(a, b), 0);
  t.is(compareRecords(a, { ...a }), 0);
  t.true(sameRecord(a, { ...a }));
  for (const field of ['zone', 'rack'] as const) t.not(compareRecords(a, { ...a, [field]: 'other' }), 0, field);
  t.not(compareRecords(a, { ...a, capacityBytes: a.capacityBytes + 1 }), 0);
  t.not(compareRecords(a, { ...a, usedBytes: a.usedBytes + 1 }), 0);
});

test('merging is the same whatever the order, duplication or grouping of the records (seeded histories)', (t) => {
  const random = new Random('membership/merge-algebra');
  const states: MemberState[] = ['alive', 'draining', 'suspect', 'dead', 'left'];
  for (let history = 0; history < 500; history++) {
    const records = Array.from({ length: 1 + random.int(8) }, () => at(random.pick(states), random.int(4), {
      address: `10.0.0.${1 + random.int(2)}:7000`, usedBytes: random.int(3),
    }));
    const max = records.reduce((best, r) => (compareRecords(r, best) > 0 ? r : best));
    for (let order = 0; order < 5; order++) {
      const delivered = random.shuffle([...records, ...records.filter(() => random.bool(0.3))]);
      const merged = delivered.reduce<Member | undefined>((known, r) => mergeRecord(known, r), undefined);
      t.true(merged !== undefined && sameRecord(merged, max), `history ${history}, order ${order}`);
    }
    const [x, y, z] = [random.pick(records), random.pick(records), random.pick(records)];
    t.true(sameRecord(mergeRecord(mergeRecord(x, y), z), mergeRecord(x, mergeRecord(y, z))), 'associative');
    t.true(sameRecord(mergeRecord(x, y), mergeRecord(y, x)), 'commutative');
  }
});

test('a rumour keeps the fields of the version it is about', (t) => {
  const suspect = withState(base, 'suspect');
  t.deepEqual({ ...suspect, state: 'alive' }, base);
  t.true(supersedes(suspect, base));
});

test('suspects and draining members still serve; dead and left ones do not', (t) => {
  t.deepEqual((['alive', 'suspect', 'draining', 'dead', 'left'] as const).map((s) => isServing(at(s, 0))), [true, true, true, false, false]);
});

test('the fingerprint covers every gossiped field; the wire tuple carries every field', (t) => {
  const fingerprint = recordFingerprint(base);
  const variants: Member[] = [
    { ...base, id: 'node-b' }, { ...base, address: 'x:1' }, { ...base, zone: 'z2' }, { ...base, rack: 'r2' },
    { ...base, capacityBytes: base.capacityBytes + 2 ** 32 }, { ...base, usedBytes: 1_001 }, at('suspect', 3), at('alive', 4),
  ];
  for (const variant of variants) t.not(recordFingerprint(variant), fingerprint, JSON.stringify(variant));
  for (const state of ['alive', 'draining', 'suspect', 'dead', 'left'] as const) t.deepEqual(fromTuple(toTuple(at(state, 9))), at(state, 9));
});

/** Ids whose 32-bit hashes collide, so that the table's equal-hash path is exercised. */
function collidingIds(): [string, string] {
  const seen = new Map<number, string>();
  for (let i = 0; ; i++) {
    const id = `collide-${i}`;
    const other = seen.get(idHash(id));
    if (other !== undefined) return [other, id];
    seen.set(idHash(id), id);
  }
}

test('the table finds, replaces and removes members, and its bucket hashes match a recomputation', (t) => {
  const random = new Random('membership/table');
  const bucketCount = 16;
  const table = new MemberTable(bucketCount);
  const truth = new Map<string, Member>();
  const [c1, c2] = collidingIds();
  t.is(idHash(c1), idHash(c2));
  const ids = [c1, c2, ...Array.from({ length: 300 }, (_, i) => `node-${i}`)];
  const states: MemberState[] = ['alive', 'draining', 'suspect', 'dead', 'left'];
  for (let step = 0; step < 5_000; step++) {
    const id = random.pick(ids);
    if (random.bool(0.1)) {
      t.is(table.remove(id)?.id, truth.get(id)?.id);
      truth.delete(id);
    } else {
      const record = at(random.pick(states), random.int(5), { id, usedBytes: random.int(10) });
      t.is(table.upsert(record), truth.get(id));
      truth.set(id, record);
    }
  }
  t.is(table.size, truth.size);
  for (const id of ids) t.is(table.get(id), truth.get(id), id);
  t.deepEqual(table.list().map((m) => m.id), [...truth.keys()].sort());
  const fresh = snapshotMembers([...truth.values()], bucketCount);
  t.deepEqual(table.bucketHashes(), Array.from(fresh.bucketHashes), 'incremental hashes = recomputed ones');
  for (let bucket = 0; bucket < bucketCount; bucket++) {
    const [start, end] = table.bucketRange(bucket);
    const inRange = Array.from({ length: end - start }, (_, k) => table.at(start + k)?.id);
    t.deepEqual(inRange.sort(), [...truth.keys()].filter((id) => table.bucketOfId(id) === bucket).sort(), `bucket ${bucket}`);
  }
});

test('dead and left records stay out of the bucket hashes; the order records arrive in does not matter', (t) => {
  const random = new Random('membership/table-order');
  const records = Array.from({ length: 200 }, (_, i) => at(i % 7 === 0 ? 'dead' : 'alive', i % 3, { id: `m-${i}` }));
  const a = new MemberTable(64);
  const b = new MemberTable(64);
  for (const r of records) a.upsert(r);
  for (const r of random.shuffle(records.slice())) b.upsert(r);
  t.deepEqual(a.bucketHashes(), b.bucketHashes());
  const withoutDead = new MemberTable(64);
  for (const r of records) if (r.state !== 'dead') withoutDead.upsert(r);
  t.deepEqual(a.bucketHashes(), withoutDead.bucketHashes(), 'a node that forgot a tombstone agrees with one that keeps it');
  t.is(a.lastHeardMs('m-1'), undefined);
  a.heard('m-1', 1234);
  t.is(a.lastHeardMs('m-1'), 1234);
});
