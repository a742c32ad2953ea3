// Goal: the rendezvous draw is uniform, independent across nodes and deterministic, even for hand-made
// addresses. Method: histogram and correlation over 100,000 seeded and sequential addresses.
import test from 'ava';
import { isShoalError } from '../../../../storage-node/base/errors.js';
import { Random } from '../../../../storage-node/base/random.js';
import { addressKey, rendezvousScore, scoreAt, unitAt } from '../../../../storage-node/placement/rendezvous.js';

function randomAddress(random: Random): Buffer {
  const address = Buffer.alloc(32);
  for (let i = 0; i < 32; i += 4) address.writeUInt32LE(random.nextUint32(), i);
  return address;
}

/** Addresses 0, 1, 2, … in the first word: the worst case for a weak mix. */
function sequentialAddress(n: number): Buffer {
  const address = Buffer.alloc(32);
  address.writeUInt32LE(n, 0);
  return address;
}

const SAMPLES = 100_000;
const BUCKETS = 16;

function assertUniform(t: import('ava').ExecutionContext, draws: Float64Array, label: string): void {
  const counts = new Array<number>(BUCKETS).fill(0);
  let sum = 0;
  for (const u of draws) {
    t.true(u > 0 && u < 1, `${label}: u=${u} outside (0, 1)`);
    counts[Math.floor(u * BUCKETS)]! += 1;
    sum += u;
  }
  const expected = draws.length / BUCKETS;
  const deviationMax = Math.max(...counts.map((c) => Math.abs(c - expected) / expected));
  t.log(`${label}: mean ${(sum / draws.length).toFixed(4)}, worst bucket off by ${(deviationMax * 100).toFixed(2)} %`);
  t.true(Math.abs(sum / draws.length - 0.5) < 0.005, `${label}: mean ${sum / draws.length}`);
  t.true(deviationMax < 0.05, `${label}: a bucket is ${(deviationMax * 100).toFixed(2)} % off`);
}

test('the draw is uniform in (0, 1) for seeded random addresses', (t) => {
  const random = new Random('rendezvous-uniform');
  const draws = new Float64Array(SAMPLES);
  for (let i = 0; i < SAMPLES; i++) draws[i] = unitAt(addressKey(randomAddress(random)), 'node-a');
  assertUniform(t, draws, 'random addresses');
});

test('the draw is uniform even for sequential addresses', (t) => {
  const draws = new Float64Array(SAMPLES);
  for (let i = 0; i < SAMPLES; i++) draws[i] = unitAt(addressKey(sequentialAddress(i)), 'node-b');
  assertUniform(t, draws, 'sequential addresses');
});

test('draws of two nodes for the same address are uncorrelated', (t) => {
  const random = new Random('rendezvous-independent');
  let sumA = 0, sumB = 0, sumAB = 0, sumAA = 0, sumBB = 0;
  for (let i = 0; i < SAMPLES; i++) {
    const key = addressKey(randomAddress(random));
    // Ids that differ in one character: the node key must still separate them.
    const a = unitAt(key, 'node-1');
    const b = unitAt(key, 'node-2');
    sumA += a; sumB += b; sumAB += a * b; sumAA += a * a; sumBB += b * b;
  }
  const n = SAMPLES;
  const covariance = sumAB / n - (sumA / n) * (sumB / n);
  const correlation = covariance / Math.sqrt((sumAA / n - (sumA / n) ** 2) * (sumBB / n - (sumB / n) ** 2));
  t.log(`correlation ${correlation.toFixed(5)}`);
  t.true(Math.abs(correlation) < 0.015, `correlation ${correlation}`);
});

test('scores are deterministic and grow with weight', (t) => {
  const address = randomAddress(new Random('rendezvous-deterministic'));
  const score = rendezvousScore(address, 'node-a', 1000);
  t.is(rendezvousScore(Buffer.from(address), 'node-a', 1000), score);
  t.not(rendezvousScore(address, 'node-b', 1000), score);
  t.true(rendezvousScore(address, 'node-a', 2000) > score);
  t.is(scoreAt(addressKey(address), 'node-a', 1000), score);
});

test('a weight that is not a positive finite number scores 0', (t) => {
  const address = randomAddress(new Random('rendezvous-weight'));
  for (const weight of [0, -5, Number.NaN, Number.POSITIVE_INFINITY]) t.is(rendezvousScore(address, 'node-a', weight), 0, String(weight));
  t.true(rendezvousScore(address, 'node-a', 1) > 0);
});

test('an address of the wrong length is rejected as Invalid', (t) => {
  const error = t.throws(() => addressKey(Buffer.alloc(31)));
  t.true(isShoalError(error, 'Invalid'));
  t.throws(() => rendezvousScore(Buffer.from('ab'.repeat(32)), 'node-a', 1));
});
