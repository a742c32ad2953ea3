// Goal: the three mutable kinds build, sign, seal and round-trip as the design says (addresses, sealing per reader,
// key rotation, named targets, canonical signing bytes). Method: seeded keys and entropy, real crypto, msgpack.
import test from 'ava';
import { Packr } from 'msgpackr';
import { isShoalError } from '../../../../storage-node/base/errors.js';
import { Random, SeededEntropy } from '../../../../storage-node/base/random.js';
import { aclDataKey, changeAcl, newAclBlock, readAclBlock, writeAclBlock } from '../../../../storage-node/blocks/acl.js';
import { sha256 } from '../../../../storage-node/blocks/address.js';
import { newOwnerBlock, ownerBlockAddress, writeOwnerBlock } from '../../../../storage-node/blocks/mutable.js';
import { namedAddress, namedTarget, newNamedBlock, pointNamedBlock } from '../../../../storage-node/blocks/named.js';
import { newReaderKey, openForReader, readerKeyFromSeed, sealForReader } from '../../../../storage-node/blocks/reader-key.js';
import { identityFromSeed } from '../../../../storage-node/blocks/sign.js';
import { validateVersion } from '../../../../storage-node/blocks/validate-version.js';
import { versionSigningBytes } from '../../../../storage-node/blocks/version-codec.js';
import { parseVersionRecord } from '../../../../storage-node/blocks/version-record.js';

const entropy = new SeededEntropy(new Random('mutable-kinds'));
const owner = identityFromSeed(Buffer.alloc(32, 1));
const writer = identityFromSeed(Buffer.alloc(32, 2));

test('owner-keyed: address H("okb" ‖ owner ‖ salt), versions count up, quorum sorted', (t) => {
  const v1 = newOwnerBlock(owner, Buffer.from('hello'), ['c', 'a', 'b', 'a'], entropy);
  t.deepEqual(v1.address, sha256(Buffer.from('okb'), owner.publicKey, v1.salt));
  t.deepEqual(v1.address, ownerBlockAddress(owner.publicKey, v1.salt));
  t.deepEqual(v1.quorum, ['a', 'b', 'c']);
  const v2 = writeOwnerBlock(owner, v1, Buffer.from('world'), ['d', 'a', 'b']);
  t.is(v2.version, 2);
  t.deepEqual(v2.quorum, ['a', 'b', 'd']);
  t.notThrows(() => validateVersion(v1, v2));
});

test('a record survives msgpack and the shape check; garbage does not', (t) => {
  const packr = new Packr({ useRecords: false, mapsAsObjects: true, moreTypes: false, int64AsType: 'number' });
  const { record } = newAclBlock(owner, { writers: [writer.publicKey], readers: [newReaderKey(entropy).publicKey] }, ['a'], Buffer.from('x'), entropy);
  const back = parseVersionRecord(packr.unpack(packr.pack({ ...record, extra: 'dropped' })));
  t.truthy(back);
  t.deepEqual(back, record);
  t.notThrows(() => validateVersion(undefined, back as typeof record));
  t.is(parseVersionRecord({ ...record, version: 0 }), undefined);
  t.is(parseVersionRecord({ ...record, quorum: ['b', 'a'] }), undefined, 'quorums are sorted');
  t.is(parseVersionRecord({ ...record, kind: 'other' }), undefined);
  t.is(parseVersionRecord('nope'), undefined);
});

test('the signing bytes are domain-separated and cover every field', (t) => {
  const v1 = newOwnerBlock(owner, Buffer.from('p'), ['a'], entropy);
  const bytes = versionSigningBytes(v1);
  t.true(bytes.subarray(0, 24).toString().startsWith('shoal/mutable-version/v1'));
  const { signature: _s, ...unsigned } = v1;
  for (const changed of [{ ...unsigned, version: 2 }, { ...unsigned, quorum: ['b'] }, { ...unsigned, payload: Buffer.from('q') }]) {
    t.notDeepEqual(versionSigningBytes(changed), bytes);
  }
});

