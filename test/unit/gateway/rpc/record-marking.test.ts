// Goal: records reassemble from any fragmenting and any split of the TCP stream, and a record over the limit is
// refused on its fragment header, before its data is awaited. Method: golden bytes from RFC 5531 §11, seeded random cuts.
import test from 'ava';
import { isShoalError } from '../../../../storage-node/base/errors.js';
import { Random } from '../../../../storage-node/base/random.js';
import { beginRecord, encodeRecord, endRecord, RecordDecoder } from '../../../../gateway/rpc/record-marking.js';
import { RPC_RECORD_BYTES_MAX } from '../../../../gateway/rpc/rpc-limits.js';
import { XdrWriter } from '../../../../gateway/rpc/xdr-writer.js';

const hex = (s: string): Buffer => Buffer.from(s.replace(/\s+/g, ''), 'hex');
const header = (word: number): Buffer => {
  const b = Buffer.alloc(4);
  b.writeUInt32BE(word >>> 0);
  return b;
};

test('golden: one last fragment is its length with the top bit set, then the data', (t) => {
  t.deepEqual(encodeRecord(Buffer.from('abc')), hex('80000003 616263'));
  t.deepEqual(encodeRecord(Buffer.alloc(0)), hex('80000000'));
  t.deepEqual(encodeRecord(Buffer.from('abcde'), 2), hex('00000002 6162 00000002 6364 80000001 65'));
});

test('golden: beginRecord/endRecord frame a reply without copying it', (t) => {
  const w = new XdrWriter();
  beginRecord(w);
  w.writeUint(0x11223344).writeUint(1);
  t.deepEqual(endRecord(w), hex('80000008 11223344 00000001'));
  const notEmpty = new XdrWriter();
  notEmpty.writeUint(1);
  t.throws(() => beginRecord(notEmpty), { name: 'AssertionFailed' });
});

test('records survive any fragmenting and any split of the stream', (t) => {
  const random = new Random('record-marking');
  for (let round = 0; round < 20; round++) {
    const payloads = Array.from({ length: 30 }, (_, i) => Buffer.alloc(random.int(3000), (round * 31 + i) & 0xff));
    const stream = Buffer.concat(payloads.map((p) => encodeRecord(p, 1 + random.int(700))));
    const decoder = new RecordDecoder(4096);
    const out: Buffer[] = [];
    for (let offset = 0; offset < stream.length;) {
      const cut = Math.min(stream.length, offset + 1 + random.int(random.bool(0.3) ? 3 : 900));
      out.push(...decoder.push(stream.subarray(offset, cut)));
      offset = cut;
    }
    t.is(out.length, payloads.length);
    out.forEach((record, i) => t.deepEqual(record, payloads[i]));
    t.is(decoder.pendingBytes, 0);
  }
});

test('a header claiming 2 GiB is refused from its four bytes alone', (t) => {
  for (const word of [0xffffffff, 0x7fffffff, 0x80000000 + RPC_RECORD_BYTES_MAX + 1]) {
    const decoder = new RecordDecoder(RPC_RECORD_BYTES_MAX);
    const error = t.throws(() => decoder.push(header(word)));
    t.true(isShoalError(error, 'TooLarge'), String(error));
  }
});

test('the limit is on the whole record: fragments each under it but together over it are refused', (t) => {
  const decoder = new RecordDecoder(100);
  t.deepEqual(decoder.push(Buffer.concat([header(60), Buffer.alloc(60)])), []);
  t.true(isShoalError(t.throws(() => decoder.push(header(0x80000000 + 41))), 'TooLarge'));
  const exact = new RecordDecoder(100);
  t.is(exact.push(Buffer.concat([header(60), Buffer.alloc(60), header(0x80000000 + 40), Buffer.alloc(40)]))[0]?.length, 100);
});

test('empty fragments are legal and cost nothing; an empty record is delivered as empty', (t) => {
  const decoder = new RecordDecoder(100);
  const empties = Buffer.concat(Array.from({ length: 10_000 }, () => header(0)));
  t.deepEqual(decoder.push(empties), []);
  t.is(decoder.pendingBytes, 0);
  const records = decoder.push(Buffer.concat([header(2), Buffer.from('ab'), header(0), header(0x80000001), Buffer.from('c')]));
  t.deepEqual(records.map(String), ['abc']);
  t.deepEqual(decoder.push(header(0x80000000)).map((r) => r.length), [0]);
});

test('a truncated record is held as pending bytes, never delivered', (t) => {
  const decoder = new RecordDecoder(1024);
  t.deepEqual(decoder.push(encodeRecord(Buffer.alloc(100)).subarray(0, 50)), []);
  t.true(decoder.pendingBytes >= 46);
  t.deepEqual(decoder.push(Buffer.alloc(2)), []);
});
