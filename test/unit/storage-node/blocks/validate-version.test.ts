// Goal: acceptors refuse every version the issue lists (non-writer, replayed, forged, ACL change by a non-owner) with a
// typed error, and accept the legitimate ones. Method: build real signed versions with seeded keys, then tamper.
import test from 'ava';
import { isShoalError } from '../../../../storage-node/base/errors.js';
import { Random, SeededEntropy } from '../../../../storage-node/base/random.js';
import { changeAcl, newAclBlock, signAcl, writeAclBlock } from '../../../../storage-node/blocks/acl.js';
import { newOwnerBlock, nextVersion, signVersion, writeOwnerBlock } from '../../../../storage-node/blocks/mutable.js';
import { newReaderKey } from '../../../../storage-node/blocks/reader-key.js';
import { identityFromSeed } from '../../../../storage-node/blocks/sign.js';
import { validateCatchUp, validateVersion, versionValidator } from '../../../../storage-node/blocks/validate-version.js';
import type { AclVersion, OwnerVersion } from '../../../../storage-node/blocks/version-record.js';

const entropy = new SeededEntropy(new Random('validate-version'));
const owner = identityFromSeed(Buffer.alloc(32, 1));
const writer = identityFromSeed(Buffer.alloc(32, 2));
const stranger = identityFromSeed(Buffer.alloc(32, 3));
const quorum = ['a', 'b', 'c'];

function ownerChain(): [OwnerVersion, OwnerVersion, OwnerVersion] {
  const v1 = newOwnerBlock(owner, Buffer.from('one'), quorum, entropy);
  const v2 = writeOwnerBlock(owner, v1, Buffer.from('two'));
  return [v1, v2, writeOwnerBlock(owner, v2, Buffer.from('three'))];
}

function aclBlock(): { v1: AclVersion; dataKey: Buffer } {
  const reader = newReaderKey(entropy);
  const { record, dataKey } = newAclBlock(owner, { writers: [writer.publicKey], readers: [reader.publicKey] }, quorum, Buffer.from('x'), entropy);
  return { v1: record, dataKey };
}

function refusal(t: import('ava').ExecutionContext, run: () => void, kind: string): void {
  const err = t.throws(run);
  t.true(isShoalError(err, kind as never), `expected ${kind}, got ${String(err)}`);
}

test('a chain of owner versions is accepted step by step', (t) => {
  const [v1, v2, v3] = ownerChain();
  t.notThrows(() => validateVersion(undefined, v1));
  t.notThrows(() => validateVersion(v1, v2));
  t.notThrows(() => validateVersion(v2, v3));
  t.notThrows(() => validateCatchUp(v1, v3), 'a lagging acceptor may jump over a gap');
});

test('refused: a write signed by a non-writer (owner-keyed block)', (t) => {
  const [v1] = ownerChain();
  const byStranger = nextVersion(stranger, v1, { payload: Buffer.from('mine now') });
  refusal(t, () => validateVersion(v1, byStranger), 'Forbidden');
  refusal(t, () => validateCatchUp(undefined, byStranger), 'Forbidden');
  t.throws(() => writeOwnerBlock(stranger, v1, Buffer.from('x')), undefined, 'the helper refuses too');
});

test('refused: a write signed by a non-writer (ACL block)', (t) => {
  const { v1, dataKey } = aclBlock();
  t.notThrows(() => validateVersion(v1, writeAclBlock(writer, v1, dataKey, Buffer.from('by a writer'), entropy)));
  const byStranger = nextVersion(stranger, v1, { payload: Buffer.from('nope') });
  refusal(t, () => validateVersion(v1, byStranger), 'Forbidden');
});

test('refused: a replayed old version', (t) => {
  const [v1, v2, v3] = ownerChain();
  refusal(t, () => validateVersion(v3, v2), 'Conflict');
  refusal(t, () => validateVersion(v2, v2), 'Conflict');
  refusal(t, () => validateCatchUp(v3, v1), 'Conflict');
  refusal(t, () => validateVersion(v1, v3), 'Conflict'); // skipping ahead is not the next version either
  refusal(t, () => validateVersion(undefined, v2), 'Conflict');
});

