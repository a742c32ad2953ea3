// Goal: frames reassemble from any split of the byte stream, and an oversized header is refused before
// allocation. Method: encode known payloads, feed them back in random cuts from a seeded Random.
import test from 'ava';
import { isShoalError } from '../../../../storage-node/base/errors.js';
import { Random } from '../../../../storage-node/base/random.js';
import { decodeMessage, encodeMessage } from '../../../../storage-node/wire/codec.js';
import { encodeFrame, FrameDecoder } from '../../../../storage-node/wire/frame.js';

test('frames survive any split of the stream', (t) => {
  const random = new Random('frames');
  const payloads = Array.from({ length: 50 }, (_, i) => Buffer.alloc(random.int(5000), i));
  const stream = Buffer.concat(payloads.map(encodeFrame));
  const decoder = new FrameDecoder(1 << 20);
  const out: Buffer[] = [];
  for (let offset = 0; offset < stream.length;) {
    const cut = Math.min(stream.length, offset + 1 + random.int(700));
    out.push(...decoder.push(stream.subarray(offset, cut)));
    offset = cut;
  }
  t.is(out.length, payloads.length);
  out.forEach((frame, i) => t.deepEqual(frame, payloads[i]));
  t.is(decoder.pendingBytes, 0);
});

test('golden bytes: a 3-byte frame is its big-endian length then the payload', (t) => {
  t.deepEqual(encodeFrame(Buffer.from('abc')), Buffer.from([0, 0, 0, 3, 0x61, 0x62, 0x63]));
});

test('a header over the limit is refused before its payload arrives', (t) => {
  const decoder = new FrameDecoder(1024);
  const header = Buffer.alloc(4);
  header.writeUInt32BE(100 * 1024 * 1024);
  const error = t.throws(() => decoder.push(header));
  t.true(isShoalError(error, 'TooLarge'));
});

test('a truncated frame is held as pending bytes, not delivered', (t) => {
  const decoder = new FrameDecoder(1024);
  t.deepEqual(decoder.push(encodeFrame(Buffer.alloc(100)).subarray(0, 50)), []);
  t.is(decoder.pendingBytes, 46);
});

test('messages round-trip and garbage is refused as Invalid', (t) => {
  const body = { items: [{ address: Buffer.alloc(32, 7), n: 3 }] };
  const decoded = decodeMessage(encodeMessage([0, 42, 'content.put-many', body]));
  t.deepEqual(decoded, [0, 42, 'content.put-many', body]);
  t.true(isShoalError(t.throws(() => decodeMessage(Buffer.from([0xc1]))), 'Invalid'));
  t.true(isShoalError(t.throws(() => decodeMessage(encodeMessage([9, 1, 'x'] as never))), 'Invalid'));
  t.true(isShoalError(t.throws(() => decodeMessage(encodeMessage([2, 1, { kind: 'Bogus', message: 'x' }] as never))), 'Invalid'));
});
