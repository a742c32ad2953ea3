// Goal: the acceptor log gives back exactly the records of its current pass: in order, none torn, none left over
// from an earlier pass. Method: real files in a temporary directory; a torn write is made by overwriting bytes of
// the last record, a pass over older records by rewinding and writing fewer, shorter records.
import test from 'ava';
import { openSync, closeSync, statSync, writeSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { crc32 } from 'node:zlib';
import { ACCEPTOR_LOG_BYTES_MIN, AcceptorLog } from '../../../../storage-node/store/acceptor-log.js';

const CAPACITY = ACCEPTOR_LOG_BYTES_MIN;
const HEADER = 20;

async function logPath(t: { teardown(fn: () => Promise<void>): void }): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'shoal-acceptor-log-'));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  return join(dir, 'consensus.log');
}

const payload = (n: number, bytes = 100): Buffer => Buffer.alloc(bytes, n % 256);

/** A new log at `path` holding records 1..count of 100-byte payloads, closed. */
function writeRecords(path: string, count: number): void {
  const { log } = AcceptorLog.open(path, CAPACITY);
  log.rewind(1);
  for (let n = 1; n <= count; n++) log.append(payload(n));
  log.close();
}

/** Puts `bytes` at `position` in the file, as a torn write or a damaged sector would leave them. */
function overwrite(path: string, bytes: Buffer, position: number): void {
  const fd = openSync(path, 'r+');
  writeSync(fd, bytes, 0, bytes.length, position);
  closeSync(fd);
}

test('a new log is made at its full size, and records come back after a reopen, in order, with their LSNs', async (t) => {
  const path = await logPath(t);
  const first = AcceptorLog.open(path, CAPACITY);
  t.deepEqual(first.records, [], 'a new log holds nothing');
  t.is(statSync(path).size, CAPACITY, 'written out to its size at once, so later writes change no metadata');
  first.log.rewind(1);
  const lsns = [1, 2, 3].map((n) => first.log.append(payload(n)));
  t.deepEqual(lsns, [1, 2, 3]);
  first.log.close();

  const again = AcceptorLog.open(path, 2 * CAPACITY);
  t.is(again.log.capacityBytes, CAPACITY, 'an existing log keeps its size');
  t.deepEqual(again.records.map((r) => r.lsn), [1, 2, 3]);
  t.deepEqual(again.records.map((r) => r.payload), [payload(1), payload(2), payload(3)]);
  t.is(again.log.lastLsn, 3);
  again.log.close();
});

test('a torn last record is dropped and the records before it are kept', async (t) => {
  const path = await logPath(t);
  writeRecords(path, 3);
  // The third record's payload half written: its second half still holds the zeros the file was made with.
  overwrite(path, Buffer.alloc(50), 2 * (HEADER + 100) + HEADER + 50);

  const again = AcceptorLog.open(path, CAPACITY);
  t.deepEqual(again.records.map((r) => r.lsn), [1, 2]);
  again.log.close();
});

test('after a rewind, records of the earlier pass beyond the new last record are not read back', async (t) => {
  const path = await logPath(t);
  const { log } = AcceptorLog.open(path, CAPACITY);
  log.rewind(1);
  for (let n = 1; n <= 10; n++) log.append(payload(n, 300));
  log.rewind();
  // Fewer and shorter records: the earlier pass's records 4..10 (and the tail of 3) are still in the file after them.
  for (let n = 11; n <= 13; n++) log.append(payload(n, 250));
  log.close();

  const again = AcceptorLog.open(path, CAPACITY);
  t.deepEqual(again.records.map((r) => r.lsn), [11, 12, 13]);
  t.deepEqual(again.records.map((r) => r.payload), [payload(11, 250), payload(12, 250), payload(13, 250)]);
  again.log.close();
});

