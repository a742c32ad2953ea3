// Goal: the acceptor store (a log in front of LMDB) gives back, after a close and a reopen or after the process is
// killed, exactly the states its persists resolved for, the last one per block, and walks its blocks in key order,
// checkpointed or not. Method: a temporary directory, states of several blocks written over several group commits
// (Buffers inside, as accepted values carry), logs small enough to be passed over many times, and a child process
// killed with SIGKILL right after a persist resolved.
import test from 'ava';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { ACCEPTOR_LOG_BYTES_MIN } from '../../../../storage-node/store/acceptor-log.js';
import { openLmdbAcceptorStore } from '../../../../storage-node/store/acceptor-store.js';

interface FakeState {
  readonly promised: number;
  readonly value?: Buffer;
}

test('persisted states survive a reopen, the last write per block wins, and blocks list in key order', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'shoal-acceptor-store-'));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  // Inside the directory, so that the log beside the store (`<path>.log`) goes with it at teardown.
  const path = join(dir, 'consensus');

  const first = await openLmdbAcceptorStore<FakeState>(path);
  await first.persist(new Map([['b2', { promised: 1 }], ['b1', { promised: 1, value: Buffer.from('one') }]]));
  await first.persist(new Map([['b2', { promised: 7, value: Buffer.alloc(2000, 0xab) }]]));
  await first.persist(new Map());
  t.deepEqual(first.load('b2'), { promised: 7, value: Buffer.alloc(2000, 0xab) }, 'read back before the close');
  await first.close();

  const again = await openLmdbAcceptorStore<FakeState>(path);
  t.teardown(() => again.close());
  t.deepEqual(again.load('b1'), { promised: 1, value: Buffer.from('one') });
  t.deepEqual(again.load('b2'), { promised: 7, value: Buffer.alloc(2000, 0xab) });
  t.is(again.load('b3'), undefined);
  t.deepEqual(again.listBlocks({ limit: 10 }), ['b1', 'b2']);
  t.deepEqual(again.listBlocks({ after: 'b1', limit: 10 }), ['b2']);
});

async function tempDir(t: { teardown(fn: () => Promise<void>): void }): Promise<string> {
  const path = await mkdtemp(join(tmpdir(), 'shoal-acceptor-store-'));
  t.teardown(() => rm(path, { recursive: true, force: true }));
  return join(path, 'consensus');
}

test('states only in the log (not yet checkpointed) are read, listed, and replayed into LMDB on the next open', async (t) => {
  const path = await tempDir(t);
  const store = await openLmdbAcceptorStore<FakeState>(path, { checkpointMs: 60_000 });
  await store.persist(new Map([['b1', { promised: 1 }]]));
  await store.persist(new Map([['b0', { promised: 2 }], ['b1', { promised: 3 }]]));
  t.deepEqual(store.load('b1'), { promised: 3 });
  t.deepEqual(store.listBlocks({ limit: 10 }), ['b0', 'b1']);
  t.deepEqual(store.listBlocks({ after: 'b0', limit: 10 }), ['b1']);
  t.deepEqual(store.listBlocks({ limit: 1 }), ['b0']);
  await store.close();
  const again = await openLmdbAcceptorStore<FakeState>(path);
  t.teardown(() => again.close());
  t.deepEqual(again.load('b0'), { promised: 2 });
  t.deepEqual(again.load('b1'), { promised: 3 });
});