test('refused: a forged signature', (t) => {
  const [v1, v2] = ownerChain();
  const altered: OwnerVersion = { ...v2, payload: Buffer.from('altered after signing') };
  refusal(t, () => validateVersion(v1, altered), 'Forbidden');
  const flipped = Buffer.from(v2.signature);
  flipped[0] = (flipped[0] as number) ^ 1;
  refusal(t, () => validateVersion(v1, { ...v2, signature: flipped }), 'Forbidden');
  const claimed: OwnerVersion = { ...v2, writer: owner.publicKey, signature: nextVersion(stranger, v1, { payload: v2.payload }).signature };
  refusal(t, () => validateVersion(v1, claimed), 'Forbidden');
});

test('refused: an ACL change by a non-owner', (t) => {
  const { v1, dataKey } = aclBlock();
  // A listed writer adds a writer, signing the new list itself: the list is not the owner's.
  const forgedAcl = signAcl(writer, v1.address, v1.acl.epoch + 1, [writer.publicKey, stranger.publicKey], v1.acl.readers);
  const { writer: _w, signature: _s, ...fields } = v1;
  const grab = signVersion<AclVersion>(writer, { ...fields, version: 2, acl: forgedAcl });
  refusal(t, () => validateVersion(v1, grab), 'Forbidden');
  // Bringing back an older list the owner did sign (one that still listed the writer) is a change too.
  const { record: v2 } = changeAcl(owner, v1, { writers: [], readers: [] }, dataKey, entropy);
  t.notThrows(() => validateVersion(v1, v2), 'the owner may change the lists');
  const { writer: _w2, signature: _s2, ...fields2 } = v2;
  const rollback = signVersion<AclVersion>(writer, { ...fields2, version: 3, acl: v1.acl });
  refusal(t, () => validateVersion(v2, rollback), 'Forbidden');
  refusal(t, () => validateCatchUp(v2, { ...rollback, version: 5 }), 'Forbidden');
});

test('a version must stay the same block, and a quorum-only change needs a trusted key', (t) => {
  const [v1] = ownerChain();
  const other = newOwnerBlock(owner, Buffer.from('other'), quorum, entropy);
  refusal(t, () => validateVersion(v1, { ...nextVersion(owner, other, {}), version: 2 }), 'Invalid');
  const node = identityFromSeed(Buffer.alloc(32, 9));
  const moved = nextVersion(node, v1, { quorum: ['a', 'b', 'd'] });
  refusal(t, () => validateVersion(v1, moved), 'Forbidden');
  const trusted = { mayReconfigure: (key: Buffer) => key.equals(node.publicKey) };
  t.notThrows(() => validateVersion(v1, moved, trusted));
  refusal(t, () => validateVersion(v1, moved, { mayReconfigure: () => false }), 'Unavailable');
  refusal(t, () => validateVersion(v1, nextVersion(node, v1, { payload: Buffer.from('sneaky'), quorum: ['a', 'b', 'd'] }), trusted), 'Forbidden');
});

test('versionValidator returns the typed refusal instead of throwing', (t) => {
  const [v1, v2, v3] = ownerChain();
  const validate = versionValidator();
  const block = v1.address.toString('hex');
  t.is(validate(block, v1, v2), undefined);
  t.is(validate(block, v1, v3), undefined, 'a gap goes through the catch-up check');
  t.is(validate(block, v3, v2)?.kind, 'Conflict');
  t.is(validate(block, v1, nextVersion(stranger, v1, {}))?.kind, 'Forbidden');
  const elsewhere = newOwnerBlock(owner, Buffer.from('another block'), quorum, entropy);
  t.is(validate(block, undefined, elsewhere)?.kind, 'Invalid', 'a valid version of another block, filed under this one');
});