test('reader keys: a data key sealed for one reader opens only for that reader', (t) => {
  const alice = readerKeyFromSeed(Buffer.alloc(32, 7));
  t.deepEqual(readerKeyFromSeed(Buffer.alloc(32, 7)).publicKey, alice.publicKey);
  const bob = newReaderKey(entropy);
  const dataKey = entropy.bytes(32);
  const sealed = sealForReader(alice.publicKey, dataKey, entropy);
  t.deepEqual(openForReader(alice, sealed), dataKey);
  t.true(isShoalError(t.throws(() => openForReader(bob, sealed)), 'Forbidden'));
  t.notDeepEqual(sealForReader(alice.publicKey, dataKey, entropy), sealed, 'fresh ephemeral key and nonce each time');
});

test('ACL: readers open the content, writers write with the same data key, strangers cannot read', (t) => {
  const reader = newReaderKey(entropy);
  const stranger = newReaderKey(entropy);
  const { record: v1, dataKey } = newAclBlock(owner, { writers: [writer.publicKey], readers: [reader.publicKey] }, ['a', 'b', 'c'], Buffer.from('secret'), entropy);
  t.false(v1.payload.includes(Buffer.from('secret')), 'storage nodes see ciphertext');
  t.deepEqual(readAclBlock(v1, reader), Buffer.from('secret'));
  t.true(isShoalError(t.throws(() => readAclBlock(v1, stranger)), 'Forbidden'));
  const v2 = writeAclBlock(writer, v1, dataKey, Buffer.from('edited'), entropy);
  t.deepEqual(readAclBlock(v2, reader), Buffer.from('edited'));
  t.deepEqual(aclDataKey(v2, reader), dataKey, 'the data key is stable across writes');
  t.notThrows(() => validateVersion(v1, v2));
});

test('ACL: removing a reader rotates the data key; adding one keeps it', (t) => {
  const [r1, r2, r3] = [newReaderKey(entropy), newReaderKey(entropy), newReaderKey(entropy)];
  const { record: v1, dataKey } = newAclBlock(owner, { writers: [], readers: [r1.publicKey, r2.publicKey] }, ['a'], Buffer.from('doc'), entropy);
  const added = changeAcl(owner, v1, { writers: [], readers: [r1.publicKey, r2.publicKey, r3.publicKey] }, dataKey, entropy);
  t.deepEqual(added.dataKey, dataKey);
  t.deepEqual(readAclBlock(added.record, r3), Buffer.from('doc'));
  t.notThrows(() => validateVersion(v1, added.record));
  const removed = changeAcl(owner, added.record, { writers: [], readers: [r1.publicKey] }, dataKey, entropy);
  t.notDeepEqual(removed.dataKey, dataKey);
  t.deepEqual(readAclBlock(removed.record, r1), Buffer.from('doc'));
  t.true(isShoalError(t.throws(() => readAclBlock(removed.record, r2)), 'Forbidden'));
  t.is(removed.record.acl.epoch, 3);
  t.notThrows(() => validateVersion(added.record, removed.record));
  t.throws(() => changeAcl(writer, v1, { writers: [writer.publicKey], readers: [] }, dataKey, entropy));
});

test('named: address H("nb" ‖ owner ‖ name), owner-only, points at a block', (t) => {
  const target = sha256(Buffer.from('a block'));
  const v1 = newNamedBlock(owner, 'volume-root', target, ['a', 'b', 'c']);
  t.deepEqual(v1.address, sha256(Buffer.from('nb'), owner.publicKey, Buffer.from('volume-root')));
  t.deepEqual(v1.address, namedAddress(owner.publicKey, 'volume-root'));
  t.deepEqual(namedTarget(v1), target);
  const next = sha256(Buffer.from('another'));
  const v2 = pointNamedBlock(owner, v1, next);
  t.deepEqual(namedTarget(v2), next);
  t.notThrows(() => validateVersion(v1, v2));
  t.true(isShoalError(t.throws(() => pointNamedBlock(writer, v1, next)), 'Forbidden'));
  t.true(isShoalError(t.throws(() => newNamedBlock(owner, 'x', Buffer.alloc(3), ['a'])), 'Invalid'));
});
