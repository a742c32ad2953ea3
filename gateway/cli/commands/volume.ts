// `shoal volume create|list|inspect|delete`: the cluster's volumes (its catalogue block), owned by the cluster admin.
import type { Command } from 'commander';
import { SystemClock } from '../../../storage-node/base/clock.js';
import { ShoalError } from '../../../storage-node/base/errors.js';
import { formatBytes, parseBytes } from '../../../storage-node/base/units.js';
import { clientCredentials, readAdminIdentity } from '../../../storage-node/cli/cluster-dir.js';
import { ClusterClient } from '../../../storage-node/client/cluster-client.js';
import { systemEntropy } from '../../../storage-node/system.js';
import { ClusterFsBlocks } from '../../fs/fs-blocks.js';
import { FS_LIMITS_DEFAULT } from '../../fs/fs-limits.js';
import { Volumes, type VolumeSettings } from '../../fs/volume.js';
import { collect, DEFAULT_CLUSTER_DIR, parseReplicas, seedsFor } from '../cli-context.js';

interface VolumeFlags {
  dir: string;
  node?: string[];
  zone?: string;
  json?: boolean;
}

function volumeOptions(command: Command): Command {
  return command
    .option('--dir <dir>', 'cluster directory (credentials, admin identity; endpoints of `shoal cluster up`)', DEFAULT_CLUSTER_DIR)
    .option('--node <host:port>', 'a node to reach the cluster through (repeatable; default: SHOAL_NODE, then the endpoints in --dir)', collect)
    .option('--zone <zone>', 'read from replicas in this zone first')
    .option('--json', 'print the result as JSON');
}

/** Runs `use` with the cluster's volumes, as the admin identity (the owner of the catalogue and of every volume). */
async function withVolumes<T>(flags: VolumeFlags, use: (volumes: Volumes, client: ClusterClient) => Promise<T>): Promise<T> {
  const owner = await readAdminIdentity(flags.dir);
  const client = await ClusterClient.connect({
    credentials: await clientCredentials(flags.dir, 'cli'), seeds: seedsFor(flags), owner, entropy: systemEntropy,
    ...(flags.zone === undefined ? {} : { zone: flags.zone }),
  });
  try {
    const blocks = new ClusterFsBlocks(client, owner, systemEntropy);
    const result = await use(new Volumes({ blocks, clock: new SystemClock(), limits: FS_LIMITS_DEFAULT, owner: owner.publicKey }), client);
    await client.settled();
    return result;
  } finally {
    // The proposer flushes its last messages (the confirm of a write) on the next turn of the event loop, and after
    // client.close() that flush would open new connections that keep the process alive (a storage-node/client bug:
    // ProposerDriver#flush does not check `closed`, and ConnectionPool opens connections after close). Let it run first.
    await new Promise((resolve) => setImmediate(resolve));
    client.close();
  }
}

function settingsJson(v: VolumeSettings): Record<string, unknown> {
  return { name: v.name, id: v.id, root: v.root.toString('hex'), replicas: v.replicas, chunkBytes: v.chunkBytes, owner: v.owner, created: new Date(v.createdMs).toISOString() };
}

function table(rows: string[][]): string {
  const widths = (rows[0] ?? []).map((_, column) => Math.max(...rows.map((row) => (row[column] ?? '').length)));
  return rows.map((row) => row.map((cell, column) => cell.padEnd(widths[column] ?? 0)).join('  ').trimEnd()).join('\n');
}

function parseChunkBytes(text: string): number {
  try {
    return parseBytes(text);
  } catch {
    throw new ShoalError('Invalid', `--chunk-size "${text}": give a size such as 1MiB or 256KiB`, { subject: 'config' });
  }
}

export function registerVolumeCommands(program: Command): void {
  const volume = program.command('volume').description('create, list, inspect and delete volumes (each is an NFS export and an S3 bucket)');

  volumeOptions(volume.command('create').argument('<name>', '3 to 63 of a-z, 0-9, ".", "-" (S3 bucket rules)'))
    .description('create an empty volume')
    .option('--replicas <n>', 'copies of each of its blocks (R)', '3')
    .option('--chunk-size <size>', 'size of the chunks its files are cut into', '1MiB')
    .action(async (name: string, flags: VolumeFlags & { replicas: string; chunkSize: string }) => {
      const replicas = parseReplicas(flags.replicas);
      const chunkBytes = parseChunkBytes(flags.chunkSize);
      const { settings, serving } = await withVolumes(flags, async (volumes, client) => ({
        settings: await volumes.create(name, { replicas, chunkBytes }),
        serving: client.members.filter((m) => m.state === 'alive').length,
      }));
      if (flags.json) console.log(JSON.stringify(settingsJson(settings)));
      else console.log(`created volume ${settings.name} (id ${settings.id}): ${settings.replicas} replicas, ${formatBytes(settings.chunkBytes)} chunks`);
      if (replicas > serving) process.stderr.write(`shoal: note: ${serving} nodes are alive, fewer than the ${replicas} replicas asked; blocks get one copy per node until more join\n`);
    });

  volumeOptions(volume.command('list'))
    .description('list the volumes')
    .action(async (flags: VolumeFlags) => {
      const list = await withVolumes(flags, (volumes) => volumes.list());
      if (flags.json) {
        console.log(JSON.stringify(list.map(settingsJson)));
        return;
      }
      if (list.length === 0) {
        console.log('no volumes yet: create one with `shoal volume create NAME`');
        return;
      }
      const rows = [['NAME', 'ID', 'REPLICAS', 'CHUNK', 'CREATED']];
      for (const v of list) rows.push([v.name, v.id, String(v.replicas), formatBytes(v.chunkBytes), new Date(v.createdMs).toISOString()]);
      console.log(table(rows));
    });

  volumeOptions(volume.command('inspect').argument('<name>', 'volume name'))
    .description("show a volume's settings and its root directory")
    .action(async (name: string, flags: VolumeFlags) => {
      const { settings, entries, statfs } = await withVolumes(flags, async (volumes) => {
        const { settings, fs } = await volumes.open(name);
        return { settings, entries: (await fs.getattr(settings.root)).size, statfs: fs.statfs() };
      });
      if (flags.json) {
        console.log(JSON.stringify({ ...settingsJson(settings), rootEntries: entries, clusterTotalBytes: statfs.totalBytes, clusterUsedBytes: statfs.usedBytes }));
        return;
      }
      console.log(table([
        ['name', settings.name], ['id', settings.id], ['root', settings.root.toString('hex')], ['replicas', String(settings.replicas)],
        ['chunk size', formatBytes(settings.chunkBytes)], ['owner', settings.owner], ['created', new Date(settings.createdMs).toISOString()],
        ['root entries', String(entries)], ['cluster', `${formatBytes(statfs.usedBytes)} used of ${formatBytes(statfs.totalBytes)}`],
      ]));
    });

  volumeOptions(volume.command('delete').argument('<name>', 'volume name'))
    .description('delete an empty volume (a volume with entries is refused)')
    .action(async (name: string, flags: VolumeFlags) => {
      await withVolumes(flags, (volumes) => volumes.delete(name));
      if (flags.json) console.log(JSON.stringify({ deleted: name }));
      else console.log(`deleted volume ${name}`);
    });
}
