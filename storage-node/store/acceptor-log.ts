// The acceptor's write-ahead log: a preallocated file of checksummed records, one per group commit, each written
// with O_DSYNC at the end of the last. A group commit then costs one write and one device flush: the file's blocks
// were written (with zeros) when it was made, so overwriting them changes no metadata and fdatasync has no journal
// to commit. An LMDB commit takes two flushes (its pages, then its meta page), and on a shared disk every flush waits
// for the others'. The states themselves are checkpointed into LMDB behind the log (see acceptor-store.ts).
//
// The file is used from its start to its end and then again from its start, once everything in it is checkpointed.
// Records carry a log sequence number (LSN) that only grows: reading from the start, the records of the current pass
// are the run of valid records with consecutive LSNs; a record left from an earlier pass has a lower LSN, and a torn
// one (a crash inside its write, so never acknowledged) fails its checksum, and either ends the run. A run that ends
// on a damaged record with a valid, newer, not yet checkpointed record beyond it is not a torn end but damage to
// states already acknowledged: opening fails rather than forget them.
import { closeSync, constants, fstatSync, fsyncSync, openSync, readSync, renameSync, writeSync } from 'node:fs';
import { dirname } from 'node:path';
import { crc32 } from 'node:zlib';
import { assert } from '../base/assert.js';

const MAGIC = 0x53484c47;
/** magic u32, payload length u32, LSN u64, CRC-32 u32 of the 16 bytes before it and of the payload; little-endian. */
const HEADER_BYTES = 20;
const ZERO_CHUNK_BYTES = 1 << 20;
const ZERO_HEADER = Buffer.alloc(HEADER_BYTES);
const MAGIC_BYTES = Buffer.alloc(4);
MAGIC_BYTES.writeUInt32LE(MAGIC);
/**
 * Bytes the damage check may checksum, in multiples of the log's size. Records of earlier passes carry older LSNs and
 * are passed over without a checksum, so a log as this module writes it costs less than one pass; only record-shaped
 * runs planted in payloads (which clients choose) could cost more, and the check must not take hours for them.
 */
const DAMAGE_CHECK_PASSES_MAX = 4;
/** A log smaller than this could hold too few group commits between checkpoints to be worth having. */
export const ACCEPTOR_LOG_BYTES_MIN = 64 * 1024;

export interface LogRecord {
  readonly lsn: number;
  readonly payload: Buffer;
}

export class AcceptorLog {
  /** Fixed when the file is made; an existing file keeps its size. */
  readonly capacityBytes: number;
  readonly #fd: number;
  #offset = 0;
  #nextLsn = 1;
  readonly #header = Buffer.alloc(HEADER_BYTES);

  private constructor(fd: number, capacityBytes: number) {
    this.#fd = fd;
    this.capacityBytes = capacityBytes;
  }

