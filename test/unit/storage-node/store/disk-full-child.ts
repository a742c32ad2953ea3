// A process whose disk fills up under its stores: run by disk-full.test.ts, with the scenario and a directory as
// arguments, it prints what it saw as one JSON line. The file size limit (RLIMIT_FSIZE, lowered and raised again
// with prlimit on this process) makes every write past it fail with EFBIG, as a full disk fails them with ENOSPC.
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { isShoalError } from '../../../../storage-node/base/errors.js';
import { newContentBlock } from '../../../../storage-node/blocks/immutable.js';
import { openLmdbAcceptorStore } from '../../../../storage-node/store/acceptor-store.js';
import { ACCEPTOR_LOG_BYTES_MIN } from '../../../../storage-node/store/acceptor-log.js';
import { openLmdbBlockStore } from '../../../../storage-node/store/lmdb-block-store.js';
import { surviveRefusedWrites } from '../../../../storage-node/store/lmdb-commit.js';
import { systemEntropy } from '../../../../storage-node/system.js';

/** Far above the acceptor log (which is written in place, below it) and below what each scenario grows LMDB to. */
const LIMIT_BYTES = 1024 * 1024;
const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

// As a node does (storage-node/main.ts).
surviveRefusedWrites();

const fileSizeLimit = (): string => execFileSync('prlimit', ['--pid', String(process.pid), '--fsize', '--raw', '--noheadings', '--output', 'SOFT'], { encoding: 'utf8' }).trim();
const originalLimit = fileSizeLimit();

/** The soft limit only (`N:`): lowering it needs no privilege, and with the hard limit left alone it can be raised again. */
function limitFileSize(bytes: number | 'original'): void {
  execFileSync('prlimit', ['--pid', String(process.pid), `--fsize=${bytes === 'original' ? originalLimit : bytes}:`]);
}

/** 'resolved', a refusal, or 'pending' if `promise` is still unsettled after `ms`. */
async function settlesWithin(promise: Promise<unknown>, ms: number): Promise<'resolved' | 'pending' | { kind: string | undefined; message: string }> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const pending = new Promise<'pending'>((resolve) => (timer = setTimeout(resolve, ms, 'pending')));
  try {
    return await Promise.race([promise.then(() => 'resolved' as const, describe), pending]);
  } finally {
    clearTimeout(timer);
  }
}

function describe(err: unknown): { kind: string | undefined; message: string } {
  return { kind: isShoalError(err) ? err.kind : undefined, message: err instanceof Error ? err.message : String(err) };
}

/** Content puts until the disk refuses one, then again once there is room. */
async function blockStore(dir: string): Promise<unknown> {
  const path = join(dir, 'blocks');
  const store = await openLmdbBlockStore({ path, capacityBytes: 1 << 30 });
  const owner = Buffer.alloc(32, 7);
  const acknowledged: Buffer[] = [];
  const put = async (n: number): Promise<void> => {
    const { address, block } = newContentBlock(owner, Buffer.alloc(16 * 1024, n % 256), systemEntropy);
    await store.putContent(address, block);
    acknowledged.push(address);
  };
  limitFileSize(LIMIT_BYTES);
  let refused: unknown;
  for (let n = 0; n < 500 && refused === undefined; n++) await put(n).catch((err: unknown) => (refused = err));
  const refusedAgain = await put(1000).then(() => undefined, (err: unknown) => err);
  // What "held durably" answers wait for: it must settle (as a refusal, since a flush now needs the disk), not hang.
  const durableWhileFull = await settlesWithin(store.durable(), 5_000);
  limitFileSize('original');
  const durableWithRoom = await settlesWithin(store.durable(), 5_000);
  let afterRoom = 0;
  for (let n = 0; n < 3; n++) await put(2000 + n).then(() => afterRoom++, () => {});
  const readable = acknowledged.filter((address) => store.getContent(address) !== undefined).length;
  await store.close();
  const again = await openLmdbBlockStore({ path, capacityBytes: 1 << 30 });
  const readableAfterReopen = acknowledged.filter((address) => again.getContent(address) !== undefined).length;
  const usageBlocks = again.usage().blocks;
  await again.close();
  return {
    acknowledged: acknowledged.length, refused: refused === undefined ? null : describe(refused),
    refusedAgain: refusedAgain === undefined ? null : describe(refusedAgain), durableWhileFull, durableWithRoom, afterRoom, readable,
    readableAfterReopen, usageBlocks,
  };
}

interface State {
  readonly round: number;
  readonly value: Buffer;
}

/**
 * Acceptor states, one new block per round so that LMDB keeps growing. `background`: checkpoints every 5 ms, one of
 * which the disk refuses while the log still has room; otherwise checkpoints only when the log is full, so the
 * refusal lands on a persist.
 */
