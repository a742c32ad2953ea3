// Goal: the repair token bucket holds copies to the configured bytes and blocks per second, and still lets a block
// larger than a second's budget through. Method: feed it times by hand.
import test from 'ava';
import { RateLimit, RateMeter } from '../../../../storage-node/server/repair/rate-limit.js';

test('bytes per second: a full second of budget goes at once, then the wait matches the deficit', (t) => {
  const rate = new RateLimit({ bytesPerSecond: 1000, blocksPerSecond: 100 }, 0);
  t.is(rate.take(600, 0), 0);
  t.is(rate.take(400, 0), 0);
  t.is(rate.take(500, 0), 500);
  t.is(rate.take(500, 500), 0);
});

test('blocks per second bound small blocks', (t) => {
  const rate = new RateLimit({ bytesPerSecond: 1e9, blocksPerSecond: 2 }, 0);
  t.is(rate.take(1, 0), 0);
  t.is(rate.take(1, 0), 0);
  t.is(rate.take(1, 0), 500);
  t.is(rate.take(1, 500), 0);
});

test('a block larger than one second of budget goes once the bucket is full, and the debt delays the next', (t) => {
  const rate = new RateLimit({ bytesPerSecond: 1000, blocksPerSecond: 100 }, 0);
  t.is(rate.take(3000, 0), 0);
  t.is(rate.take(100, 0), 2100);
  t.is(rate.take(100, 2100), 0);
});

test('the meter averages over its window and forgets older transfers', (t) => {
  const meter = new RateMeter(2000);
  meter.record(1000, 0);
  meter.record(3000, 1000);
  t.is(meter.bytesPerSecond(1500), 2000);
  t.is(meter.bytesPerSecond(2500), 1500);
  t.is(meter.bytesPerSecond(5000), 0);
});

test('a batch takes its blocks from the block budget, and a batch above a second of blocks still goes', (t) => {
  const rate = new RateLimit({ bytesPerSecond: 1e9, blocksPerSecond: 10 }, 0);
  t.is(rate.take(100, 0, 6), 0);
  t.is(rate.take(100, 0, 6), 200);
  t.is(rate.take(100, 1000, 30), 0);
  t.is(rate.take(100, 1000, 1), 2100);
});
