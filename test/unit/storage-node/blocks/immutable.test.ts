// Goal: a content block is bound to its address and its owner. Method: build blocks from seeded entropy,
// then change one byte of each part and check the verdict.
import test from 'ava';
import { isShoalError } from '../../../../storage-node/base/errors.js';
import { Random, SeededEntropy } from '../../../../storage-node/base/random.js';
import { sha256 } from '../../../../storage-node/blocks/address.js';
import { contentAddress, newContentBlock, signContentRemoval, verifyContentBlock, verifyContentRemoval } from '../../../../storage-node/blocks/immutable.js';
import { newIdentity } from '../../../../storage-node/blocks/sign.js';

const entropy = new SeededEntropy(new Random('immutable'));
const owner = newIdentity(entropy).identity;

test('the address is H(owner ‖ salt ‖ ciphertext)', (t) => {
  const { address, block } = newContentBlock(owner.publicKey, Buffer.from('ciphertext'), entropy);
  t.deepEqual(address, sha256(owner.publicKey, block.salt, Buffer.from('ciphertext')));
  t.notThrows(() => verifyContentBlock(address, block));
});

test('changing the data, the salt or the owner breaks the address', (t) => {
  const { address, block } = newContentBlock(owner.publicKey, Buffer.from('ciphertext'), entropy);
  const other = newIdentity(entropy).identity;
  for (const tampered of [
    { ...block, data: Buffer.from('Ciphertext') },
    { ...block, salt: Buffer.from(block.salt).fill(0) },
    { ...block, owner: other.publicKey },
  ]) {
    t.true(isShoalError(t.throws(() => verifyContentBlock(address, tampered)), 'Invalid'));
  }
});

test('malformed blocks are Invalid or TooLarge, never a crash', (t) => {
  const { address, block } = newContentBlock(owner.publicKey, Buffer.alloc(10), entropy);
  t.true(isShoalError(t.throws(() => verifyContentBlock(address.subarray(1), block)), 'Invalid'));
  t.true(isShoalError(t.throws(() => verifyContentBlock(address, { ...block, owner: Buffer.alloc(5) })), 'Invalid'));
  t.true(isShoalError(t.throws(() => verifyContentBlock(address, { ...block, data: Buffer.alloc(5 * 1024 * 1024) })), 'TooLarge'));
});

test("only the owner's signature removes a block, and only that block", (t) => {
  const first = newContentBlock(owner.publicKey, Buffer.from('one'), entropy);
  const second = newContentBlock(owner.publicKey, Buffer.from('two'), entropy);
  const signature = signContentRemoval(owner, first.address);
  t.notThrows(() => verifyContentRemoval(first.block, first.address, signature));
  t.true(isShoalError(t.throws(() => verifyContentRemoval(second.block, second.address, signature)), 'Forbidden'));
  const stranger = newIdentity(entropy).identity;
  t.true(isShoalError(t.throws(() => verifyContentRemoval(first.block, first.address, signContentRemoval(stranger, first.address))), 'Forbidden'));
  t.deepEqual(contentAddress(first.block), first.address);
});
