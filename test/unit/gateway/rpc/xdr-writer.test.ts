// Goal: the writer emits exactly the bytes RFC 4506 prescribes. Method: golden bytes worked out by hand from
// the RFC's rules (big-endian, four-byte units, zero padding) and its §7 example, plus refusal of out-of-range values.
import test from 'ava';
import { XdrWriter } from '../../../../gateway/rpc/xdr-writer.js';

const hex = (s: string): Buffer => Buffer.from(s.replace(/\s+/g, ''), 'hex');
const written = (build: (w: XdrWriter) => void): string => {
  const w = new XdrWriter(4);
  build(w);
  return w.finish().toString('hex');
};

test('integers are four big-endian bytes, two\'s complement when signed (§4.1, §4.2)', (t) => {
  t.is(written((w) => w.writeInt(1)), '00000001');
  t.is(written((w) => w.writeInt(-1)), 'ffffffff');
  t.is(written((w) => w.writeInt(-(2 ** 31))), '80000000');
  t.is(written((w) => w.writeUint(0xdeadbeef)), 'deadbeef');
  t.is(written((w) => w.writeEnum(2)), '00000002');
  t.is(written((w) => w.writeBool(true).writeBool(false)), '0000000100000000');
});

test('hypers are eight big-endian bytes (§4.5)', (t) => {
  t.is(written((w) => w.writeHyper(-2n)), 'fffffffffffffffe');
  t.is(written((w) => w.writeUhyper(0x0102030405060708n)), '0102030405060708');
  t.is(written((w) => w.writeUhyper(2n ** 64n - 1n)), 'ffffffffffffffff');
});

test('opaque data is padded with zeros to a multiple of four (§4.9, §4.10)', (t) => {
  t.is(written((w) => w.writeFixedOpaque(Buffer.from([1, 2, 3]))), '01020300');
  t.is(written((w) => w.writeFixedOpaque(Buffer.from([1, 2, 3, 4]))), '01020304');
  t.is(written((w) => w.writeOpaque(Buffer.alloc(0))), '00000000');
  t.is(written((w) => w.writeOpaque(Buffer.from([9]))), '0000000109000000');
  t.is(written((w) => w.writeOpaque(Buffer.from([1, 2, 3, 4, 5]))), '000000050102030405000000');
  // A writer reused after growth must still write zero padding, never stale bytes.
  const w = new XdrWriter(4);
  w.writeUint(0xffffffff).writeOpaque(Buffer.from([0xaa]));
  t.deepEqual(w.finish(), hex('ffffffff 00000001 aa000000'));
});

test('arrays carry a count, fixed arrays none; optional-data is a bool; a list is a chain of optionals (§4.12, §4.13, §4.19)', (t) => {
  t.is(written((w) => w.writeArray([1, 2], (x, v) => x.writeUint(v))), '000000020000000100000002');
  t.is(written((w) => w.writeFixedArray([1, 2], (x, v) => x.writeUint(v))), '0000000100000002');
  t.is(written((w) => w.writeOptional(undefined, (x, v: number) => x.writeUint(v))), '00000000');
  t.is(written((w) => w.writeOptional(7, (x, v) => x.writeUint(v))), '0000000100000007');
  t.is(written((w) => w.writeList([5, 6], (x, v) => x.writeUint(v))), '00000001' + '00000005' + '00000001' + '00000006' + '00000000');
});

test('golden: the file of RFC 4506 §7 ("sillyprog", EXEC "lisp", owner "john", data "(quit)")', (t) => {
  const w = new XdrWriter(8);
  w.writeString('sillyprog', 255).writeEnum(2).writeString('lisp', 255).writeString('john', 32);
  w.writeOpaque(Buffer.from('(quit)'), 65535);
  t.deepEqual(
    w.finish(),
    hex(`00000009 73696c6c 7970726f 67000000
         00000002 00000004 6c697370
         00000004 6a6f686e
         00000006 28717569 74290000`),
  );
});

test('values outside their type or limit are programmer errors', (t) => {
  const w = new XdrWriter();
  t.throws(() => w.writeInt(2 ** 31), { name: 'AssertionFailed' });
  t.throws(() => w.writeInt(1.5), { name: 'AssertionFailed' });
  t.throws(() => w.writeUint(-1), { name: 'AssertionFailed' });
  t.throws(() => w.writeUint(2 ** 32), { name: 'AssertionFailed' });
  t.throws(() => w.writeHyper(2n ** 63n), { name: 'AssertionFailed' });
  t.throws(() => w.writeUhyper(-1n), { name: 'AssertionFailed' });
  t.throws(() => w.writeString('x'.repeat(256), 255), { name: 'AssertionFailed' });
  t.throws(() => w.writeArray([1, 2, 3], (x, v) => x.writeUint(v), 2), { name: 'AssertionFailed' });
  t.throws(() => w.writeFixedOpaque(Buffer.alloc(3), 4), { name: 'AssertionFailed' });
  t.throws(() => w.writeRaw(Buffer.alloc(3)), { name: 'AssertionFailed' });
  t.is(w.length, 0, 'a refused value writes nothing');
});

test('the buffer grows past its first capacity and patchUint rewrites a written word', (t) => {
  const w = new XdrWriter(4);
  for (let i = 0; i < 10_000; i++) w.writeUint(i);
  w.patchUint(0, 0xcafe);
  const bytes = w.finish();
  t.is(bytes.length, 40_000);
  t.is(bytes.readUInt32BE(0), 0xcafe);
  t.is(bytes.readUInt32BE(39_996), 9_999);
  t.throws(() => w.patchUint(40_000, 1), { name: 'AssertionFailed' });
});