test('a log passed over many times, and a state larger than the whole log, keep the last state of every block', async (t) => {
  const path = await tempDir(t);
  const store = await openLmdbAcceptorStore<FakeState>(path, { logBytes: ACCEPTOR_LOG_BYTES_MIN, checkpointMs: 60_000 });
  const expected = new Map<string, FakeState>();
  // About 40 bytes short of 1 KiB a commit, 64 KiB of log: over 10 passes, each after a checkpoint made to free it.
  for (let i = 0; i < 700; i++) {
    const state = { promised: i, value: Buffer.alloc(900, i % 256) };
    expected.set(`b${i % 37}`, state);
    await store.persist(new Map([[`b${i % 37}`, state]]));
  }
  const huge = { promised: -1, value: Buffer.alloc(2 * ACCEPTOR_LOG_BYTES_MIN, 0x5a) };
  expected.set('huge', huge);
  await store.persist(new Map([['huge', huge]]));
  await store.persist(new Map([['b0', { promised: 1000 }]]));
  expected.set('b0', { promised: 1000 });
  for (const [block, state] of expected) t.deepEqual(store.load(block), state, `${block} before the close`);
  await store.close();
  const again = await openLmdbAcceptorStore<FakeState>(path);
  t.teardown(() => again.close());
  for (const [block, state] of expected) t.deepEqual(again.load(block), state, `${block} after the reopen`);
  t.is(again.listBlocks({ limit: 100 }).length, 38);
});

// The child persists one state per block per round and, once its persist resolved, writes the round to a file of
// acknowledgements (a plain write: the page cache outlives the process, and unlike a pipe to the parent nothing is
// still in flight when it dies); then it is killed. Every acknowledged round must be there after the reopen: a kill
// loses at most what was never acknowledged.
// Block `early` is written in the first rounds only, so its state is in LMDB or nowhere after the log's first pass.
const CHILD = (storeUrl: string, path: string, acks: string, logBytes: number, checkpointMs: number): string => `
import { openSync, writeSync } from 'node:fs';
import { openLmdbAcceptorStore } from ${JSON.stringify(storeUrl)};
const acks = openSync(${JSON.stringify(acks)}, 'a');
const store = await openLmdbAcceptorStore(${JSON.stringify(path)}, { logBytes: ${logBytes}, checkpointMs: ${checkpointMs} });
for (let round = 1; ; round++) {
  const entries = new Map();
  for (let b = 0; b < 5; b++) entries.set('b' + b, { promised: round, value: Buffer.alloc(round % 7 === 0 ? 3000 : 500, round % 256) });
  if (round <= 3) entries.set('early', { promised: round });
  await store.persist(entries);
  writeSync(acks, round + '\\n');
}
`;

for (const { name, logBytes, checkpointMs } of [
  { name: 'with checkpoints every 5 ms and a log passed over often', logBytes: ACCEPTOR_LOG_BYTES_MIN, checkpointMs: 5 },
  { name: 'with no checkpoint but the ones a full log needs', logBytes: ACCEPTOR_LOG_BYTES_MIN * 4, checkpointMs: 60_000 },
]) {
  test(`a store killed with SIGKILL mid-write keeps every acknowledged state, ${name}`, async (t) => {
    const path = await tempDir(t);
    const storeUrl = pathToFileURL(resolve('dist/storage-node/store/acceptor-store.js')).href;
    const acks = `${path}.acks`;
    await writeFile(acks, '');
    const child = spawn(process.execPath, ['--input-type=module', '-e', CHILD(storeUrl, path, acks, logBytes, checkpointMs)], { stdio: ['ignore', 'inherit', 'inherit'] });
    const lastAcknowledged = async (): Promise<number> => Number((await readFile(acks, 'utf8')).trimEnd().split('\n').pop() || 0);
    const poll = setInterval(() => {
      void lastAcknowledged().then((round) => {
        if (round >= 400 && child.exitCode === null) child.kill('SIGKILL');
      });
    }, 10);
    const [code, signal] = (await once(child, 'exit')) as [number | null, string | null];
    clearInterval(poll);
    const acknowledged = await lastAcknowledged();
    t.is(signal, 'SIGKILL', `the child died of the kill, not on its own (exit ${code})`);
    t.true(acknowledged >= 400);
    const again = await openLmdbAcceptorStore<FakeState>(path);
    t.teardown(() => again.close());
    for (let b = 0; b < 5; b++) {
      const state = again.load(`b${b}`);
      t.truthy(state, `b${b} is there`);
      // At least the last acknowledged round; perhaps one more, written but killed before it was printed.
      t.true(state !== undefined && state.promised >= acknowledged && state.promised <= acknowledged + 1, `b${b}: round ${state?.promised} against ${acknowledged} acknowledged`);
      if (state !== undefined) t.deepEqual(state.value, Buffer.alloc(state.promised % 7 === 0 ? 3000 : 500, state.promised % 256));
    }
    t.deepEqual(again.load('early'), { promised: 3 }, 'a state written long before the kill, its log records since passed over');
  });
}

