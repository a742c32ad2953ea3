// What a failed LMDB commit (a full disk, an I/O error) becomes. lmdb-js rejects each write of the failed commit with a
// generic error and hangs LMDB's own error on it as `commitError`: a second promise, shared by the commit's writes and
// rejected in the same turn. Nobody awaits that one unless we do, and an unhandled rejection ends the process, so a
// full disk would take the node down instead of failing the writes (and lmdb-js recovers once there is room again).
import { ShoalError } from '../base/errors.js';

/** Resolves as `commit` does; a failed commit rejects with ShoalError('Unavailable') naming LMDB's error. */
export async function lmdbCommitted<T>(commit: PromiseLike<T>, what: string): Promise<T> {
  try {
    return await commit;
  } catch (err) {
    throw await commitFailure(err, what);
  }
}

async function commitFailure(err: unknown, what: string): Promise<unknown> {
  const inner = (err as { commitError?: unknown } | null)?.commitError;
  if (!isPromiseLike(inner)) return err;
  // Handled from here on, whenever it settles. It is rejected in the turn that rejected `err`, so one macrotask is
  // enough to learn why; should it still be pending, the generic error is all there is to say.
  const cause = await Promise.race([
    Promise.resolve(inner).then(() => err, (lmdbError: unknown) => lmdbError),
    new Promise<unknown>((resolve) => setImmediate(resolve, err)),
  ]);
  const reason = cause instanceof Error ? cause.message : String(cause);
  return new ShoalError('Unavailable', `this node could not write ${what} to its disk (LMDB: ${reason}); is the disk full or failing?`, {
    subject: 'node', cause,
  });
}

function isPromiseLike(value: unknown): value is PromiseLike<unknown> {
  return typeof value === 'object' && value !== null && typeof (value as { then?: unknown }).then === 'function';
}

let guarded = false;

/**
 * For a process whose writes its disk may refuse (a node): they fail to their callers, and nothing else ends it.
 * lmdb-js also rejects a promise of its own for each event turn's batch of writes, which nothing outside it can reach;
 * this takes those rejections (recognised by their `commitError`), each of whose writes was already failed to its
 * caller. Any other unhandled rejection still ends the process. And a write past a file size limit (ulimit -f) then
 * fails with EFBIG, as one on a full disk fails with ENOSPC, instead of the signal's default ending the process first.
 */
export function surviveRefusedWrites(): void {
  if (guarded) return;
  guarded = true;
  process.on('unhandledRejection', (reason: unknown) => {
    const inner = (reason as { commitError?: unknown } | null)?.commitError;
    if (reason instanceof Error && isPromiseLike(inner)) {
      Promise.resolve(inner).catch(() => {});
      return;
    }
    throw reason instanceof Error ? reason : new Error(`a promise was rejected with ${String(reason)} and nothing handled it`, { cause: reason });
  });
  process.on('SIGXFSZ', () => {});
}
