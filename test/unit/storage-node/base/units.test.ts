// Goal: sizes and durations parse as people write them, and nonsense is refused with the fix.
import test from 'ava';
import { isShoalError } from '../../../../storage-node/base/errors.js';
import { formatBytes, parseBytes, parseDurationMs } from '../../../../storage-node/base/units.js';

test('sizes', (t) => {
  t.is(parseBytes('100GiB'), 100 * 2 ** 30);
  t.is(parseBytes('2TB'), 2e12);
  t.is(parseBytes('512'), 512);
  t.is(parseBytes('1.5 MiB'), 1.5 * 2 ** 20);
  t.true(isShoalError(t.throws(() => parseBytes('lots')), 'Invalid'));
  t.true(isShoalError(t.throws(() => parseBytes('10 parsecs')), 'Invalid'));
  t.is(formatBytes(3 * 2 ** 30), '3.0 GiB');
});

test('durations', (t) => {
  t.is(parseDurationMs('5s'), 5000);
  t.is(parseDurationMs('250ms'), 250);
  t.is(parseDurationMs('2m'), 120_000);
  t.true(isShoalError(t.throws(() => parseDurationMs('soon')), 'Invalid'));
});

test('the seeded random is reproducible and forks independently', async (t) => {
  const { Random } = await import('../../../../storage-node/base/random.js');
  const a = new Random(7);
  const b = new Random(7);
  t.deepEqual([a.nextUint32(), a.nextUint32()], [b.nextUint32(), b.nextUint32()]);
  t.not(new Random(7).fork('x').nextUint32(), new Random(7).fork('y').nextUint32());
  const floats = Array.from({ length: 1000 }, () => a.float());
  t.true(floats.every((f) => f >= 0 && f < 1));
});
