// A large file for tests and benchmarks: seeded 1 MiB pieces (distinct, cheap to make again) written in order with
// several writes in flight, as an NFS client keeps WRITEs outstanding; never the whole file in memory.
import { createHash, type Hash } from 'node:crypto';
import type { FileSystem } from '../../../gateway/fs/filesystem.js';
import { ROOT_CALLER } from '../../../gateway/fs/permissions.js';
import type { Address } from '../../../storage-node/blocks/address.js';

export const PIECE_BYTES = 1024 * 1024;

/** Piece `i`: a misplaced chunk changes the file's hash. */
export function pieceOf(seed: string, i: number): Buffer {
  const pattern = createHash('sha256').update(`${seed}:${i}`).digest();
  const out = Buffer.allocUnsafe(PIECE_BYTES);
  for (let at = 0; at < PIECE_BYTES; at += pattern.length) pattern.copy(out, at);
  out.writeUInt32BE(i, 0);
  return out;
}

/** Writes `pieces` pieces from offset 0 with `inFlight` writes outstanding, then commits; returns the SHA-256 state. */
export async function writeSequentialFile(fs: FileSystem, file: Address, seed: string, pieces: number, inFlight: number): Promise<Hash> {
  const written = createHash('sha256');
  const pending = new Set<Promise<unknown>>();
  for (let i = 0; i < pieces; i++) {
    const data = pieceOf(seed, i);
    written.update(data);
    const write = fs.write(ROOT_CALLER, file, i * PIECE_BYTES, data).finally(() => pending.delete(write));
    pending.add(write);
    if (pending.size >= inFlight) await Promise.race(pending);
  }
  await Promise.all(pending);
  await fs.commit(file);
  return written;
}
