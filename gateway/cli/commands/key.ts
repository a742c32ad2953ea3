// `shoal key create|list`: S3 access keys, kept (sealed) in the cluster's `s3-keys` block that every gateway reads.
import type { Command } from 'commander';
import { SystemClock } from '../../../storage-node/base/clock.js';
import { clientCredentials, readAdminIdentity } from '../../../storage-node/cli/cluster-dir.js';
import { ClusterClient } from '../../../storage-node/client/cluster-client.js';
import { systemEntropy } from '../../../storage-node/system.js';
import { ClusterFsBlocks } from '../../fs/fs-blocks.js';
import { ShoalError } from '../../../storage-node/base/errors.js';
import { ClusterKeyStore, type StoredKey } from '../../s3/cluster-keys.js';
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

/** uid/gid for the JSON output; an admin key shows `admin: true` instead. */
function identityOf(key: StoredKey): { uid: number; gid: number } | { admin: true } {
  return key.uid === undefined ? { admin: true } : { uid: key.uid, gid: key.gid ?? key.uid };
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
    .option('--uid <uid>', 'the uid its requests act as in the filesystem (owner of what it writes, mode bits checked as for NFS); without it, an admin key acting as root')
    .option('--gid <gid>', 'the primary group with --uid (default: the uid)')
    .action(async (flags: KeyFlags & { user: string; uid?: string; gid?: string }) => {
      if (flags.uid === undefined && flags.gid !== undefined) throw new ShoalError('Invalid', '--gid needs --uid', { subject: 'config' });
      const identity = flags.uid === undefined ? undefined : { uid: Number(flags.uid), ...(flags.gid === undefined ? {} : { gid: Number(flags.gid) }) };
      const created = await withKeys(flags, (keys) => keys.create(flags.user, identity));
      if (flags.json) {
        console.log(JSON.stringify({ accessKeyId: created.id, secretAccessKey: created.secret, user: created.user, ...identityOf(created) }));
        return;
      }
      console.log(`access key id      ${created.id}`);
      console.log(`secret access key  ${created.secret}`);
      console.log(`user               ${created.user}`);
      console.log(`acts as            ${created.uid === undefined ? 'root (admin key)' : `uid ${created.uid} gid ${created.gid ?? created.uid}`}`);
    });

  common(key.command('list'))
    .description('list the access keys (ids and users; secrets with --json)')
    .action(async (flags: KeyFlags) => {
      const all = await withKeys(flags, (keys) => keys.list());
      if (flags.json) {
        console.log(JSON.stringify(all.map((k) => ({ accessKeyId: k.id, secretAccessKey: k.secret, user: k.user, ...identityOf(k), created: new Date(k.createdMs).toISOString() }))));
        return;
      }
      if (all.length === 0) console.log('no keys yet: create one with `shoal key create --user NAME`');
      for (const k of all) console.log(`${k.id}  ${k.user}  ${new Date(k.createdMs).toISOString()}  ${k.uid === undefined ? 'admin' : `uid=${k.uid} gid=${k.gid ?? k.uid}`}`);
    });
}
