// Goal: the reader decodes RFC 4506 exactly and refuses, with the typed XDR error, every truncation, lying
// count and out-of-type value, before allocating. Method: the RFC §7 example cut at every length, and hand-made lies.
import test from 'ava';
import { isXdrError } from '../../../../gateway/rpc/rpc-errors.js';
import { XdrReader } from '../../../../gateway/rpc/xdr-reader.js';
import { XdrWriter } from '../../../../gateway/rpc/xdr-writer.js';

const hex = (s: string): Buffer => Buffer.from(s.replace(/\s+/g, ''), 'hex');
const RFC_4506_FILE = hex(`00000009 73696c6c 7970726f 67000000 00000002 00000004 6c697370
                           00000004 6a6f686e 00000006 28717569 74290000`);
const FILEKIND = new Set([0, 1, 2] as const);

function readFile(reader: XdrReader): { filename: string; kind: number; interpretor: string; owner: string; data: Buffer } {
  const filename = reader.readString(255);
  const kind = reader.readEnum(FILEKIND, 'filekind');
  const interpretor = reader.readString(255);
  return { filename, kind, interpretor, owner: reader.readString(32), data: reader.readOpaque(65535) };
}

test('golden: reads the file of RFC 4506 §7', (t) => {
  const reader = new XdrReader(RFC_4506_FILE);
  const file = readFile(reader);
  t.deepEqual({ ...file, data: file.data.toString() }, { filename: 'sillyprog', kind: 2, interpretor: 'lisp', owner: 'john', data: '(quit)' });
  t.notThrows(() => reader.finish());
});

test('every truncation of the §7 example is an XDR error', (t) => {
  for (let length = 0; length < RFC_4506_FILE.length; length++) {
    const error = t.throws(() => readFile(new XdrReader(RFC_4506_FILE.subarray(0, length))));
    t.true(isXdrError(error), `cut at ${length}: ${String(error)}`);
  }
});

test('integers, hypers, bools and enums read back what the writer wrote', (t) => {
  const w = new XdrWriter();
  w.writeInt(-5).writeUint(0xfffffffe).writeHyper(-(2n ** 63n)).writeUhyper(2n ** 64n - 1n).writeBool(true).writeEnum(1);
  w.writeArray([3, 4], (x, v) => x.writeInt(v)).writeOptional(9, (x, v) => x.writeUint(v)).writeOptional(undefined, (x, v: number) => x.writeUint(v));
  w.writeList([7, 8, 9], (x, v) => x.writeUint(v)).writeFixedOpaque(Buffer.from('ab'));
  const r = new XdrReader(w.finish());
  t.is(r.readInt(), -5);
  t.is(r.readUint(), 0xfffffffe);
  t.is(r.readHyper(), -(2n ** 63n));
  t.is(r.readUhyper(), 2n ** 64n - 1n);
  t.true(r.readBool());
  t.is(r.readEnum(FILEKIND, 'filekind'), 1);
  t.deepEqual(r.readArray(2, (x) => x.readInt()), [3, 4]);
  t.is(r.readOptional((x) => x.readUint()), 9);
  t.is(r.readOptional((x) => x.readUint()), undefined);
  t.deepEqual(r.readList(3, (x) => x.readUint()), [7, 8, 9]);
  t.is(r.readFixedOpaque(2).toString(), 'ab');
  t.is(r.remaining, 0);
});

test('a length or count over its limit is refused from the count alone', (t) => {
  const huge = hex('ffffffff');
  for (const read of [
    (r: XdrReader) => r.readOpaque(1024),
    (r: XdrReader) => r.readString(255),
    (r: XdrReader) => r.readArray(16, (x) => x.readUint()),
  ]) {
    const error = t.throws(() => read(new XdrReader(huge)));
    t.true(isXdrError(error));
    t.regex(String(error), /over its limit/);
  }
  // Within the limit but longer than the bytes left: refused before any item is read.
  t.true(isXdrError(t.throws(() => new XdrReader(hex('00000010 00000001')).readArray(100, (x) => x.readUint()))));
  t.true(isXdrError(t.throws(() => new XdrReader(hex('00000008 61626364')).readOpaque(100))));
  // The padding is part of the item: five bytes of data need eight.
  t.true(isXdrError(t.throws(() => new XdrReader(hex('00000005 61626364 65')).readOpaque(100))));
});

test('values outside their type are XDR errors', (t) => {
  t.true(isXdrError(t.throws(() => new XdrReader(hex('00000002')).readBool())));
  t.true(isXdrError(t.throws(() => new XdrReader(hex('ffffffff')).readBool())));
  t.true(isXdrError(t.throws(() => new XdrReader(hex('00000003')).readEnum(FILEKIND, 'filekind'))));
  t.true(isXdrError(t.throws(() => new XdrReader(hex('00000001 00000001 00000001 00000001')).readList(1, (x) => x.readUint()))));
  t.true(isXdrError(t.throws(() => new XdrReader(hex('00000000')).readHyper())));
  t.true(isXdrError(t.throws(() => new XdrReader(hex('0000')).readUint())));
});

test('opaque data is a view of the input, and finish() refuses leftovers', (t) => {
  const input = hex('00000003 616263 00 00000001');
  const reader = new XdrReader(input);
  const data = reader.readOpaque(10);
  t.is(data.buffer, input.buffer);
  t.is(data.toString(), 'abc');
  t.is(reader.offset, 8);
  t.true(isXdrError(t.throws(() => reader.finish())));
  t.is(reader.readUint(), 1);
  t.notThrows(() => reader.finish());
});