  /**
   * Opens the log at `path` (making it, `capacityBytes` of zeros, if it is missing) and returns the records of its
   * current pass. Nothing is written until `rewind` says where the next pass starts. `checkpointedLsn`: records up
   * to it are held elsewhere too (LMDB), so losing them to damage loses nothing; damage to a later one throws.
   */
  static open(path: string, capacityBytes: number, checkpointedLsn = 0): { log: AcceptorLog; records: LogRecord[] } {
    assert(Number.isSafeInteger(capacityBytes) && capacityBytes >= ACCEPTOR_LOG_BYTES_MIN, `an acceptor log holds at least ${ACCEPTOR_LOG_BYTES_MIN} bytes`);
    let fd: number;
    try {
      fd = openSync(path, constants.O_RDWR | constants.O_DSYNC);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
      makeZeroFile(path, capacityBytes);
      fd = openSync(path, constants.O_RDWR | constants.O_DSYNC);
    }
    try {
      const size = fstatSync(fd).size;
      assert(size >= ACCEPTOR_LOG_BYTES_MIN, `acceptor log ${path} is ${size} bytes, shorter than any this store makes`);
      const log = new AcceptorLog(fd, size);
      return { log, records: log.#scan(path, checkpointedLsn) };
    } catch (err) {
      closeSync(fd);
      throw err;
    }
  }

  /** The LSN of the last record written, or the one before the next pass's first. */
  get lastLsn(): number {
    return this.#nextLsn - 1;
  }

  /** Whether a record of `payloadBytes` fits after the last one; false means: checkpoint, then rewind. */
  fits(payloadBytes: number): boolean {
    return this.#offset + HEADER_BYTES + payloadBytes <= this.capacityBytes;
  }

  /** Whether a record of `payloadBytes` fits in the log at all. */
  fitsEmpty(payloadBytes: number): boolean {
    return HEADER_BYTES + payloadBytes <= this.capacityBytes;
  }

  /** Writes one record and returns once it is on disk (O_DSYNC); returns its LSN. */
  append(payload: Buffer): number {
    assert(this.fits(payload.length), 'an acceptor log record is appended only where it fits');
    const lsn = this.#nextLsn;
    const header = this.#header;
    header.writeUInt32LE(MAGIC, 0);
    header.writeUInt32LE(payload.length, 4);
    header.writeBigUInt64LE(BigInt(lsn), 8);
    header.writeUInt32LE(crc32(payload, crc32(header.subarray(0, 16))), 16);
    // One write, so one flush: header, payload, and zeros where the next header goes. The zeros end the scan here:
    // bytes left from an earlier pass are never parsed, so a record-shaped run inside an old payload (which a
    // client chooses) cannot pass for the next record.
    const end = this.#offset + HEADER_BYTES + payload.length;
    const terminator = ZERO_HEADER.subarray(0, Math.min(HEADER_BYTES, this.capacityBytes - end));
    writeFully(this.#fd, Buffer.concat([header, payload, terminator]), this.#offset);
    this.#offset += HEADER_BYTES + payload.length;
    this.#nextLsn = lsn + 1;
    return lsn;
  }

  /** Starts the next pass at the file's start. Only once every record written so far is checkpointed. */
  rewind(nextLsn: number = this.#nextLsn): void {
    assert(nextLsn >= this.#nextLsn, 'log sequence numbers never go back');
    this.#offset = 0;
    this.#nextLsn = nextLsn;
  }

  close(): void {
    closeSync(this.#fd);
  }

  #scan(path: string, checkpointedLsn: number): LogRecord[] {
    const file = Buffer.allocUnsafe(this.capacityBytes);
    let read = 0;
    while (read < file.length) {
      const n = readSync(this.#fd, file, read, file.length - read, read);
      if (n === 0) break;
      read += n;
    }
    const records: LogRecord[] = [];
    let offset = 0;
    let lsn = 0;
    while (offset + HEADER_BYTES <= read) {
      if (file.readUInt32LE(offset) !== MAGIC) break;
      const length = file.readUInt32LE(offset + 4);
      if (length > read - offset - HEADER_BYTES) break;
      const recordLsn = Number(file.readBigUInt64LE(offset + 8));
      if (!Number.isSafeInteger(recordLsn) || recordLsn < 1 || (records.length > 0 && recordLsn !== lsn + 1)) break;
      const payload = file.subarray(offset + HEADER_BYTES, offset + HEADER_BYTES + length);
      if (file.readUInt32LE(offset + 16) !== crc32(payload, crc32(file.subarray(offset, offset + 16)))) break;
      records.push({ lsn: recordLsn, payload: Buffer.from(payload) });
      lsn = recordLsn;
      offset += HEADER_BYTES + length;
    }
    // A clean end is the zeros each append writes after its record. Anything else is a torn last write, or damage.
    if (offset + HEADER_BYTES <= read && !file.subarray(offset, offset + HEADER_BYTES).equals(ZERO_HEADER)) {
      const beyond = newerRecordAfter(file, read, offset + 1, Math.max(lsn, checkpointedLsn), this.capacityBytes / HEADER_BYTES);
      if (beyond === 'unchecked') {
        throw new Error(`acceptor log ${path} ends on a torn or damaged record at byte ${offset} (after LSN ${lsn}), and what follows holds more `
          + 'record-shaped bytes than can be checked for newer records, which a log written by a node does not: whether states this node '
          + 'acknowledged are damaged cannot be told. Do not run the node on this data: remove its data directory and join it again as a new '
          + 'node (repair copies its blocks back), or restore the device.');
      }
      if (beyond !== undefined) {
        throw new Error(`acceptor log ${path} is damaged at byte ${offset}: its records are read up to LSN ${lsn}, but record ${beyond.lsn} `
          + `(at byte ${beyond.offset}, not yet checkpointed) follows, so states this node acknowledged cannot be read. Do not run the node `
          + 'on this data: remove its data directory and join it again as a new node (repair copies its blocks back), or restore the device.');
      }
    }
    this.#nextLsn = lsn + 1;
    return records;
  }
}

/**
 * The first valid record (magic, length, checksum) at or after `from` whose LSN is above `after` and within the
 * LSNs the log could hold after it: only a write that followed the damaged one gives such a record, since records
 * left from earlier passes are older and a torn write is the last one made. 'unchecked' when the candidates would
 * take more checksumming than DAMAGE_CHECK_PASSES_MAX passes over the log.
 */
function newerRecordAfter(file: Buffer, read: number, from: number, after: number, lsnSpan: number): { lsn: number; offset: number } | 'unchecked' | undefined {
  let budget = DAMAGE_CHECK_PASSES_MAX * read;
  for (let at = file.indexOf(MAGIC_BYTES, from); at !== -1 && at + HEADER_BYTES <= read; at = file.indexOf(MAGIC_BYTES, at + 1)) {
    const length = file.readUInt32LE(at + 4);
    const lsn = Number(file.readBigUInt64LE(at + 8));
    if (length > read - at - HEADER_BYTES || lsn <= after || lsn > after + lsnSpan) continue;
    budget -= HEADER_BYTES + length;
    if (budget < 0) return 'unchecked';
    if (file.readUInt32LE(at + 16) === crc32(file.subarray(at + HEADER_BYTES, at + HEADER_BYTES + length), crc32(file.subarray(at, at + 16)))) return { lsn, offset: at };
  }
  return undefined;
}

/** Writes the zeros beside the final name and renames, so a crash never leaves a short log behind. */
function makeZeroFile(path: string, bytes: number): void {
  const partial = `${path}.partial`;
  const fd = openSync(partial, 'w');
  try {
    const zeros = Buffer.alloc(Math.min(ZERO_CHUNK_BYTES, bytes));
    for (let offset = 0; offset < bytes; offset += zeros.length) writeFully(fd, zeros.subarray(0, Math.min(zeros.length, bytes - offset)), offset);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  renameSync(partial, path);
  const dir = openSync(dirname(path), 'r');
  try {
    fsyncSync(dir);
  } finally {
    closeSync(dir);
  }
}

function writeFully(fd: number, data: Buffer, position: number): void {
  let done = 0;
  while (done < data.length) done += writeSync(fd, data, done, data.length - done, position + done);
}
