// Goal: the filesystem's records round-trip and refuse malformed bytes; directory runs sort, resume from cookies and
// split as documented. Method: pure encode/decode and sorted-run operations, no cluster.
import test from 'ava';
import { isShoalError } from '../../../../storage-node/base/errors.js';
import {
  checkName, compareNames, decodeDirPage, encodeDirPage, entriesAfter, pageFor, splitEntries, withEntry, withoutEntry, type DirEntry,
} from '../../../../gateway/fs/directory.js';
import { decodeFat, decodeFatNode, encodeFat, encodeFatNode, type ChunkRef } from '../../../../gateway/fs/fat-record.js';
import { decodeInode, encodeInode, type Inode } from '../../../../gateway/fs/inode.js';
import { packRecord } from '../../../../gateway/fs/record-packer.js';

const address = (n: number): Buffer => Buffer.alloc(32, n);
const entry = (name: string, n = 1): DirEntry => ({ name, inode: address(n), type: 'file', size: n, mode: 0o644, mtimeMs: 1000 + n });
const attrs = { mode: 0o644, uid: 1000, gid: 100, nlink: 1, size: 5, atimeMs: 1, mtimeMs: 2, ctimeMs: 3, xattrs: new Map([['s3.etag', Buffer.from('"abc"')]]) };

test('inodes of every kind round-trip', (t) => {
  const chunk: ChunkRef = { index: 3, length: 64, address: address(9), key: Buffer.alloc(32, 1) };
  const inodes: Inode[] = [
    { ...attrs, type: 'file', data: { kind: 'inline', bytes: Buffer.from('hello') } },
    { ...attrs, size: 300, type: 'file', data: { kind: 'fat', fat: { kind: 'chunks', chunkBytes: 64, chunks: [chunk] } } },
    { ...attrs, type: 'file', data: { kind: 'fat', fat: { kind: 'tree', chunkBytes: 64, depth: 2, root: { address: address(4), key: Buffer.alloc(32, 2) } } } },
    { ...attrs, type: 'symlink', target: '../x', parent: address(3), parentName: 'l' },
    { ...attrs, nlink: 2, type: 'dir', dir: { kind: 'entries', entries: [entry('a'), entry('b', 2)] }, parent: address(3) },
    { ...attrs, nlink: 2, type: 'dir', dir: { kind: 'pages', pages: [{ low: '', address: address(5) }, { low: 'm', address: address(6) }] }, removed: true },
  ];
  for (const inode of inodes) t.deepEqual(decodeInode(encodeInode(inode)), inode);
  t.true(encodeInode(inodes[0]!).length < 120, 'a small file inode is compact');
});

test('inode decoding is strict', (t) => {
  const bad = [
    packRecord({ v: 2, t: 0 }),
    packRecord({ v: 1, t: 7, m: 0, u: 0, g: 0, n: 1, s: 0, a: 0, mt: 0, c: 0, d: Buffer.alloc(0) }),
    packRecord({ v: 1, t: 0, m: 0o100644, u: 0, g: 0, n: 1, s: 0, a: 0, mt: 0, c: 0, d: Buffer.alloc(0) }),
    packRecord({ v: 1, t: 0, m: 0o644, u: -1, g: 0, n: 1, s: 0, a: 0, mt: 0, c: 0, d: Buffer.alloc(0) }),
    packRecord({ v: 1, t: 0, m: 0o644, u: 0, g: 0, n: 1, s: 2, a: 0, mt: 0, c: 0, d: Buffer.alloc(3) }),
    packRecord({ v: 1, t: 1, m: 0o755, u: 0, g: 0, n: 2, s: 0, a: 0, mt: 0, c: 0, e: [['b', address(1), 0, 0, 0, 0, null], ['a', address(1), 0, 0, 0, 0, null]] }),
    packRecord({ v: 1, t: 1, m: 0o755, u: 0, g: 0, n: 2, s: 0, a: 0, mt: 0, c: 0, pg: [['x', address(1)]] }),
    Buffer.from([0xc1]),
  ];
  for (const bytes of bad) t.true(isShoalError(t.throws(() => decodeInode(bytes)), 'Invalid'));
});

