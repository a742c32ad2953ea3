// What every client command needs: the cluster directory, the nodes to reach, and a connected client.
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ShoalError } from '../../storage-node/base/errors.js';
import { ClusterClient } from '../../storage-node/client/cluster-client.js';
import { clientCredentials } from '../../storage-node/cli/cluster-dir.js';

export const DEFAULT_CLUSTER_DIR = process.env['SHOAL_DIR'] ?? join('data', 'cluster');

export interface ClientFlags {
  dir: string;
  node?: string[];
  replicas: string;
  zone?: string;
}

/** `shoal cluster up` writes the addresses it started here, so that commands on this machine find them. */
export const ENDPOINTS_FILE = 'endpoints.json';

export interface Endpoints {
  readonly nodes: readonly string[];
}

export function seedsFor(flags: { dir: string; node?: string[] | undefined }): string[] {
  if (flags.node && flags.node.length > 0) return flags.node;
  const env = process.env['SHOAL_NODE'];
  if (env) return env.split(',').map((s) => s.trim()).filter(Boolean);
  const file = join(flags.dir, ENDPOINTS_FILE);
  if (existsSync(file)) return [...(JSON.parse(readFileSync(file, 'utf8')) as Endpoints).nodes];
  throw new ShoalError('Invalid', `no node to reach: pass --node HOST:PORT (or set SHOAL_NODE), or run \`shoal cluster up\` with --data so that ${file} exists`, { subject: 'config' });
}

export function parseReplicas(text: string): number {
  const replicas = Number(text);
  if (!Number.isInteger(replicas) || replicas < 1 || replicas > 16) {
    throw new ShoalError('Invalid', `--replicas "${text}": give a whole number from 1 to 16`, { subject: 'config' });
  }
  return replicas;
}

export async function connectClient(flags: ClientFlags): Promise<ClusterClient> {
  const credentials = await clientCredentials(flags.dir, 'cli');
  return ClusterClient.connect({
    credentials, seeds: seedsFor(flags), replicas: parseReplicas(flags.replicas),
    ...(flags.zone === undefined ? {} : { zone: flags.zone }),
  });
}

export function collect(value: string, previous: string[] = []): string[] {
  return [...previous, value];
}
