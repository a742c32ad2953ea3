// A gateway's configuration: flags over defaults, checked once with messages that say the fix.
import { isIP } from 'node:net';
import { ShoalError } from '../storage-node/base/errors.js';
import { splitHostPort } from '../storage-node/wire/wire-connection.js';

export interface GatewayConfig {
  /** Cluster directory: the CA that issues the gateway's certificate, and the admin identity that owns the volumes. */
  readonly clusterDir: string;
  /** Nodes to learn the member list from (HOST:PORT each). */
  readonly seeds: readonly string[];
  /** Names the gateway's certificate (credentials/<name>.crt in the cluster directory). */
  readonly name: string;
  /** Address the NFS, MOUNT and portmap listeners bind. */
  readonly listenHost: string;
  /** NFS and MOUNT on one port (0: any free port, logged in gateway.serving). */
  readonly nfsPort: number;
  /** Portmapper port (RFC 1833; 111 for a plain `mount -t nfs`), or undefined for none. */
  readonly portmapPort: number | undefined;
  /** S3 port (0: any free port, logged in gateway.serving), or undefined for no S3. */
  readonly s3Port: number | undefined;
  /** Endpoint names under which `<bucket>.<domain>` addresses a bucket (S3 virtual-host style). */
  readonly s3Domains: readonly string[];
  /** How long S3 access keys read from the cluster are used before they are read again. */
  readonly keysRefreshMs: number;
  /** The caller's zone: reads go to a replica there first. */
  readonly zone?: string;
  /** How long export options read from the cluster are used before they are read again. */
  readonly exportsRefreshMs: number;
  readonly logLevel: string;
}

export const GATEWAY_DEFAULTS = {
  name: 'gateway',
  listenHost: '127.0.0.1',
  nfsPort: 2049,
  portmapPort: 111,
  exportsRefreshMs: 5_000,
  keysRefreshMs: 10_000,
  logLevel: 'info',
} as const;

const NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,62}$/;
const LOG_LEVELS = ['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent'];

export function validateGatewayConfig(config: GatewayConfig): GatewayConfig {
  const fail = (message: string): never => {
    throw new ShoalError('Invalid', message, { subject: 'config' });
  };
  if (config.seeds.length === 0) fail('give --join HOST:PORT (any storage node of the cluster; repeat or separate with commas for more)');
  for (const seed of config.seeds) splitHostPort(seed);
  if (!NAME.test(config.name)) fail(`--name "${config.name}": use letters, digits, '.', '_' or '-' (e.g. gateway-2)`);
  if (isIP(config.listenHost) === 0 && config.listenHost !== 'localhost') fail(`--listen-host "${config.listenHost}": give an IP address such as 127.0.0.1 or 0.0.0.0`);
  const port = (flag: string, value: number, zeroOk: boolean): void => {
    if (!Number.isInteger(value) || value < (zeroOk ? 0 : 1) || value > 65535) fail(`${flag} ${value}: give a TCP port from ${zeroOk ? 0 : 1} to 65535${zeroOk ? ' (0: any free port)' : ''}`);
  };
  port('--nfs', config.nfsPort, true);
  if (config.portmapPort !== undefined) port('--portmap', config.portmapPort, true);
  if (config.s3Port !== undefined) port('--s3', config.s3Port, true);
  for (const domain of config.s3Domains) {
    if (!/^[a-z0-9]([a-z0-9-]*[a-z0-9])?(\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)*$/i.test(domain)) fail(`--s3-domain "${domain}": give a DNS name such as s3.example.com`);
  }
  if (!Number.isSafeInteger(config.keysRefreshMs) || config.keysRefreshMs < 0 || config.keysRefreshMs > 3_600_000) {
    fail(`--keys-refresh: give a duration from 0s to 1h (got ${config.keysRefreshMs} ms)`);
  }
  if (config.zone !== undefined && !NAME.test(config.zone)) fail(`--zone "${config.zone}": use letters, digits, '.', '_' or '-'`);
  if (!Number.isSafeInteger(config.exportsRefreshMs) || config.exportsRefreshMs < 0 || config.exportsRefreshMs > 3_600_000) {
    fail(`--exports-refresh: give a duration from 0s to 1h (got ${config.exportsRefreshMs} ms)`);
  }
  if (!LOG_LEVELS.includes(config.logLevel)) fail(`--log-level "${config.logLevel}": use one of ${LOG_LEVELS.join(', ')}`);
  return config;
}

/** "a:1,b:2" and repeated flags → ["a:1", "b:2"]. */
export function parseSeeds(values: readonly string[]): string[] {
  return values.flatMap((v) => v.split(',')).map((s) => s.trim()).filter(Boolean);
}
