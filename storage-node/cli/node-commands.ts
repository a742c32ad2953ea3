// `shoal cluster init` and `shoal node run`: argument parsing only; the work is in cluster-dir.ts and main.ts.
import type { Command } from 'commander';
import { ShoalError } from '../base/errors.js';
import { parseBytes, parseDurationMs } from '../base/units.js';
import { OVERLAY_CONFIG_DEFAULTS, OVERLAY_CONFIG_HELP, type OverlayConfig } from '../overlay/overlay-config.js';
import { validateNodeConfig, type NodeConfig } from '../config.js';
import { runNode } from '../main.js';
import { splitHostPort } from '../wire/wire-connection.js';
import { initClusterDir } from './cluster-dir.js';
import { addRepairOptions, repairConfigFrom } from './repair-options.js';
import { stopOnSignals } from './stop-on-signals.js';

const flagName = (key: string): string => key.replace(/Ms$/, '').replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`);

/** One flag per overlay setting, with its default and meaning, so that `--help` documents them all. */
function addOverlayOptions(command: Command): void {
  for (const key of Object.keys(OVERLAY_CONFIG_DEFAULTS) as (keyof OverlayConfig)[]) {
    const isDuration = key.endsWith('Ms');
    const fallback = OVERLAY_CONFIG_DEFAULTS[key];
    command.option(`--${flagName(key)} <${isDuration ? 'duration' : 'n'}>`, `overlay: ${OVERLAY_CONFIG_HELP[key]}`, isDuration ? `${fallback}ms` : String(fallback));
  }
}

function overlayConfigFrom(flags: Record<string, string | undefined>): Partial<OverlayConfig> {
  const config: Partial<Record<keyof OverlayConfig, number>> = {};
  for (const key of Object.keys(OVERLAY_CONFIG_DEFAULTS) as (keyof OverlayConfig)[]) {
    const camel = flagName(key).replace(/-([a-z])/g, (_, c: string) => c.toUpperCase());
    const text = flags[camel];
    if (text === undefined) continue;
    const value = key.endsWith('Ms') ? parseDurationMs(text) : Number(text);
    if (!Number.isSafeInteger(value)) throw new ShoalError('Invalid', `--${flagName(key)} "${text}": give a whole number`, { subject: 'config' });
    config[key] = value;
  }
  return config;
}

interface NodeRunFlags {
  dir: string;
  data: string;
  listen: string;
  zone: string;
  rack: string;
  capacity: string;
  join?: string;
  advertise?: string;
  sourceAddress?: string;
  cert?: string;
  key?: string;
  metrics?: string;
  logLevel: string;
}

export function registerNodeCommands(program: Command, defaults: { clusterDir: string }): void {
  const cluster = program.commands.find((c) => c.name() === 'cluster') ?? program.command('cluster').description('create and run clusters');
  cluster.command('init')
    .description('create a cluster: its certificate authority and an admin identity (Ed25519)')
    .option('--dir <dir>', 'directory to create the cluster in (keep it private: it holds the CA key)', defaults.clusterDir)
    .option('--name <name>', 'a name for the cluster, shown in its CA certificate', 'shoal')
    .action(async (flags: { dir: string; name: string }) => {
      const info = await initClusterDir(flags.dir, flags.name);
      console.log(`cluster ${info.name} (${info.id}) created in ${flags.dir}`);
      console.log(`next: shoal node run --dir ${flags.dir} --data ./node1 --listen 127.0.0.1:7001 --zone z1 --rack r1 --capacity 100GiB`);
    });

  const node = program.commands.find((c) => c.name() === 'node') ?? program.command('node').description('run and manage storage nodes');
  const run = node.command('run')
    .description('serve as a storage node: blocks in LMDB under --data, mutual TLS on --listen')
    .option('--dir <dir>', 'cluster directory (its CA issues this node a certificate on first start)', defaults.clusterDir)
    .requiredOption('--data <path>', 'where this node keeps its blocks and identity')
    .option('--listen <host:port>', 'address to serve the wire protocol on', '127.0.0.1:7001')
    .option('--zone <zone>', 'failure zone (replicas spread over distinct zones first)', 'default')
    .option('--rack <rack>', 'rack within the zone (replicas spread over racks next)', 'default')
    .option('--capacity <size>', 'bytes of blocks this node may hold, e.g. 500GiB', '100GiB')
    .option('--join <host:port>', 'any member of the cluster to join through (omit for the first node)')
    .option('--advertise <host:port>', 'address others reach this node at, when not --listen (behind a proxy or NAT)')
    .option('--source-address <ip>', 'local address for connections to other nodes (a multi-homed host)')
    .option('--cert <file>', 'use this certificate (signed by the cluster CA) instead of issuing one')
    .option('--key <file>', 'private key of --cert')
    .option('--metrics <host:port>', 'serve Prometheus metrics on http://host:port/metrics')
    .option('--log-level <level>', 'pino log level: debug, info, warn, error', 'info');
  addOverlayOptions(run);
  addRepairOptions(run);
  run.action(async (flags: NodeRunFlags & Record<string, string>) => {
      const listen = splitHostPort(flags.listen);
      const metrics = flags.metrics === undefined ? undefined : splitHostPort(flags.metrics);
      const config: NodeConfig = validateNodeConfig({
        clusterDir: flags.dir, dataPath: flags.data, host: listen.host, port: listen.port,
        zone: flags.zone, rack: flags.rack, capacityBytes: parseBytes(flags.capacity), logLevel: flags.logLevel,
        ...(flags.join === undefined ? {} : { join: flags.join }),
        ...(flags.advertise === undefined ? {} : { advertise: flags.advertise }),
        ...(flags.sourceAddress === undefined ? {} : { sourceAddress: flags.sourceAddress }),
        ...(flags.cert === undefined ? {} : { certPath: flags.cert }),
        ...(flags.key === undefined ? {} : { keyPath: flags.key }),
        ...(metrics === undefined ? {} : { metricsHost: metrics.host, metricsPort: metrics.port }),
        overlay: overlayConfigFrom(flags),
        repair: repairConfigFrom(flags),
      });
      const running = await runNode(config);
      // A signal stops the node without leaving: it is expected back, and others suspect it meanwhile.
      stopOnSignals(() => running.stop());
      void running.whenLeft.then(() => process.exit(0));
    });
}
