// Composition root of a storage node: real clock, TLS, LMDB and logs, assembled from the configuration.
import { existsSync } from 'node:fs';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { pino } from 'pino';
import type { Logger } from './base/log.js';
import { readClusterCa } from './cli/cluster-dir.js';
import type { NodeConfig } from './config.js';
import { NodeMetrics, serveMetrics } from './server/metrics.js';
import { startStorageNode, type StorageNode } from './server/node.js';
import { openLmdbBlockStore } from './store/lmdb-block-store.js';
import { systemEntropy } from './system.js';
import { issueCertificate } from './wire/cluster-ca.js';
import type { TlsCredentials } from './wire/tls-credentials.js';

interface NodeIdentityFile {
  readonly id: string;
  readonly incarnation: number;
}

export function createLogger(level: string, bindings: Record<string, unknown>): Logger {
  return pino({ level, base: bindings, timestamp: pino.stdTimeFunctions.isoTime }) as unknown as Logger;
}

/** The node's id survives restarts (it names the node in placement); the incarnation counts them. */
async function loadNodeIdentity(dataPath: string): Promise<NodeIdentityFile> {
  const file = join(dataPath, 'node.json');
  const previous = existsSync(file) ? (JSON.parse(await readFile(file, 'utf8')) as NodeIdentityFile) : undefined;
  const next = { id: previous?.id ?? systemEntropy.bytes(8).toString('hex'), incarnation: (previous?.incarnation ?? 0) + 1 };
  await writeFile(file, `${JSON.stringify(next, null, 2)}\n`);
  return next;
}

async function loadCredentials(config: NodeConfig, nodeId: string): Promise<TlsCredentials> {
  const ca = await readClusterCa(config.clusterDir).catch(async (err: unknown) => {
    if (config.certPath === undefined) throw err;
    return { keyPem: '', certPem: await readFile(join(config.clusterDir, 'ca.crt'), 'utf8') };
  });
  if (config.certPath !== undefined && config.keyPath !== undefined) {
    return { cert: await readFile(config.certPath, 'utf8'), key: await readFile(config.keyPath, 'utf8'), ca: ca.certPem };
  }
  const keyPath = join(config.dataPath, 'node.key');
  const certPath = join(config.dataPath, 'node.crt');
  if (existsSync(keyPath) && existsSync(certPath)) {
    return { key: await readFile(keyPath, 'utf8'), cert: await readFile(certPath, 'utf8'), ca: ca.certPem };
  }
  const issued = issueCertificate(ca, nodeId, 'node');
  await writeFile(keyPath, issued.key, { mode: 0o600 });
  await writeFile(certPath, issued.cert);
  return issued;
}

export async function runNode(config: NodeConfig): Promise<{ node: StorageNode; stop(): Promise<void> }> {
  await mkdir(config.dataPath, { recursive: true });
  const identity = await loadNodeIdentity(config.dataPath);
  const log = createLogger(config.logLevel, { node: identity.id });
  const credentials = await loadCredentials(config, identity.id);
  const store = await openLmdbBlockStore({ path: join(config.dataPath, 'blocks'), capacityBytes: config.capacityBytes });
  const metrics = new NodeMetrics();
  const node = await startStorageNode({
    id: identity.id, host: config.host, port: config.port, zone: config.zone, rack: config.rack,
    incarnation: identity.incarnation, credentials, store, log, metrics,
    ...(config.join === undefined ? {} : { join: config.join }),
  });
  const metricsServer = config.metricsPort === undefined
    ? undefined
    : await serveMetrics(metrics, config.metricsHost ?? config.host, config.metricsPort, () => node.refreshMetrics());
  if (metricsServer) log.info({ url: `http://${config.metricsHost ?? config.host}:${metricsServer.address.port}/metrics` }, 'node.metrics_serving');
  return {
    node,
    async stop() {
      metricsServer?.server.close();
      await node.close();
    },
  };
}
