// Goal: identities are reproducible from their seed and signatures bind key and message.
import test from 'ava';
import { identityFromSeed, signBytes, verifySignature } from '../../../../storage-node/blocks/sign.js';

test('the same seed gives the same key; signatures verify only for their key and message', (t) => {
  const seed = Buffer.alloc(32, 1);
  const a = identityFromSeed(seed);
  t.deepEqual(identityFromSeed(seed).publicKey, a.publicKey);
  t.is(a.publicKey.length, 32);
  const signature = signBytes(a, Buffer.from('hello'));
  t.true(verifySignature(a.publicKey, Buffer.from('hello'), signature));
  t.false(verifySignature(a.publicKey, Buffer.from('hellp'), signature));
  t.false(verifySignature(identityFromSeed(Buffer.alloc(32, 2)).publicKey, Buffer.from('hello'), signature));
  t.false(verifySignature(a.publicKey, Buffer.from('hello'), signature.subarray(1)), 'a short signature is false, not a crash');
});
