// Goal: deleting, overwriting and truncating files gives the space back on the storage nodes, and what the nodes hold
// is ciphertext only. Method: `shoal node run` ×3; a volume of R=3 with 64 KiB chunks; files written (sequential,
// gathered, committed), some overwritten and truncated; the nodes' LMDB files are searched for the known text; then
// everything is removed and each node's used bytes (node.info) must return to within 1 % of where they started.
import test from 'ava';
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { ClusterFsBlocks } from '../../../gateway/fs/fs-blocks.js';
import { FS_LIMITS_DEFAULT } from '../../../gateway/fs/fs-limits.js';
import { ROOT_CALLER } from '../../../gateway/fs/permissions.js';
import { Volumes } from '../../../gateway/fs/volume.js';
import { SystemClock } from '../../../storage-node/base/clock.js';
import { readAdminIdentity } from '../../../storage-node/cli/cluster-dir.js';
import { systemEntropy } from '../../../storage-node/system.js';
import { ConnectionPool } from '../../../storage-node/wire/connection-pool.js';
import { OP, type NodeInfo } from '../../../storage-node/wire/operations.js';
import { TestCluster } from '../harness/spawn-cluster.js';

const CHUNK_BYTES = 64 * 1024;
const FILES = 12;
const FILE_BYTES = 5 * CHUNK_BYTES + 1234;
const MARKER = 'shoal-plaintext-marker:';

async function filesUnder(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { withFileTypes: true, recursive: true });
  return entries.filter((e) => e.isFile()).map((e) => join(e.parentPath, e.name));
}

test('removing, overwriting and truncating files frees their chunks on every node; the nodes hold no plaintext', async (t) => {
  const cluster = await TestCluster.start([{ zone: 'a' }, { zone: 'b' }, { zone: 'c' }]);
  t.teardown(() => cluster.stop());
  const owner = await readAdminIdentity(cluster.clusterDir);
  const client = await cluster.client({ owner, entropy: systemEntropy });
  t.teardown(() => client.close());
  const pool = new ConnectionPool(await cluster.credentials());
  t.teardown(() => pool.close());
  const used = async (): Promise<number[]> => {
    await client.settled();
    return Promise.all(cluster.nodes.map(async (node) => ((await pool.request({ address: node.address }, OP.info, null, { timeoutMs: 5000 })) as NodeInfo).usedBytes));
  };

  const volumes = new Volumes({ blocks: new ClusterFsBlocks(client, owner, systemEntropy), clock: new SystemClock(), limits: FS_LIMITS_DEFAULT, owner: owner.publicKey });
  await volumes.create('space', { replicas: 3, chunkBytes: CHUNK_BYTES });
  const { fs } = await volumes.open('space');
  const start = await used();

  const text = (i: number): Buffer => Buffer.from(`${MARKER}${i}:`.repeat(Math.ceil(FILE_BYTES / MARKER.length))).subarray(0, FILE_BYTES);
  const started = Date.now();
  const files = [];
  for (let i = 0; i < FILES; i++) {
    const file = await fs.create(ROOT_CALLER, fs.root, `f${i}`, { mode: 0o644 });
    for (let at = 0; at < FILE_BYTES; at += 32 * 1024) await fs.write(ROOT_CALLER, file.address, at, text(i).subarray(at, at + 32 * 1024));
    await fs.commit(file.address);
    files.push(file.address);
  }
  const written = await used();
  t.log(`${FILES} files of ${FILE_BYTES} bytes in ${Date.now() - started} ms; used bytes per node ${start.join(', ')} → ${written.join(', ')}`);
  for (const [i, bytes] of written.entries()) t.true(bytes - (start[i] ?? 0) >= FILES * FILE_BYTES, 'every node holds a replica of every chunk');

  // Overwrite two files in full, truncate two to a single chunk: the replaced chunks go.
  for (const i of [0, 1]) {
    await fs.write(ROOT_CALLER, files[i]!, 0, Buffer.alloc(FILE_BYTES, 0x5a));
    await fs.commit(files[i]!);
  }
  for (const i of [2, 3]) await fs.setattr(ROOT_CALLER, files[i]!, { size: CHUNK_BYTES });
  const rewritten = await used();
  t.log(`after overwrites and truncates: ${rewritten.join(', ')}`);
  // Each truncate frees five chunks (four full ones and the short last one); the overwrites free what they replace.
  for (const [i, bytes] of rewritten.entries()) t.true((written[i] ?? 0) - bytes >= 2 * (4 * CHUNK_BYTES + 1234), `node ${i}: ${written[i]} → ${bytes}`);
  t.deepEqual((await fs.read(ROOT_CALLER, files[1]!, FILE_BYTES - 10, 20)).data, Buffer.alloc(10, 0x5a));

  // The nodes' files hold ciphertext only: not one marker, in chunks, inodes or directory entries.
  for (const node of cluster.nodes) {
    for (const path of await filesUnder(node.dataPath)) {
      t.false((await readFile(path)).includes(MARKER), `${path} holds plaintext`);
    }
  }

  for (let i = 0; i < FILES; i++) await fs.remove(ROOT_CALLER, fs.root, `f${i}`);
  const end = await used();
  t.log(`after removing everything: ${end.join(', ')}`);
  for (const [i, bytes] of end.entries()) {
    const grown = (written[i] ?? 0) - (start[i] ?? 0);
    t.true(Math.abs(bytes - (start[i] ?? 0)) <= grown / 100, `node ${i}: ${bytes} used, started at ${start[i]}`);
  }
});
