// Raw disk baseline for a log: a write of a small record with O_DSYNC, one after another, into a file written out
// to its full size beforehand, so that each write is data and one device flush, no metadata. What the acceptors'
// log pays per group commit, beside which LMDB's commit (two flushes) is the other floor.
import { closeSync, constants, fsyncSync, openSync, writeSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { measureLoad, type LoadOptions, type Measurement } from '../measure.js';

const FILE_BYTES = 16 * 1024 * 1024;

export class DsyncWrites {
  readonly #directory: string;
  readonly #fd: number;
  #offset = 0;

  private constructor(directory: string, fd: number) {
    this.#directory = directory;
    this.#fd = fd;
  }

  static async open(): Promise<DsyncWrites> {
    const directory = await mkdtemp(join(tmpdir(), 'shoal-bench-dsync-'));
    const path = join(directory, 'log');
    const zeros = openSync(path, 'w');
    try {
      const chunk = Buffer.alloc(1024 * 1024);
      for (let offset = 0; offset < FILE_BYTES; offset += chunk.length) writeSync(zeros, chunk, 0, chunk.length, offset);
      fsyncSync(zeros);
    } finally {
      closeSync(zeros);
    }
    return new DsyncWrites(directory, openSync(path, constants.O_RDWR | constants.O_DSYNC));
  }

  /** Appends `record` again and again (from the start once the file is full), each write on disk when it returns. */
  write(name: string, record: Buffer, options: LoadOptions): Promise<Measurement> {
    return measureLoad(name, record.length, async () => {
      if (this.#offset + record.length > FILE_BYTES) this.#offset = 0;
      writeSync(this.#fd, record, 0, record.length, this.#offset);
      this.#offset += record.length;
    }, options);
  }

  async close(): Promise<void> {
    closeSync(this.#fd);
    await rm(this.#directory, { recursive: true, force: true });
  }
}
