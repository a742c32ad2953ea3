// Goal: `shoal volume create|list|inspect|delete` manage the cluster's volumes as the README says, refuse bad input with
// the fix, and agree with what gateway/fs sees. Method: the real CLI as a child process against three real nodes; the
// test opens the volume through gateway/fs to put an entry in it (delete must then refuse) and to check its replicas.
import test from 'ava';
import { execFile } from 'node:child_process';
import { resolve } from 'node:path';
import { promisify } from 'node:util';
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

const run = promisify(execFile);
const SHOAL = resolve('bin/shoal.js');

async function shoal(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await run(process.execPath, [SHOAL, ...args], { encoding: 'utf8' });
    return { code: 0, stdout, stderr };
  } catch (err) {
    const failed = err as { code: number; stdout: string; stderr: string };
    return { code: failed.code, stdout: failed.stdout, stderr: failed.stderr };
  }
}

test('volume create, list, inspect and delete through the CLI', async (t) => {
  const cluster = await TestCluster.start([{ zone: 'a' }, { zone: 'b' }, { zone: 'c' }]);
  t.teardown(() => cluster.stop());
  const at = ['--dir', cluster.clusterDir, '--node', cluster.nodes[0]!.address];

  const empty = await shoal(['volume', 'list', ...at]);
  t.is(empty.code, 0, empty.stderr);
  t.regex(empty.stdout, /no volumes yet/);

  const created = await shoal(['volume', 'create', 'photos', '--replicas', '2', '--chunk-size', '256KiB', '--json', ...at]);
  t.is(created.code, 0, created.stderr);
  const settings = JSON.parse(created.stdout) as { name: string; id: string; root: string; replicas: number; chunkBytes: number };
  t.like(settings, { name: 'photos', replicas: 2, chunkBytes: 256 * 1024 });
  t.regex(settings.id, /^[0-9a-f]{16}$/);
  t.is((await shoal(['volume', 'create', 'backups', ...at])).code, 0);

  const again = await shoal(['volume', 'create', 'photos', ...at]);
  t.is(again.code, 1);
  t.regex(again.stderr, /already exists/);
  const badName = await shoal(['volume', 'create', 'Bad_Name', ...at]);
  t.is(badName.code, 2);
  t.regex(badName.stderr, /not a volume name: 3 to 63 of a-z/);
  const badSize = await shoal(['volume', 'create', 'sizes', '--chunk-size', 'huge', ...at]);
  t.is(badSize.code, 2);
  t.regex(badSize.stderr, /such as 1MiB/);

  const list = await shoal(['volume', 'list', ...at]);
  t.is(list.code, 0, list.stderr);
  t.deepEqual(list.stdout.trim().split('\n').slice(1).map((line) => line.split(/\s+/)[0]), ['backups', 'photos']);
  t.regex(list.stdout, /photos\s+[0-9a-f]{16}\s+2\s+256\.0 KiB/);

  // gateway/fs sees the same volume, stores with its R, and an entry in it keeps delete from going through.
  const owner = await readAdminIdentity(cluster.clusterDir);
  const client = await cluster.client({ owner, entropy: systemEntropy });
  t.teardown(() => client.close());
  const volumes = new Volumes({ blocks: new ClusterFsBlocks(client, owner, systemEntropy), clock: new SystemClock(), limits: FS_LIMITS_DEFAULT, owner: owner.publicKey });
  const { fs } = await volumes.open('photos');
  t.is(fs.root.toString('hex'), settings.root);
  const file = await fs.create(ROOT_CALLER, fs.root, 'cat.jpg', { mode: 0o644 });
  await fs.write(ROOT_CALLER, file.address, 0, Buffer.alloc(300 * 1024, 1));
  await fs.commit(file.address);
  await client.settled();
  // R=2: the file's chunks take about twice its size over the three nodes, not three times.
  const pool = new ConnectionPool(await cluster.credentials());
  t.teardown(() => pool.close());
  const used = await Promise.all(cluster.nodes.map(async (node) => ((await pool.request({ address: node.address }, OP.info, null, { timeoutMs: 5000 })) as NodeInfo).usedBytes));
  const total = used.reduce((a, b) => a + b, 0);
  t.true(total >= 2 * 300 * 1024 && total < 2.5 * 300 * 1024, `${used.join(' + ')} bytes used`);

  const inspect = await shoal(['volume', 'inspect', 'photos', '--json', ...at]);
  t.is(inspect.code, 0, inspect.stderr);
  t.like(JSON.parse(inspect.stdout), { name: 'photos', replicas: 2, rootEntries: 1 });
  const human = await shoal(['volume', 'inspect', 'photos', ...at]);
  t.regex(human.stdout, /root entries\s+1/);

  const refused = await shoal(['volume', 'delete', 'photos', ...at]);
  t.is(refused.code, 1);
  t.regex(refused.stderr, /is not empty/);
  await fs.remove(ROOT_CALLER, fs.root, 'cat.jpg');
  const deleted = await shoal(['volume', 'delete', 'photos', ...at]);
  t.is(deleted.code, 0, deleted.stderr);
  t.regex(deleted.stdout, /deleted volume photos/);
  const missing = await shoal(['volume', 'inspect', 'photos', ...at]);
  t.is(missing.code, 1);
  t.regex(missing.stderr, /no volume "photos"/);
  const left = JSON.parse((await shoal(['volume', 'list', '--json', ...at])).stdout) as Array<{ name: string }>;
  t.deepEqual(left.map((v) => v.name), ['backups']);
});
