// `shoal gateway run` (argument parsing only; the work is in gateway/main.ts) and `shoal export set|list` (per-volume
// NFS export options, kept in the cluster's `exports` block).
import type { Command } from 'commander';
import { SystemClock } from '../../../storage-node/base/clock.js';
import { ShoalError } from '../../../storage-node/base/errors.js';
import { parseDurationMs } from '../../../storage-node/base/units.js';
import { clientCredentials, readAdminIdentity } from '../../../storage-node/cli/cluster-dir.js';
import { ClusterClient } from '../../../storage-node/client/cluster-client.js';
import { systemEntropy } from '../../../storage-node/system.js';
import { GATEWAY_DEFAULTS, parseSeeds, validateGatewayConfig } from '../../config.js';
import { ClusterFsBlocks } from '../../fs/fs-blocks.js';
import { FS_LIMITS_DEFAULT } from '../../fs/fs-limits.js';
import { Volumes } from '../../fs/volume.js';
import { runGateway } from '../../main.js';
import { EXPORT_DEFAULTS, ExportsCatalogue, type ExportOptions, type ExportSquash } from '../../nfs/exports.js';
import { collect, DEFAULT_CLUSTER_DIR, seedsFor } from '../cli-context.js';
import { stopOnSignals } from '../../../storage-node/cli/stop-on-signals.js';

interface GatewayRunFlags {
  dir: string;
  join?: string[];
  name: string;
  nfs: string;
  portmap: string;
  s3: string;
  s3Domain?: string[];
  keysRefresh: string;
  listenHost: string;
  zone?: string;
  exportsRefresh: string;
  logLevel: string;
}

interface ExportFlags {
  dir: string;
  node?: string[];
  json?: boolean;
}

interface ExportSetFlags extends ExportFlags {
  readOnly?: boolean;
  allow?: string[];
  rootSquash?: boolean;
  allSquash?: boolean;
  noSquash?: boolean;
  anonUid: string;
  anonGid: string;
}

function portFlag(flag: string, text: string): number {
  const port = Number(text);
  if (!/^\d{1,5}$/.test(text) || port > 65535) throw new ShoalError('Invalid', `${flag} "${text}": give a TCP port from 0 to 65535`, { subject: 'config' });
  return port;
}

/** Runs `use` with the volumes and the exports block, as the admin identity (owner of the catalogue and of every volume). */
async function withExports<T>(flags: ExportFlags, use: (exports: ExportsCatalogue, volumes: Volumes) => Promise<T>): Promise<T> {
  const owner = await readAdminIdentity(flags.dir);
  const client = await ClusterClient.connect({
    credentials: await clientCredentials(flags.dir, 'cli'), seeds: seedsFor(flags), owner, entropy: systemEntropy,
  });
  try {
    const blocks = new ClusterFsBlocks(client, owner, systemEntropy);
    const clock = new SystemClock();
    const result = await use(new ExportsCatalogue({ blocks, clock, refreshMs: 0 }), new Volumes({ blocks, clock, limits: FS_LIMITS_DEFAULT, owner: owner.publicKey }));
    await client.settled();
    return result;
  } finally {
    // Let the proposer's last flush run before closing (see volume.ts).
    await new Promise((resolve) => setImmediate(resolve));
    client.close();
  }
}

function describe(options: ExportOptions): string {
  const squash = options.squash === 'none' ? 'no_squash' : `${options.squash}_squash(anon ${options.anonUid}:${options.anonGid})`;
  return `${options.readOnly ? 'ro' : 'rw'}  ${squash}  allow ${options.allow.length === 0 ? 'all' : options.allow.join(',')}`;
}

/** Without --join: SHOAL_NODE, then the endpoints `shoal cluster up` wrote; the error names --join. */
function joinFromEndpoints(dir: string): string[] {
  try {
    return seedsFor({ dir });
  } catch {
    throw new ShoalError('Invalid', 'no node to join: give --join HOST:PORT (any storage node; comma-separated for more), or set SHOAL_NODE', { subject: 'config' });
  }
}

