// Goal: repair copies each under-replicated block from exactly one holder, waits out --replace-after before it
// repairs around a dead node, and drops a copy only once every placed node holds the block. Method: the pure plan
// over small synthetic clusters, simulating every holder's decision for many seeded addresses.
import test from 'ava';
import { Random } from '../../../../storage-node/base/random.js';
import type { Member, MemberState } from '../../../../storage-node/overlay/membership.js';
import {
  NO_ACTION, placeForRepair, placementMembers, planBlock, trackGone, type BlockPlacement,
} from '../../../../storage-node/server/repair/repair-plan.js';

function member(id: string, state: MemberState = 'alive'): Member {
  return { id, address: `${id}:7000`, zone: 'z', rack: 'r', capacityBytes: 2 ** 40, usedBytes: 0, state, incarnation: 1 };
}

function addresses(seed: string, count: number): Buffer[] {
  const random = new Random(seed);
  return Array.from({ length: count }, () => {
    const address = Buffer.alloc(32);
    for (let i = 0; i < 32; i += 4) address.writeUInt32LE(random.nextUint32(), i);
    return address;
  });
}

const byId = (members: readonly Member[]): Map<string, Member> => new Map(members.map((m) => [m.id, m]));

test('a dead member stays placed until --replace-after has passed, and is forgotten once back', (t) => {
  const members = [member('a'), member('b'), member('c', 'dead')];
  const gone = trackGone(new Map(), members, 1_000);
  t.deepEqual([...gone], [['c', 1_000]]);
  t.deepEqual(placementMembers(members, gone, 1_500, 60_000).map((m) => m.id), ['a', 'b', 'c']);
  t.deepEqual(placementMembers(members, trackGone(gone, members, 61_000), 61_000, 60_000).map((m) => m.id), ['a', 'b']);
  t.is(trackGone(gone, [member('a'), member('b'), member('c')], 2_000).size, 0);
});

test('a placed member within its grace period is placed but not reachable', (t) => {
  const members = [member('a'), member('b'), member('c', 'dead'), member('d')];
  const candidates = placementMembers(members, new Map([['c', 0]]), 10, 60_000);
  for (const address of addresses('grace', 200)) {
    const placement = placeForRepair(address, candidates, { replicas: 3 }, byId(members));
    t.is(placement.placed.length, 3);
    t.is(placement.reachable.includes('c'), false);
    t.is(placement.reachable.length, placement.placed.includes('c') ? 2 : 3);
  }
});

test('only the first placed holder copies, to exactly the placed nodes that lack the block', (t) => {
  const placement: BlockPlacement = { placed: ['a', 'b', 'c'], reachable: ['a', 'b', 'c'] };
  const holders = new Set(['b', 'c', 'x']);
  const holds = (id: string): boolean => holders.has(id);
  t.deepEqual(planBlock('b', placement, holds), { copyTo: ['a'], dropAfterCopies: false });
  t.deepEqual(planBlock('c', placement, holds), NO_ACTION);
  // x is not placed but a placed node holds it: x waits for b to copy, and keeps its copy until a confirms.
  t.deepEqual(planBlock('x', placement, holds), { copyTo: [], dropAfterCopies: false });
});

test('a holder that is not placed pushes when no placed node has the block, and drops only when all will', (t) => {
  const placement: BlockPlacement = { placed: ['a', 'b', 'c'], reachable: ['a', 'b', 'c'] };
  t.deepEqual(planBlock('x', placement, () => false), { copyTo: ['a', 'b', 'c'], dropAfterCopies: true });
  t.deepEqual(planBlock('x', placement, () => true), { copyTo: [], dropAfterCopies: true });
  // One placed node does not answer: the copy must stay.
  t.deepEqual(planBlock('x', placement, (id) => (id === 'c' ? undefined : true)), { copyTo: [], dropAfterCopies: false });
  // One placed node is dead within its grace period: nothing is dropped.
  const inGrace: BlockPlacement = { placed: ['a', 'b', 'c'], reachable: ['a', 'b'] };
  t.deepEqual(planBlock('x', inGrace, () => false), { copyTo: ['a', 'b'], dropAfterCopies: false });
});

test('simulated over many blocks: a missing copy is made once when a placed node holds the block, and every block ends with R copies and no surplus', (t) => {
  const members = ['a', 'b', 'c', 'd', 'e', 'f'].map((id) => member(id));
  const states = byId(members);
  const random = new Random('holders');
  for (const address of addresses('sim', 500)) {
    const placement = placeForRepair(address, members, { replicas: 3 }, states);
    // Random initial holders: at least one, some placed, some not.
    const holders = new Set(members.filter(() => random.nextUint32() % 2 === 0).map((m) => m.id));
    if (holders.size === 0) holders.add('a');
    const holds = (id: string): boolean => holders.has(id);
    const actions = [...holders].map((id) => ({ id, action: planBlock(id, placement, holds) }));
    const copies = actions.flatMap(({ action }) => action.copyTo);
    // Holders that are not placed cannot tell each other apart, so when no placed node has the block (the rare
    // last-copies case) each pushes; otherwise exactly one placed holder copies.
    if (placement.placed.some(holds)) t.is(new Set(copies).size, copies.length, 'no node receives the same block twice');
    for (const target of copies) holders.add(target);
    t.deepEqual(placement.placed.filter((id) => !holders.has(id)), [], 'every placed node holds the block');
    // A second round, as the next walk sees it: surplus holders drop, nobody copies.
    for (const id of [...holders]) {
      const action = planBlock(id, placement, (other) => holders.has(other));
      t.deepEqual(action.copyTo, []);
      t.is(action.dropAfterCopies, !placement.placed.includes(id));
    }
  }
});

test('a draining node is never placed, so it plans to move every block it holds', (t) => {
  const members = [member('a'), member('b'), member('c'), member('d', 'draining')];
  for (const address of addresses('drain', 100)) {
    const placement = placeForRepair(address, members, { replicas: 3 }, byId(members));
    t.false(placement.placed.includes('d'));
    t.deepEqual(planBlock('d', placement, () => false), { copyTo: placement.placed, dropAfterCopies: true });
  }
});