test('fits says when the log must be checkpointed and rewound, and LSNs never go back', async (t) => {
  const path = await logPath(t);
  const { log } = AcceptorLog.open(path, CAPACITY);
  log.rewind(5);
  const big = CAPACITY / 2;
  t.true(log.fits(big - HEADER));
  log.append(payload(1, big - HEADER));
  t.true(log.fits(big - HEADER), 'exactly the rest of the file');
  log.append(payload(2, big - HEADER));
  t.false(log.fits(0), 'full');
  t.true(log.fitsEmpty(CAPACITY - HEADER));
  t.false(log.fitsEmpty(CAPACITY - HEADER + 1), 'no record is larger than the log');
  t.throws(() => log.append(payload(3, 1)), { message: /where it fits/ });
  t.throws(() => log.rewind(3), { message: /never go back/ });
  log.rewind();
  t.is(log.append(payload(3)), 7);
  log.close();
});

test('a record-shaped run inside an earlier pass\'s payload is not read as the next record', async (t) => {
  const path = await logPath(t);
  // What a client could put in a block's value: a well-formed record with the LSN the next pass will want next.
  const evil = Buffer.from('forged state');
  const forged = Buffer.alloc(HEADER + evil.length);
  forged.writeUInt32LE(0x53484c47, 0);
  forged.writeUInt32LE(evil.length, 4);
  forged.writeBigUInt64LE(3n, 8);
  evil.copy(forged, HEADER);
  forged.writeUInt32LE(crc32(evil, crc32(forged.subarray(0, 16))), 16);
  const k = 500;
  const { log } = AcceptorLog.open(path, CAPACITY);
  log.rewind(1);
  log.append(Buffer.concat([Buffer.alloc(k, 1), forged]));
  log.rewind();
  // LSN 2 ends exactly where the forged header starts.
  log.append(Buffer.alloc(k, 2));
  log.close();
  const again = AcceptorLog.open(path, CAPACITY);
  t.deepEqual(again.records.map((r) => r.lsn), [2]);
  again.log.close();
});

test('damage to a record with newer records after it fails the open, unless they are all checkpointed', async (t) => {
  const path = await logPath(t);
  writeRecords(path, 4);
  // One byte of the second record's payload flipped: records 3 and 4, written after it, are still whole.
  overwrite(path, Buffer.from([0xff]), (HEADER + 100) + HEADER + 10);

  const error = t.throws(() => AcceptorLog.open(path, CAPACITY, 1));
  t.regex(error?.message ?? '', /damaged at byte 120: its records are read up to LSN 1, but record 3 .*join it again as a new node/);
  // Everything up to LSN 4 is in LMDB already: nothing acknowledged is lost, the open goes on with what it can read.
  const checkpointed = AcceptorLog.open(path, CAPACITY, 4);
  t.deepEqual(checkpointed.records.map((r) => r.lsn), [1]);
  checkpointed.log.close();
});

test('the damage check past a torn record gives up, failing the open, rather than checksum without end', async (t) => {
  const path = await logPath(t);
  writeRecords(path, 4);
  // Record 4 torn: the scan ends there, and looks beyond it for newer records.
  overwrite(path, Buffer.from([0xff]), 3 * (HEADER + 100) + HEADER + 10);
  // Headers as a client could plant them in block values: plausible LSNs, long claimed payloads, bad checksums.
  const plant = (count: number): void => {
    for (let i = 0; i < count; i++) {
      const at = 4 * (HEADER + 100) + HEADER + i * HEADER;
      const fake = Buffer.alloc(HEADER);
      fake.writeUInt32LE(0x53484c47, 0);
      fake.writeUInt32LE(CAPACITY - at - 2 * HEADER, 4);
      fake.writeBigUInt64LE(5n + BigInt(i), 8);
      overwrite(path, fake, at);
    }
  };
  plant(2);
  // A few are checked: none is a valid newer record, so this is a torn end and the open goes on without record 4.
  const opened = AcceptorLog.open(path, CAPACITY, 0);
  t.deepEqual(opened.records.map((r) => r.lsn), [1, 2, 3]);
  opened.log.close();
  plant(40);
  const error = t.throws(() => AcceptorLog.open(path, CAPACITY, 0));
  t.regex(error?.message ?? '', /torn or damaged record at byte 360 \(after LSN 3\), and what follows holds more record-shaped bytes than can be checked.*join it again as a new node/);
});
