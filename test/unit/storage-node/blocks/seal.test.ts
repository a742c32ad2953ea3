// Goal: sealed content opens only with its key and detects any change. Method: round trips and bit flips.
import test from 'ava';
import { isShoalError } from '../../../../storage-node/base/errors.js';
import { Random, SeededEntropy } from '../../../../storage-node/base/random.js';
import { newDataKey, openData, SEAL_OVERHEAD_BYTES, sealData } from '../../../../storage-node/blocks/seal.js';

const entropy = new SeededEntropy(new Random('seal'));

test('seal then open returns the plaintext; the sealed form hides it', (t) => {
  const key = newDataKey(entropy);
  const plaintext = Buffer.from('the quick brown fox '.repeat(50));
  const sealed = sealData(key, plaintext, entropy);
  t.is(sealed.length, plaintext.length + SEAL_OVERHEAD_BYTES);
  t.false(sealed.includes(Buffer.from('quick brown')));
  t.deepEqual(openData(key, sealed), plaintext);
});

test('a wrong key or a flipped bit is refused', (t) => {
  const key = newDataKey(entropy);
  const sealed = sealData(key, Buffer.from('secret'), entropy);
  t.true(isShoalError(t.throws(() => openData(newDataKey(entropy), sealed)), 'Forbidden'));
  const flipped = Buffer.from(sealed);
  flipped[15] = (flipped[15] as number) ^ 1;
  t.true(isShoalError(t.throws(() => openData(key, flipped)), 'Forbidden'));
  t.true(isShoalError(t.throws(() => openData(key, sealed.subarray(0, 10))), 'Invalid'));
});

test('two seals of the same plaintext differ (fresh nonces)', (t) => {
  const key = newDataKey(entropy);
  t.notDeepEqual(sealData(key, Buffer.from('same'), entropy), sealData(key, Buffer.from('same'), entropy));
});
