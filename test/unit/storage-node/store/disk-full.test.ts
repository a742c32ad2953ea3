// Goal: a disk that refuses writes (full, or past a file size limit) fails the writes it refuses, in Shoal's terms,
// and nothing else: the process lives on, nothing acknowledged is lost, and writing works again once there is room.
// Method: disk-full-child.js in a process of its own, whose file size limit it lowers below what its LMDB grows to
// (writes past the limit fail with EFBIG, as they fail with ENOSPC on a full disk) and raises again; it reports
// what it saw as JSON, and the process must end on its own. lmdb-js rejects a promise of its own for each failed
// commit; unhandled, that alone would end the process, which is what these tests catch first.
import test, { type ExecutionContext } from 'ava';
import { spawn, spawnSync } from 'node:child_process';
import { once } from 'node:events';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

const CHILD = resolve('dist/test/unit/storage-node/store/disk-full-child.js');
const hasPrlimit = spawnSync('prlimit', ['--version']).status === 0;
const diskTest = hasPrlimit ? test : test.skip;
const skipped = hasPrlimit ? '' : ' (skipped: prlimit from util-linux is not installed)';

interface Refusal {
  readonly kind?: string;
  readonly message: string;
}

async function tempDir(t: ExecutionContext): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'shoal-disk-full-'));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  return dir;
}

async function runChild(t: ExecutionContext, scenario: string, dir?: string, expectSignal?: string): Promise<Record<string, unknown>> {
  const child = spawn(process.execPath, [CHILD, scenario, dir ?? await tempDir(t)], { stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const [code, signal] = (await once(child, 'exit')) as [number | null, string | null];
  if (expectSignal !== undefined) t.is(signal, expectSignal, `the writer was killed (exit ${code}):\n${stderr.slice(-2000)}`);
  else t.is(code, 0, `the process ended on its own (exit ${code}, signal ${signal}):\n${stderr.slice(-2000)}`);
  const line = stdout.trim().split('\n').pop() ?? '';
  return JSON.parse(line === '' ? '{}' : line) as Record<string, unknown>;
}

function assertRefusal(t: ExecutionContext, refusal: unknown, what: string): void {
  const r = refusal as Refusal | null;
  t.is(r?.kind, 'Unavailable', `${what} fails as Unavailable: ${JSON.stringify(r)}`);
  t.regex(r?.message ?? '', /could not write .* to its disk \(LMDB: .+\)/, `${what} says the disk refused it, and LMDB's reason`);
}

diskTest(`content puts the disk refuses fail as Unavailable, waiting for durability never hangs, every acknowledged block is kept, and puts work again once there is room${skipped}`, async (t) => {
  const seen = await runChild(t, 'block-store');
  t.true(Number(seen['acknowledged']) > 10, `blocks were stored before the disk filled: ${seen['acknowledged']}`);
  assertRefusal(t, seen['refused'], 'the first refused put');
  assertRefusal(t, seen['refusedAgain'], 'a put while the disk is still full');
  // A small commit may still find room (LMDB reuses freed pages), or be refused too; it must not hang.
  const whileFull = seen['durableWhileFull'];
  if (whileFull !== 'resolved') assertRefusal(t, whileFull, 'waiting for durability while the disk is full');
  t.is(seen['durableWithRoom'], 'resolved', 'waiting for durability settles once there is room');
  t.is(seen['afterRoom'], 3, 'every put once there is room again succeeds');
  t.is(seen['readable'], seen['acknowledged'], 'every acknowledged block reads back');
  t.is(seen['readableAfterReopen'], seen['acknowledged'], 'and after a reopen');
  // The commits refused here were refused before they took effect (writing their pages), usage update and all.
  t.is(seen['usageBlocks'], seen['acknowledged'], 'the usage record counts exactly the stored blocks');
});

diskTest(`a background checkpoint the disk refuses is reported and retried: nothing acknowledged is lost${skipped}`, async (t) => {
  const seen = await runChild(t, 'acceptor-background');
  const failures = seen['failures'] as string[];
  t.true(failures.length >= 1, 'the refused checkpoint reached onCheckpointFailed');
  t.regex(failures[0] ?? '', /could not write acceptor states to its disk \(LMDB: .+\)/);
  t.is(seen['refused'], null, 'no persist failed: the log still had room');
  t.true(seen['readableWhileFull'], 'states the refused checkpoint held still read back while the disk is full');
  t.is(seen['afterRoom'], 300, 'once there is room, persists go on through several passes of the log');
  t.deepEqual(seen['lost'], [], 'after a reopen, every block has its last acknowledged state');
});

diskTest(`with the log full too, persists fail as Unavailable (none hangs), and nothing acknowledged is lost${skipped}`, async (t) => {
  const seen = await runChild(t, 'acceptor-log-full');
  assertRefusal(t, seen['refused'], 'the persist that needed the refused checkpoint');
  assertRefusal(t, seen['refusedAgain'], 'the next persist, while the disk is still full');
  t.true(seen['readableWhileFull'], 'acknowledged states still read back while the disk is full');
  t.is(seen['afterRoom'], 300, 'once there is room, the next checkpoint succeeds and persists go on');
  t.deepEqual(seen['lost'], [], 'after a reopen, every block has its last acknowledged state');
});

diskTest(`states only in the log are replayed once there is room: an open on a full disk fails, saying so, and loses none${skipped}`, async (t) => {
  const dir = await tempDir(t);
  await runChild(t, 'acceptor-replay-write', dir, 'SIGKILL');
  const full = await runChild(t, 'acceptor-replay-open-full', dir);
  t.false(full['opened'], 'the open fails while the replay cannot be written');
  t.regex((full['refused'] as Refusal | undefined)?.message ?? '', /could not be written into LMDB \(.+\); is the disk full or failing\? The log still holds them/);
  const again = await runChild(t, 'acceptor-replay-open', dir);
  t.deepEqual(again, { opened: true, kept: 1_500 }, 'with room, the open replays every state the log holds');
});