async function acceptorStore(dir: string, background: boolean): Promise<unknown> {
  const path = join(dir, 'consensus');
  const failures: string[] = [];
  const options = { logBytes: ACCEPTOR_LOG_BYTES_MIN, checkpointMs: background ? 5 : 60_000, onCheckpointFailed: (err: unknown) => failures.push(describe(err).message) };
  const store = await openLmdbAcceptorStore<State>(path, options);
  const acknowledged = new Map<string, number>();
  const state = (round: number): State => ({ round, value: Buffer.alloc(1024, round % 256) });
  const persist = async (round: number): Promise<void> => {
    const entries = new Map([[`b${round}`, state(round)], ['hot', state(round)]]);
    await store.persist(entries);
    for (const block of entries.keys()) acknowledged.set(block, round);
  };
  limitFileSize(LIMIT_BYTES);
  let round = 0;
  let refused: unknown;
  while (round < 5_000 && refused === undefined && failures.length === 0) {
    await persist(++round).catch((err: unknown) => (refused = err));
    // Time for the 5 ms checkpoint to come between persists, before the log fills.
    if (background) await sleep(1);
  }
  const refusedAgain = background ? undefined : await persist(++round).then(() => undefined, (err: unknown) => err);
  // What the refused checkpoint held is still read (from the log's side), before there is room again.
  const lastBeforeRoom = round;
  const readableWhileFull = [...acknowledged].every(([block, r]) => store.load(block)?.round === r);
  limitFileSize('original');
  // Past the log several times: each pass needs a checkpoint, which now holds what the refused one held too.
  let afterRoom = 0;
  for (let n = 0; n < 300; n++) await persist(++round).then(() => afterRoom++, () => {});
  await store.close();
  const again = await openLmdbAcceptorStore<State>(path, options);
  const lost = [...acknowledged].filter(([block, r]) => again.load(block)?.round !== r || !again.load(block)?.value.equals(state(r).value)).map(([block]) => block);
  await again.close();
  return {
    acknowledged: acknowledged.size, roundsBeforeRoom: lastBeforeRoom, failures, refused: refused === undefined ? null : describe(refused),
    refusedAgain: refusedAgain === undefined ? null : describe(refusedAgain), readableWhileFull, afterRoom, lost,
  };
}

const REPLAY_BLOCKS = 1_500;
const REPLAY_LOG_BYTES = 4 * 1024 * 1024;

/** States only in the log (no checkpoint yet), and then the process killed: the next open must replay them. */
async function acceptorReplayWrite(dir: string): Promise<never> {
  const store = await openLmdbAcceptorStore<State>(join(dir, 'consensus'), { logBytes: REPLAY_LOG_BYTES, checkpointMs: 600_000 });
  for (let round = 1; round <= REPLAY_BLOCKS; round++) await store.persist(new Map([[`b${round}`, { round, value: Buffer.alloc(1024, round % 256) }]]));
  process.kill(process.pid, 'SIGKILL');
  throw new Error('not killed');
}

/** Opens what acceptorReplayWrite left, with the disk full (`full`) or not. */
async function acceptorReplayOpen(dir: string, full: boolean): Promise<unknown> {
  // Far below the LMDB the replay makes (an open only reads the log).
  if (full) limitFileSize(256 * 1024);
  try {
    const store = await openLmdbAcceptorStore<State>(join(dir, 'consensus'), { logBytes: REPLAY_LOG_BYTES });
    let kept = 0;
    for (let round = 1; round <= REPLAY_BLOCKS; round++) if (store.load(`b${round}`)?.value.equals(Buffer.alloc(1024, round % 256))) kept++;
    await store.close();
    return { opened: true, kept };
  } catch (err) {
    return { opened: false, refused: describe(err) };
  }
}

const [scenario, dir] = process.argv.slice(2);
if (dir === undefined) throw new Error('usage: disk-full-child.js block-store|acceptor-background|acceptor-log-full|acceptor-replay-write|acceptor-replay-open-full|acceptor-replay-open DIR');
const scenarios: Record<string, (dir: string) => Promise<unknown>> = {
  'block-store': blockStore,
  'acceptor-background': (d) => acceptorStore(d, true),
  'acceptor-log-full': (d) => acceptorStore(d, false),
  'acceptor-replay-write': acceptorReplayWrite,
  'acceptor-replay-open-full': (d) => acceptorReplayOpen(d, true),
  'acceptor-replay-open': (d) => acceptorReplayOpen(d, false),
};
const run = scenario === undefined ? undefined : scenarios[scenario];
if (run === undefined) throw new Error(`unknown scenario ${scenario}`);
process.stdout.write(`${JSON.stringify(await run(dir))}\n`);
