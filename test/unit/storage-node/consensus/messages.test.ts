// Goal: every consensus message survives msgpack as the wire sends it, and the shape check refuses the malformed.
// Method: round-trip one of each kind through the wire codec's Packr options; then corrupt fields one at a time.
import test from 'ava';
import { Packr } from 'msgpackr';
import { isShoalError } from '../../../../storage-node/base/errors.js';
import { compareBallots, ballotAbove, ZERO_BALLOT } from '../../../../storage-node/consensus/ballot.js';
import { parseConsensusMessage, type ConsensusMessage } from '../../../../storage-node/consensus/messages.js';
import { majority, normalizeQuorum, sameQuorum } from '../../../../storage-node/consensus/quorum.js';

interface Rec { readonly version: number; readonly quorum: readonly string[]; readonly data: Buffer }
const parseRec = (raw: unknown): Rec | undefined => {
  const m = raw as Record<string, unknown>;
  return Buffer.isBuffer(m?.['data']) ? { version: m['version'] as number, quorum: m['quorum'] as string[], data: m['data'] } : undefined;
};
const packr = new Packr({ useRecords: false, mapsAsObjects: true, moreTypes: false, int64AsType: 'number' });
const viaWire = (m: unknown): unknown => packr.unpack(packr.pack(m));
const value: Rec = { version: 3, quorum: ['a', 'b', 'c'], data: Buffer.from([1, 2, 3]) };
const ballot = { round: 4, proposer: 'p#1' };
const origins = { completeFrom: 1, latest: [{ version: 2, origin: ballot }] };
const env = { block: 'ab'.repeat(32), from: 'node-1' };

const samples: ConsensusMessage<Rec>[] = [
  { kind: 'prepare', ...env, ballot, knownVersion: 2 },
  { kind: 'accept', ...env, ballot, origin: ballot, value, previous: { version: 2, origin: ballot } },
  { kind: 'confirm', ...env, chosen: { version: 3, origin: ballot, value } },
  { kind: 'read', ...env, readId: 9, knownVersion: 0 },
  { kind: 'promise', ...env, ballot, chosen: { version: 3, origin: ballot }, accepted: { ballot, origin: ballot, value: { ...value, version: 4 } }, origins },
  { kind: 'accepted', ...env, ballot, version: 3, origin: ballot },
  { kind: 'read-reply', ...env, readId: 9, origins },
  { kind: 'nack', ...env, ballot, refused: { version: 2, origin: ballot }, reason: 'invalid', highest: ballot, origins, error: { kind: 'Forbidden', message: 'no' } },
  { kind: 'wrong-quorum', ...env, quorum: ['b', 'c', 'd'], chosen: { version: 3, origin: ballot, value }, origins },
];

test('each message kind round-trips through msgpack unchanged', (t) => {
  for (const message of samples) t.deepEqual(parseConsensusMessage(viaWire(message), parseRec), message, message.kind);
});

test('unknown fields are dropped and nil optional fields read as absent', (t) => {
  const parsed = parseConsensusMessage(viaWire({ ...samples[0], extra: 1 }), parseRec);
  t.false('extra' in parsed);
  const promise = parseConsensusMessage(viaWire({ ...samples[4], accepted: null, chosen: null }), parseRec);
  t.false('accepted' in promise);
  t.false('chosen' in promise);
});

test('malformed messages are refused with Invalid', (t) => {
  const bad: unknown[] = [
    null, 'prepare', { ...samples[0], kind: 'nope' }, { ...samples[0], ballot: { round: -1, proposer: 'p' } },
    { ...samples[0], from: '' }, { ...samples[1], value: { ...value, quorum: ['b', 'a'] } },
    { ...samples[1], value: { ...value, version: 0 } }, { ...samples[1], previous: { version: 1, origin: ballot } },
    { ...samples[2], chosen: { version: 4, origin: ballot, value } }, { ...samples[7], reason: 'because' },
    { ...samples[4], origins: { completeFrom: 1, latest: new Array(65).fill({ version: 1, origin: ballot }) } },
  ];
  for (const raw of bad) t.true(isShoalError(t.throws(() => parseConsensusMessage(viaWire(raw), parseRec)), 'Invalid'), JSON.stringify(raw)?.slice(0, 80));
});

test('ballots order by round then proposer; quorums are sorted sets; majorities intersect', (t) => {
  t.true(compareBallots({ round: 1, proposer: 'z' }, { round: 2, proposer: 'a' }) < 0);
  t.true(compareBallots({ round: 2, proposer: 'a' }, { round: 2, proposer: 'b' }) < 0);
  t.is(compareBallots(ballot, { ...ballot }), 0);
  t.deepEqual(ballotAbove(ballot, 'q'), { round: 5, proposer: 'q' });
  t.true(compareBallots(ZERO_BALLOT, { round: 0, proposer: 'a' }) < 0);
  t.deepEqual(normalizeQuorum(['c', 'a', 'b', 'a']), ['a', 'b', 'c']);
  t.true(sameQuorum(normalizeQuorum(['b', 'a']), ['a', 'b']));
  t.throws(() => normalizeQuorum([]));
  t.deepEqual([1, 2, 3, 4, 5].map((n) => majority(Array.from({ length: n }, (_, i) => String(i)))), [1, 2, 2, 3, 3]);
});