test('a persist after close is refused instead of written to a closed file', async (t) => {
  const path = await tempDir(t);
  const store = await openLmdbAcceptorStore<FakeState>(path);
  await store.close();
  await t.throwsAsync(store.persist(new Map([['b1', { promised: 1 }]])), { message: /closed/ });
  await store.close();
});

test('persists issued together, across many passes of the log, all resolve and the last state of each block wins', async (t) => {
  const path = await tempDir(t);
  const store = await openLmdbAcceptorStore<FakeState>(path, { logBytes: ACCEPTOR_LOG_BYTES_MIN, checkpointMs: 60_000 });
  const expected = new Map<string, FakeState>();
  const persists: Promise<void>[] = [];
  // None awaited before the next is issued: the log fills while persists queue behind the checkpoint that frees it.
  for (let i = 0; i < 400; i++) {
    const state = { promised: i, value: Buffer.alloc(i % 50 === 0 ? 3 * ACCEPTOR_LOG_BYTES_MIN : 900, i % 256) };
    expected.set(`b${i % 23}`, state);
    persists.push(store.persist(new Map([[`b${i % 23}`, state]])));
  }
  await Promise.all(persists);
  for (const [block, state] of expected) t.deepEqual(store.load(block), state, `${block} before the close`);
  await store.close();
  const again = await openLmdbAcceptorStore<FakeState>(path);
  t.teardown(() => again.close());
  for (const [block, state] of expected) t.deepEqual(again.load(block), state, `${block} after the reopen`);
});

test('a state larger than the log is not read back while the checkpoint before its own write runs', async (t) => {
  const path = await tempDir(t);
  const store = await openLmdbAcceptorStore<FakeState>(path, { logBytes: ACCEPTOR_LOG_BYTES_MIN, checkpointMs: 60_000 });
  t.teardown(() => store.close());
  // Logged only: the oversized persist first checkpoints it (an LMDB commit and its flush), then writes its own.
  await store.persist(new Map([['small', { promised: 1 }]]));
  const huge = store.persist(new Map([['huge', { promised: 2, value: Buffer.alloc(2 * ACCEPTOR_LOG_BYTES_MIN, 1) }]]));
  await new Promise((next) => setImmediate(next));
  t.is(store.load('huge'), undefined, 'shown before anything of it was written');
  await huge;
  t.is(store.load('huge')?.promised, 2);
  t.is(store.load('small')?.promised, 1);
});

test('blocks list in LMDB key order (UTF-8 bytes) whether or not they are checkpointed yet', async (t) => {
  const path = await tempDir(t);
  const store = await openLmdbAcceptorStore<FakeState>(path, { checkpointMs: 60_000 });
  // U+FF5A sorts after U+1F600 in UTF-8 bytes, before it in UTF-16 code units (a surrogate pair starts at D83D).
  const keys = ['\uFF5A', '\u{1F600}', 'a'];
  await store.persist(new Map(keys.map((key) => [key, { promised: 1 }])));
  const logged = store.listBlocks({ limit: 10 });
  const loggedAfter = store.listBlocks({ after: '\uFF5A', limit: 10 });
  await store.close();
  const again = await openLmdbAcceptorStore<FakeState>(path);
  t.teardown(() => again.close());
  const stored = again.listBlocks({ limit: 10 });
  t.deepEqual(stored, ['a', '\uFF5A', '\u{1F600}'], 'LMDB order');
  t.deepEqual(logged, stored, 'the log-only listing in the same order');
  t.deepEqual(loggedAfter, ['\u{1F600}'], 'a log-only walk resumes after a key in the same order');
  t.deepEqual(again.listBlocks({ after: '\uFF5A', limit: 10 }), ['\u{1F600}']);
});
