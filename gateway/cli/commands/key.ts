// `shoal key create|list`: S3 access keys, kept (sealed) in the cluster's `s3-keys` block that every gateway reads.
import type { Command } from 'commander';
import { SystemClock } from '../../../storage-node/base/clock.js';
import { clientCredentials, readAdminIdentity } from '../../../storage-node/cli/cluster-dir.js';
import { ClusterClient } from '../../../storage-node/client/cluster-client.js';
import { systemEntropy } from '../../../storage-node/system.js';
import { ClusterFsBlocks } from '../../fs/fs-blocks.js';
import { ClusterKeyStore } from '../../s3/cluster-keys.js';
import { collect, DEFAULT_CLUSTER_DIR, seedsFor } from '../cli-context.js';

interface KeyFlags {
  dir: string;
  node?: string[];
  json?: boolean;
}

/** Runs `use` with the cluster's key store, as the admin identity (the owner that seals the block). */
export async function withKeys<T>(flags: { dir: string; node?: string[] | undefined }, use: (keys: ClusterKeyStore) => Promise<T>): Promise<T> {
  const owner = await readAdminIdentity(flags.dir);
  const client = await ClusterClient.connect({
    credentials: await clientCredentials(flags.dir, 'cli'), seeds: seedsFor(flags), owner, entropy: systemEntropy,
  });
  try {
    const result = await use(new ClusterKeyStore({ blocks: new ClusterFsBlocks(client, owner, systemEntropy), clock: new SystemClock(), refreshMs: 0 }));
    await client.settled();
    return result;
  } finally {
    // Let the proposer's last flush run before closing (see volume.ts).
    await new Promise((resolve) => setImmediate(resolve));
    client.close();
  }
}

export function registerKeyCommands(program: Command): void {
  const key = program.command('key').description('S3 access keys (kept sealed in the cluster; every gateway accepts them within seconds)');
  const common = (command: Command): Command => command
    .option('--dir <dir>', 'cluster directory (credentials, admin identity; endpoints of `shoal cluster up`)', DEFAULT_CLUSTER_DIR)
    .option('--node <host:port>', 'a node to reach the cluster through (repeatable; default: SHOAL_NODE, then the endpoints in --dir)', collect)
    .option('--json', 'print the result as JSON');

  common(key.command('create'))
    .description('issue an access key for a user and print its id and secret (the secret is shown here and by `key list`)')
    .requiredOption('--user <user>', 'who the key belongs to')
    .action(async (flags: KeyFlags & { user: string }) => {
      const created = await withKeys(flags, (keys) => keys.create(flags.user));
      if (flags.json) {
        console.log(JSON.stringify({ accessKeyId: created.id, secretAccessKey: created.secret, user: created.user }));
        return;
      }
      console.log(`access key id      ${created.id}`);
      console.log(`secret access key  ${created.secret}`);
      console.log(`user               ${created.user}`);
    });

  common(key.command('list'))
    .description('list the access keys (ids and users; secrets with --json)')
    .action(async (flags: KeyFlags) => {
      const all = await withKeys(flags, (keys) => keys.list());
      if (flags.json) {
        console.log(JSON.stringify(all.map((k) => ({ accessKeyId: k.id, secretAccessKey: k.secret, user: k.user, created: new Date(k.createdMs).toISOString() }))));
        return;
      }
      if (all.length === 0) console.log('no keys yet: create one with `shoal key create --user NAME`');
      for (const k of all) console.log(`${k.id}  ${k.user}  ${new Date(k.createdMs).toISOString()}`);
    });
}