test('FAT headers and index blocks round-trip and check their slots', (t) => {
  const fat = { kind: 'chunks' as const, chunkBytes: 64, chunks: [{ index: 0, length: 64, address: address(1), key: Buffer.alloc(32, 3) }] };
  t.deepEqual(decodeFat(encodeFat(fat), 'fat'), fat);
  const leaf = { depth: 0 as const, slots: new Map([[1, { index: 9, length: 10, address: address(2), key: Buffer.alloc(32, 4) }]]) };
  t.deepEqual(decodeFatNode(encodeFatNode(leaf), 0, 8, 4, 64).slots.get(1), { index: 9, length: 10, address: address(2), key: Buffer.alloc(32, 4) });
  t.throws(() => decodeFatNode(encodeFatNode(leaf), 1, 8, 4, 64), { message: /depth/ });
  t.throws(() => decodeFatNode(encodeFatNode({ depth: 0, slots: new Map([[5, leaf.slots.get(1)!]]) }), 0, 0, 4, 64));
  t.throws(() => decodeFat({ b: 64, c: [[1, 0, address(1), Buffer.alloc(32)]] }, 'fat'), undefined, 'a chunk of length 0');
});

test('entries stay sorted in UTF-8 byte order; a cookie resumes after the last name even once it is gone', (t) => {
  let entries: DirEntry[] = [];
  for (const name of ['m', 'b', 'z', 'é', 'a', '\u{1F600}', '\uFF01']) entries = withEntry(entries, entry(name));
  t.deepEqual(entries.map((e) => e.name), ['a', 'b', 'm', 'z', 'é', '\uFF01', '\u{1F600}']);
  t.true(compareNames('\uFF01', '\u{1F600}') < 0, 'U+FF01 sorts before U+1F600 in UTF-8 though not in UTF-16');
  t.deepEqual(entriesAfter(entries, 'b', 2).map((e) => e.name), ['m', 'z']);
  entries = withoutEntry(entries, 'm');
  t.deepEqual(entriesAfter(entries, 'm', 2).map((e) => e.name), ['z', 'é'], 'the cookie "m" still resumes at the next name');
  t.deepEqual(entriesAfter(entries, 'c', 10).map((e) => e.name), ['z', 'é', '\uFF01', '\u{1F600}']);
  t.is(withEntry(entries, entry('b', 7)).find((e) => e.name === 'b')?.size, 7, 'replaces a name in place');
});

test('a split halves a run; pages are found by low bound and round-trip with their B-link fields', (t) => {
  const entries = ['a', 'b', 'c', 'd', 'e'].map((n) => entry(n));
  const { lower, upper, key } = splitEntries(entries);
  t.deepEqual([lower.length, upper.length, key], [2, 3, 'c']);
  const pages = [{ low: '', address: address(1) }, { low: 'c', address: address(2) }, { low: 'x', address: address(3) }];
  t.is(pageFor(pages, 'b').address[0], 1);
  t.is(pageFor(pages, 'c').address[0], 2);
  t.is(pageFor(pages, 'zz').address[0], 3);
  const page = { low: '', high: 'c', next: address(2), mtimeMs: 5, entries: lower };
  t.deepEqual(decodeDirPage(encodeDirPage(page)), page);
  t.throws(() => decodeDirPage(encodeDirPage({ ...page, entries: upper })), { message: /bounds/ });
});

test('names: empty, dot, dot-dot, slash and NUL are refused; over 255 bytes is NameTooLong', (t) => {
  for (const name of ['', '.', '..', 'a/b', 'a\0b']) t.true(isShoalError(t.throws(() => checkName(name, 255)), 'Invalid'));
  t.true(isShoalError(t.throws(() => checkName('é'.repeat(128), 255)), 'NameTooLong'));
  t.notThrows(() => checkName('x'.repeat(255), 255));
});
