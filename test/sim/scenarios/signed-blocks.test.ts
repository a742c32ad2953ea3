// Goal: consensus over real signed block records, as the drivers will run it: acceptors validate every version with
// blocks/validate-version, messages carry records through msgpack and parseVersionRecord, and a writer without the
// right gets Forbidden, never a version. Method: 3 acceptors, two gateways of the owner incrementing one owner-keyed
// counter block and one rogue gateway signing with another key, over a lossy, duplicating, reordering network.
import test from 'ava';
import { Random, SeededEntropy } from '../../../storage-node/base/random.js';
import { firstOwnerVersion, newMutableAddress, nextVersion } from '../../../storage-node/blocks/mutable.js';
import { identityFromSeed, type Identity } from '../../../storage-node/blocks/sign.js';
import { versionValidator } from '../../../storage-node/blocks/validate-version.js';
import { parseVersionRecord, type VersionRecord } from '../../../storage-node/blocks/version-record.js';
import type { Outcome } from '../../../storage-node/consensus/effects.js';
import type { BlockCodec } from '../../../storage-node/consensus/proposer.js';
import { SimAcceptorNode, SimProposerNode } from '../harness/consensus-nodes.js';
import { SIM_TIMING } from '../harness/consensus-scenario.js';
import { SimClock } from '../harness/sim-clock.js';
import { SimNetwork } from '../harness/sim-network.js';

const QUORUM = ['a1', 'a2', 'a3'];

/**
 * A counter in an owner-keyed block: 8 bytes big-endian, signed by `writer` at every version. The rogue's codec
 * signs with its own key (nextVersion does not check rights; writeOwnerBlock would refuse locally).
 */
function counterCodec(writer: Identity, salt: Buffer): BlockCodec<VersionRecord, number> {
  const encode = (n: number): Buffer => {
    const b = Buffer.alloc(8);
    b.writeBigUInt64BE(BigInt(n));
    return b;
  };
  return {
    open: (record) => Number(record.payload.readBigUInt64BE(0)),
    seal: (previous, content, quorum) => previous === undefined
      ? firstOwnerVersion(writer, salt, encode(content), quorum)
      : nextVersion(writer, previous, { payload: encode(content), quorum }),
  };
}

test('signed owner-keyed counter: honest increments all land, the rogue writer is refused (Forbidden)', (t) => {
  const root = new Random('signed-blocks');
  const clock = new SimClock();
  const network = new SimNetwork({ clock, random: root.fork('network'), faults: { lossRatio: 0.05, replayRatio: 0.05, delayMsMin: 1, delayMsMean: 5, delayMsMax: 40 } });
  const owner = identityFromSeed(Buffer.alloc(32, 1));
  const rogue = identityFromSeed(Buffer.alloc(32, 2));
  const { salt, address } = newMutableAddress(owner.publicKey, new SeededEntropy(root.fork('salt')));
  const block = address.toString('hex');
  const validate = versionValidator();
  const acceptors = QUORUM.map((id) => new SimAcceptorNode<VersionRecord>({ self: id, validate }, clock, network, root.fork(id), parseVersionRecord,
    { flushMsMin: 0.2, flushMsMax: 2, amnesia: 'none' }, () => undefined));
  const outcomes: { who: string; outcome: Outcome<number> }[] = [];
  const gateway = (id: string, writer: Identity): SimProposerNode<VersionRecord, number> => new SimProposerNode<VersionRecord, number>(
    { self: id, proposerId: `${id}#1`, codec: counterCodec(writer, salt), timing: SIM_TIMING },
    clock, network, root.fork(id), parseVersionRecord, () => QUORUM, (_b, _op, outcome) => void outcomes.push({ who: id, outcome }));
  const gateways = [gateway('g1', owner), gateway('g2', owner), gateway('rogue', rogue)];
  const perGateway = 60;
  let nextId = 1;
  for (const g of gateways) {
    for (let i = 0; i < perGateway; i++) {
      clock.schedule(i * 7 + (g.id === 'rogue' ? 200 : 0), () => g.submit(block, { kind: 'update', id: nextId++, apply: (n) => (n ?? 0) + 1 }));
    }
  }
  while (outcomes.length < 3 * perGateway && clock.step()) { /* run */ }
  gateways[0]?.submit(block, { kind: 'read', id: 0 });
  const before = outcomes.length;
  while (outcomes.length === before && clock.step()) { /* run */ }

  const honest = outcomes.filter((o) => o.who !== 'rogue');
  const ok = honest.filter((o) => o.outcome.status === 'ok').length - 1; // minus the final read
  const unknown = honest.filter((o) => o.outcome.status === 'unknown').length;
  const final = outcomes.at(-1)?.outcome;
  t.log(`${ok} ok increments, ${unknown} unknown, final ${JSON.stringify(final)}, ${clock.now().toFixed(0)} ms simulated`);
  t.true(final?.status === 'ok' && final.content !== undefined && final.content >= ok && final.content <= ok + unknown);
  t.is(ok + unknown, 2 * perGateway, 'every honest increment landed (or is unknown)');
  const rogueOutcomes = outcomes.filter((o) => o.who === 'rogue').map((o) => (o.outcome.status === 'failed' ? o.outcome.error.kind : o.outcome.status));
  t.true(rogueOutcomes.length === perGateway && rogueOutcomes.every((kind) => kind === 'Forbidden'), rogueOutcomes.join(','));
  for (const a of acceptors) {
    const chosen = a.stateOf(block)?.chosen?.value;
    t.true(chosen === undefined || chosen.writer.equals(owner.publicKey), 'only the owner ever wrote a chosen version');
  }
});
