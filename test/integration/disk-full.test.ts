// Goal: a node whose block store's disk fills up keeps running: it refuses the content it cannot store (a majority
// of the others stores it), says so in its log, keeps taking part in consensus, and stores again once there is room.
// Method: three `shoal node run` processes; the file size limit of one (prlimit on its process, soft limit) is lowered
// to just above its preallocated acceptor log, so that writes past it fail with EFBIG as a full disk fails them with
// ENOSPC; 1 MiB content blocks then fill its block store, and the limit is put back. The limit is per file: only the
// block store reaches it here (its consensus LMDB stays small); a refused acceptor store is disk-full.test.ts in
// test/unit/storage-node/store.
import test from 'ava';
import { execFileSync, spawnSync } from 'node:child_process';
import { isShoalError } from '../../storage-node/base/errors.js';
import { readAdminIdentity } from '../../storage-node/cli/cluster-dir.js';
import { newContentBlock } from '../../storage-node/blocks/immutable.js';
import { MiB } from '../../storage-node/base/limits.js';
import { ACCEPTOR_LOG_BYTES_DEFAULT } from '../../storage-node/store/acceptor-store.js';
import { systemEntropy } from '../../storage-node/system.js';
import { ConnectionPool } from '../../storage-node/wire/connection-pool.js';
import { OP } from '../../storage-node/wire/operations.js';
import { TestCluster } from './harness/spawn-cluster.js';

const hasPrlimit = spawnSync('prlimit', ['--version']).status === 0;
const diskTest = hasPrlimit ? test.serial : test.serial.skip;
const skipped = hasPrlimit ? '' : ' (skipped: prlimit from util-linux is not installed)';

/** Room for the acceptor log (written in place below it) and the small files beside it, not for much content. */
const LIMIT_BYTES = ACCEPTOR_LOG_BYTES_DEFAULT + 2 * MiB;
const BLOCKS = 24;

const encode = (n: number): Buffer => Buffer.from(String(n));
const decode = (b: Buffer): number => Number(b.toString());

diskTest(`a node whose disk fills refuses content, stays up and in consensus, and stores again once there is room${skipped}`, async (t) => {
  const cluster = await TestCluster.start([{ zone: 'a' }, { zone: 'b' }, { zone: 'c' }]);
  t.teardown(() => cluster.stop());
  const owner = await readAdminIdentity(cluster.clusterDir);
  const client = await cluster.client({ owner, entropy: systemEntropy });
  t.teardown(() => client.close());
  const pool = new ConnectionPool(await cluster.credentials());
  t.teardown(() => pool.close());
  const full = cluster.nodes[0]!;
  const pid = full.process?.pid;
  if (pid === undefined) return t.fail('the node has a process');
  // Held durably, as repair asks; while the disk is full the flush that answer needs may be refused as well.
  const holds = async (address: Buffer): Promise<boolean> => {
    try {
      return ((await pool.request({ address: full.address }, OP.hasContent, { addresses: [address] }, { timeoutMs: 5000 })) as boolean[])[0] === true;
    } catch (err) {
      if (isShoalError(err, 'Unavailable')) return false;
      throw err;
    }
  };
  const counter = await client.mutable.create(encode(0));

  // Soft limit only (`N:`), so that it can be put back without privilege.
  const limit = (value: string | number): void => void execFileSync('prlimit', ['--pid', String(pid), `--fsize=${value}:`]);
  const original = execFileSync('prlimit', ['--pid', String(pid), '--fsize', '--raw', '--noheadings', '--output', 'SOFT'], { encoding: 'utf8' }).trim();
  limit(LIMIT_BYTES);
  const stored: Buffer[] = [];
  for (let i = 0; i < BLOCKS; i++) {
    const { address, block } = newContentBlock(owner.publicKey, Buffer.alloc(MiB, i), systemEntropy);
    await client.putContent(address, block); // a majority of three: the other two
    stored.push(address);
  }
  await client.settled();
  const refused = (await Promise.all(stored.map(holds))).filter((held) => !held).length;
  t.log(`${BLOCKS - refused} of ${BLOCKS} blocks of 1 MiB stored on the full node, ${refused} refused`);
  t.true(refused > 0, 'the full node refused some content');
  t.is(full.process?.exitCode, null, 'the full node is still running');
  t.regex(full.output, /store\.write_failed/, "the full node's log says its disk refused a write");
  const logged = (event: string): number => full.output.match(new RegExp(`"${event}"`, 'g'))?.length ?? 0;
  t.true(logged('store.write_failed') <= logged('store.writes_resumed') + 1, 'when refusals start, not once per refused write');
  t.regex(full.output, /could not write blocks to its disk/);

  // Consensus goes on with the full node among the acceptors (its log was written when it was made).
  for (let i = 0; i < 20; i++) await client.mutable.update(counter.address, (current) => encode(decode(current) + 1));
  const read = await client.mutable.read(counter.address);
  t.true('content' in read && decode(read.content) === 20, 'twenty increments, all kept');
  t.is(full.process?.exitCode, null, 'the full node is still running after the updates');

  limit(original);
  const { address, block } = newContentBlock(owner.publicKey, Buffer.alloc(MiB, 255), systemEntropy);
  await client.putContent(address, block);
  await client.settled();
  t.true(await holds(address), 'with room again, the node stores content again');
  t.regex(full.output, /store\.writes_resumed/, 'and its log says so');
  for (const earlier of stored) t.truthy(await client.getContent(earlier), 'every acknowledged block reads back');
});
