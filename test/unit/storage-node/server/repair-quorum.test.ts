// Goal: repair moves a mutable block's quorum one member at a time towards placement, proposed by exactly one live
// member, never without a live majority; and a node signing key is trusted only with the cluster CA's signature.
// Method: the pure plan over synthetic memberships; a real CA (node-forge) signing and a forged certificate.
import test from 'ava';
import { Random } from '../../../../storage-node/base/random.js';
import type { Member, MemberState } from '../../../../storage-node/overlay/membership.js';
import { placeReplicas } from '../../../../storage-node/placement/replica-set.js';
import { planQuorumMove } from '../../../../storage-node/server/repair/mutable-plan.js';
import {
  parseRememberedKeys, rememberedKeysJson, signNodeKey, TrustedNodeKeys, type NodeKeyCertificate,
} from '../../../../storage-node/server/repair/node-key.js';
import { createClusterCa } from '../../../../storage-node/wire/cluster-ca.js';
import { placementMembers } from '../../../../storage-node/server/repair/repair-plan.js';

function member(id: string, state: MemberState = 'alive'): Member {
  return { id, address: `${id}:7000`, zone: id, rack: 'r', capacityBytes: 2 ** 40, usedBytes: 0, state, incarnation: 1 };
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

test('a dead member past --replace-after is swapped for a live placed node by exactly one proposer, one member per move', (t) => {
  const before = ['a', 'b', 'c', 'd', 'e'].map((id) => member(id));
  for (const address of addresses('quorum', 300)) {
    const quorum = placeReplicas(address, before, { replicas: 3 }).map((m) => m.id);
    const victim = quorum[0]!;
    const now = before.map((m) => (m.id === victim ? member(victim, 'dead') : m));
    const candidates = placementMembers(now, new Map([[victim, 0]]), 100_000, 60_000);
    const moves = quorum.filter((id) => id !== victim).map((id) => planQuorumMove(id, address, quorum, candidates, byId(now)));
    t.is(moves.filter((m) => m !== undefined).length, 1, 'exactly one live member proposes');
    const move = moves.find((m) => m !== undefined)!;
    t.is(move.removed, victim);
    t.false(quorum.includes(move.added));
    t.deepEqual([...move.next].sort(), placeReplicas(address, candidates, { replicas: 3 }).map((m) => m.id).sort());
    // Within --replace-after nothing moves: a restart is not repaired around.
    const inGrace = placementMembers(now, new Map([[victim, 99_000]]), 100_000, 60_000);
    t.true(quorum.every((id) => planQuorumMove(id, address, quorum, inGrace, byId(now)) === undefined));
  }
});

test('a quorum already on its placed nodes stays; one without a live majority waits', (t) => {
  const members = ['a', 'b', 'c', 'd', 'e'].map((id) => member(id));
  const address = addresses('stay', 1)[0]!;
  const quorum = placeReplicas(address, members, { replicas: 3 }).map((m) => m.id);
  t.true(quorum.every((id) => planQuorumMove(id, address, quorum, members, byId(members)) === undefined));
  const twoDead = members.map((m) => (quorum.slice(0, 2).includes(m.id) ? member(m.id, 'dead') : m));
  const candidates = placementMembers(twoDead, new Map(quorum.slice(0, 2).map((id) => [id, 0])), 100_000, 60_000);
  t.is(planQuorumMove(quorum[2]!, address, quorum, candidates, byId(twoDead)), undefined);
});

test('a draining member leaves the quorum even though it still answers', (t) => {
  const members = ['a', 'b', 'c', 'd', 'e'].map((id) => member(id));
  const address = addresses('drain', 1)[0]!;
  const quorum = placeReplicas(address, members, { replicas: 3 }).map((m) => m.id);
  const drained = members.map((m) => (m.id === quorum[1] ? member(m.id, 'draining') : m));
  const proposer = [...quorum].sort()[0]!;
  const move = planQuorumMove(proposer, address, quorum, drained, byId(drained));
  t.is(move?.removed, quorum[1]);
});

test('a node signing key is trusted with the cluster CA signature, and refused with another CA or a swapped key', (t) => {
  const ca = createClusterCa('test');
  const other = createClusterCa('other');
  const key = Buffer.alloc(32, 7);
  const trusted = new TrustedNodeKeys(ca.certPem);
  t.throws(() => trusted.admit(signNodeKey(other.keyPem, 'n1', key)), { message: /not signed by this cluster's CA/ });
  const certificate = signNodeKey(ca.keyPem, 'n1', key);
  t.throws(() => trusted.admit({ ...certificate, publicKey: Buffer.alloc(32, 8) }), { message: /not signed/ });
  t.throws(() => trusted.admit({ ...certificate, node: 'n2' }), { message: /not signed/ });
  t.false(trusted.has(key));
  trusted.admit(certificate);
  t.true(trusted.has(key));
});

test('trusted keys are remembered across a restart, each checked against the CA again; a forged or damaged entry is skipped', (t) => {
  const ca = createClusterCa('test');
  const other = createClusterCa('other');
  const saved: (readonly NodeKeyCertificate[])[] = [];
  const before = new TrustedNodeKeys(ca.certPem, { onNew: (all) => saved.push(all) });
  const n1 = signNodeKey(ca.keyPem, 'n1', Buffer.alloc(32, 1));
  before.admit(n1);
  before.admit(n1); // announced again on every walk: nothing new to remember
  t.is(saved.length, 1);
  const forged = signNodeKey(other.keyPem, 'n2', Buffer.alloc(32, 2));
  const text = rememberedKeysJson([...(saved[0] ?? []), forged]).replace(/\]\n$/, ',{"node":"n3","publicKey":"zz"}]\n');
  const remembered = parseRememberedKeys(text);
  t.is(remembered.length, 2, 'the damaged entry is dropped when read');
  const after = new TrustedNodeKeys(ca.certPem, { remembered });
  t.true(after.has(n1.publicKey), 'trusted at once after the restart');
  t.false(after.has(forged.publicKey), 'a certificate of another CA written into the file is not trusted');
  t.deepEqual(parseRememberedKeys('not json'), []);
});
