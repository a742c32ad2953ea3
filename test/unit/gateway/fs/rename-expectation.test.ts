// Goal: a rename with an expectation on its target (absent, or this inode) happens only while the expectation holds,
// checked inside the directory's change, in a small directory and in a paged one, and of many concurrent renames onto
// one name under "absent" from two FileSystems (two gateways) on the same blocks exactly one wins.
// Method: the in-memory block twin (it yields between calls, so the renames interleave), testMin limits (pages at 8).
import test from 'ava';
import { isShoalError } from '../../../../storage-node/base/errors.js';
import { FS_LIMITS_TEST_MIN } from '../../../../gateway/fs/fs-limits.js';
import { isExpectationFailure, type FileSystem } from '../../../../gateway/fs/filesystem.js';
import { ROOT_CALLER } from '../../../../gateway/fs/permissions.js';
import { Volumes } from '../../../../gateway/fs/volume.js';
import { MemoryFsBlocks, SteppingClock } from './memory-fs-blocks.js';

async function twoGateways(seed: string): Promise<[FileSystem, FileSystem]> {
  const volumes = new Volumes({ blocks: new MemoryFsBlocks(seed), clock: new SteppingClock(), limits: FS_LIMITS_TEST_MIN, owner: Buffer.alloc(32, 7) });
  await volumes.create('vol');
  return [(await volumes.open('vol')).fs, (await volumes.open('vol')).fs];
}

async function makeFile(fs: FileSystem, name: string, body: string): Promise<Buffer> {
  const attrs = await fs.create(ROOT_CALLER, fs.root, name, { mode: 0o644, exclusive: true });
  await fs.write(ROOT_CALLER, attrs.address, 0, Buffer.from(body));
  await fs.commit(attrs.address);
  return attrs.address;
}

async function contentOf(fs: FileSystem, name: string): Promise<string> {
  const attrs = await fs.lookup(ROOT_CALLER, fs.root, name);
  return (await fs.read(ROOT_CALLER, attrs.address, 0, 1000)).data.toString();
}

for (const paged of [false, true]) {
  const where = paged ? 'in a paged directory' : 'in a small directory';

  test(`${where}: absent and inode expectations are honoured and a failed rename changes nothing`, async (t) => {
    const [fs] = await twoGateways(`expect-${paged}`);
    if (paged) for (let i = 0; i < 40; i++) await makeFile(fs, `filler-${String(i).padStart(2, '0')}`, 'x');
    const first = await makeFile(fs, 'tmp-a', 'first');
    await fs.rename(ROOT_CALLER, fs.root, 'tmp-a', fs.root, 'key', { absent: true });
    t.is(await contentOf(fs, 'key'), 'first');

    await makeFile(fs, 'tmp-b', 'second');
    const absentFailed = await t.throwsAsync(fs.rename(ROOT_CALLER, fs.root, 'tmp-b', fs.root, 'key', { absent: true }));
    t.true(isExpectationFailure(absentFailed), String(absentFailed));
    t.is(await contentOf(fs, 'key'), 'first', 'the target is untouched');
    t.is(await contentOf(fs, 'tmp-b'), 'second', 'the source is untouched');

    const other = await makeFile(fs, 'tmp-c', 'third');
    const inodeFailed = await t.throwsAsync(fs.rename(ROOT_CALLER, fs.root, 'tmp-b', fs.root, 'key', { inode: other }));
    t.true(isExpectationFailure(inodeFailed), String(inodeFailed));
    t.is(await contentOf(fs, 'key'), 'first');

    await fs.rename(ROOT_CALLER, fs.root, 'tmp-b', fs.root, 'key', { inode: first });
    t.is(await contentOf(fs, 'key'), 'second', 'the expected inode was replaced');
    const gone = await t.throwsAsync(fs.rename(ROOT_CALLER, fs.root, 'tmp-c', fs.root, 'missing', { inode: first }));
    t.true(isExpectationFailure(gone), 'an inode expectation fails on an absent target');
  });

  test(`${where}: of 20 concurrent renames onto one name under "absent", from two gateways, exactly one wins`, async (t) => {
    const [a, b] = await twoGateways(`race-${paged}`);
    if (paged) for (let i = 0; i < 40; i++) await makeFile(a, `filler-${String(i).padStart(2, '0')}`, 'x');
    for (let i = 0; i < 20; i++) await makeFile(a, `tmp-${i}`, `body-${i}`);
    const results = await Promise.allSettled(Array.from({ length: 20 }, (_, i) => (i % 2 === 0 ? a : b).rename(ROOT_CALLER, a.root, `tmp-${i}`, a.root, 'key', { absent: true })));
    const won = results.flatMap((r, i) => (r.status === 'fulfilled' ? [i] : []));
    t.is(won.length, 1, `winners: ${won.join(',')}`);
    for (const r of results) if (r.status === 'rejected') t.true(isExpectationFailure(r.reason) || isShoalError(r.reason, 'Conflict'), String(r.reason));
    t.true(results.every((r) => r.status === 'fulfilled' || isExpectationFailure(r.reason)), 'every loser fails its expectation');
    t.is(await contentOf(b, 'key'), `body-${won[0] as number}`);
  });
}
