// Goal: a 1 GiB file is written through the filesystem layer and read back with the same SHA-256 (issue 5), without
// the file ever being held whole in memory on either side. Method: three real nodes, production limits (1 MiB
// chunks, three replicas); the content comes from a seeded generator in 1 MiB pieces, written in order with eight writes
// in flight as an NFS client would (write gathering stores full chunks at once), committed once, then read back in 1 MiB reads.
// SHOAL_LARGE_FILE_MIB sets another size (e.g. 64 for a quick check).
import test from 'ava';
import { createHash } from 'node:crypto';
import { ClusterFsBlocks } from '../../../gateway/fs/fs-blocks.js';
import { FS_LIMITS_DEFAULT } from '../../../gateway/fs/fs-limits.js';
import { ROOT_CALLER } from '../../../gateway/fs/permissions.js';
import { Volumes } from '../../../gateway/fs/volume.js';
import { SystemClock } from '../../../storage-node/base/clock.js';
import { readAdminIdentity } from '../../../storage-node/cli/cluster-dir.js';
import { systemEntropy } from '../../../storage-node/system.js';
import { TestCluster } from '../harness/spawn-cluster.js';
import { PIECE_BYTES, writeSequentialFile } from './sequential-file.js';

const MiB = 1024 * 1024;
const FILE_MIB = Number(process.env['SHOAL_LARGE_FILE_MIB'] ?? 1024);
const PIECE = PIECE_BYTES;
const WRITES_IN_FLIGHT = 8;

test.serial(`a ${FILE_MIB} MiB file is written and read back with the same SHA-256`, async (t) => {
  t.timeout(20 * 60_000);
  const cluster = await TestCluster.start([{ zone: 'a' }, { zone: 'b' }, { zone: 'c' }]);
  t.teardown(() => cluster.stop());
  const owner = await readAdminIdentity(cluster.clusterDir);
  const client = await cluster.client({ owner, entropy: systemEntropy });
  t.teardown(() => client.close());
  const volumes = new Volumes({ blocks: new ClusterFsBlocks(client, owner, systemEntropy), clock: new SystemClock(), limits: FS_LIMITS_DEFAULT, owner: owner.publicKey });
  await volumes.create('large');
  const { fs } = await volumes.open('large');
  const file = await fs.create(ROOT_CALLER, fs.root, 'large.bin', { mode: 0o644, exclusive: true });

  let started = Date.now();
  const written = await writeSequentialFile(fs, file.address, 'large-file', FILE_MIB, WRITES_IN_FLIGHT);
  const writeMs = Date.now() - started;
  t.log(`wrote ${FILE_MIB} MiB in ${writeMs} ms (${((FILE_MIB * 1000) / writeMs).toFixed(1)} MiB/s, three replicas)`);
  t.is((await fs.getattr(file.address)).size, FILE_MIB * MiB);

  const read = createHash('sha256');
  started = Date.now();
  let offset = 0;
  for (;;) {
    const { data, eof } = await fs.read(ROOT_CALLER, file.address, offset, PIECE);
    read.update(data);
    offset += data.length;
    if (eof || data.length === 0) break;
  }
  const readMs = Date.now() - started;
  t.log(`read ${FILE_MIB} MiB in ${readMs} ms (${((FILE_MIB * 1000) / readMs).toFixed(1)} MiB/s)`);
  t.is(offset, FILE_MIB * MiB);
  t.is(read.digest('hex'), written.digest('hex'));
});