export function registerGatewayCommands(program: Command): void {
  const gateway = program.command('gateway').description('run gateways (NFSv3 and S3)');
  gateway.command('run')
    .description('serve the cluster\'s volumes over NFSv3 (each volume at /<name>) with MOUNT on the same port, a portmapper, and S3 with --s3 (each volume a bucket)')
    .option('--dir <dir>', 'cluster directory (its CA issues the gateway a certificate; its admin identity owns the volumes)', DEFAULT_CLUSTER_DIR)
    .option('--join <host:port>', 'a storage node to reach the cluster through (repeatable, or comma-separated)', collect)
    .option('--name <name>', 'name of this gateway\'s certificate in the cluster directory', GATEWAY_DEFAULTS.name)
    .option('--nfs <port>', 'TCP port for NFSv3 and MOUNT v3 (0: any free port)', String(GATEWAY_DEFAULTS.nfsPort))
    .option('--portmap <port>', 'TCP port for the portmapper (RFC 1833), "off" for none; when it cannot bind, one log line says so', String(GATEWAY_DEFAULTS.portmapPort))
    .option('--s3 <port>', 'TCP port for S3 (0: any free port; "off": none, the default); keys come from `shoal key create`', 'off')
    .option('--s3-domain <domain>', 'serve <bucket>.<domain> virtual-host style (repeatable); path style always works', collect)
    .option('--keys-refresh <duration>', 'how often S3 access keys are read again (an unknown key id is looked up at once)', `${GATEWAY_DEFAULTS.keysRefreshMs / 1000}s`)
    .option('--listen-host <host>', 'address to listen on', GATEWAY_DEFAULTS.listenHost)
    .option('--zone <zone>', 'read from replicas in this zone first')
    .option('--exports-refresh <duration>', 'how often export options (`shoal export set`) are read again', `${GATEWAY_DEFAULTS.exportsRefreshMs / 1000}s`)
    .option('--log-level <level>', 'pino log level: debug, info, warn, error', GATEWAY_DEFAULTS.logLevel)
    .action(async (flags: GatewayRunFlags) => {
      const config = validateGatewayConfig({
        clusterDir: flags.dir,
        seeds: flags.join === undefined ? joinFromEndpoints(flags.dir) : parseSeeds(flags.join),
        name: flags.name, listenHost: flags.listenHost, nfsPort: portFlag('--nfs', flags.nfs),
        portmapPort: flags.portmap === 'off' ? undefined : portFlag('--portmap', flags.portmap),
        s3Port: flags.s3 === 'off' ? undefined : portFlag('--s3', flags.s3), s3Domains: flags.s3Domain ?? [],
        keysRefreshMs: parseDurationMs(flags.keysRefresh),
        exportsRefreshMs: parseDurationMs(flags.exportsRefresh), logLevel: flags.logLevel,
        ...(flags.zone === undefined ? {} : { zone: flags.zone }),
      });
      const running = await runGateway(config);
      stopOnSignals(() => running.stop());
    });

  const exportCommand = program.command('export').description('per-volume NFS export options: read-only, allowed clients, squashing');
  const common = (command: Command): Command => command
    .option('--dir <dir>', 'cluster directory (credentials, admin identity; endpoints of `shoal cluster up`)', DEFAULT_CLUSTER_DIR)
    .option('--node <host:port>', 'a node to reach the cluster through (repeatable; default: SHOAL_NODE, then the endpoints in --dir)', collect)
    .option('--json', 'print the result as JSON');

  common(exportCommand.command('set').argument('<volume>', 'volume name'))
    .description('set a volume\'s export options, replacing the previous ones (options not given take their defaults); gateways apply them within --exports-refresh')
    .option('--read-only', 'refuse every change (NFS3ERR_ROFS); default read-write')
    .option('--allow <cidr>', 'a client address or network allowed to mount and call (repeatable); default every client', collect)
    .option('--root-squash', 'uid/gid 0 become the anonymous ids')
    .option('--all-squash', 'every caller becomes the anonymous ids')
    .option('--no-squash', 'ids as the client sends them (the default)')
    .option('--anon-uid <n>', 'the anonymous uid', String(EXPORT_DEFAULTS.anonUid))
    .option('--anon-gid <n>', 'the anonymous gid', String(EXPORT_DEFAULTS.anonGid))
    .action(async (name: string, flags: ExportSetFlags) => {
      // commander turns --no-squash into squash=false; read what was given.
      const raw = flags as ExportSetFlags & { squash?: boolean };
      const chosen = [flags.rootSquash ? 'root' : undefined, flags.allSquash ? 'all' : undefined, raw.squash === false ? 'none' : undefined].filter((s) => s !== undefined);
      if (chosen.length > 1) throw new ShoalError('Invalid', 'give one of --root-squash, --all-squash, --no-squash', { subject: 'config' });
      const id = (flag: string, text: string): number => {
        if (!/^\d{1,10}$/.test(text)) throw new ShoalError('Invalid', `${flag} "${text}": give a whole number from 0 to 4294967295`, { subject: 'config' });
        return Number(text);
      };
      const options: ExportOptions = {
        readOnly: flags.readOnly === true, allow: flags.allow ?? [], squash: (chosen[0] ?? 'none') as ExportSquash,
        anonUid: id('--anon-uid', flags.anonUid), anonGid: id('--anon-gid', flags.anonGid),
      };
      const entry = await withExports(flags, async (exports, volumes) => exports.set(await volumes.inspect(name), options));
      if (flags.json) console.log(JSON.stringify(entry));
      else console.log(`export /${entry.volume}: ${describe(entry.options)}`);
    });

  common(exportCommand.command('list'))
    .description('list every volume with its export options')
    .action(async (flags: ExportFlags) => {
      const rows = await withExports(flags, async (exports, volumes) => {
        const entries = new Map((await exports.list()).map((e) => [e.volumeId, e.options]));
        return (await volumes.list()).map((v) => ({ volume: v.name, volumeId: v.id, options: entries.get(v.id) ?? EXPORT_DEFAULTS, set: entries.has(v.id) }));
      });
      if (flags.json) {
        console.log(JSON.stringify(rows));
        return;
      }
      if (rows.length === 0) console.log('no volumes yet: create one with `shoal volume create NAME`');
      for (const row of rows) console.log(`/${row.volume}  ${describe(row.options)}${row.set ? '' : '  (defaults)'}`);
    });
}
