// Composition root of a storage node: real clock, TLS, LMDB and logs, assembled from the configuration.
import { existsSync } from 'node:fs';
import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { pino } from 'pino';
import { SystemClock } from './base/clock.js';
import type { Logger } from './base/log.js';
import { Random } from './base/random.js';
import type { Member } from './overlay/membership.js';
import { parseMembers } from './wire/operations.js';
import { readClusterCa } from './cli/cluster-dir.js';
import type { NodeConfig } from './config.js';
import { NodeMetrics, serveMetrics } from './server/metrics.js';
import { startStorageNode, type StorageNode } from './server/node.js';
import { openLmdbAcceptorStore } from './store/acceptor-store.js';
import { openLmdbBlockStore } from './store/lmdb-block-store.js';
import { surviveRefusedWrites } from './store/lmdb-commit.js';
import { systemEntropy } from './system.js';
import { issueCertificate } from './wire/cluster-ca.js';
import type { TlsCredentials } from './wire/tls-credentials.js';
import { identityFromSeed, type Identity } from './blocks/sign.js';
import { QuorumMover } from './client/quorum-mover.js';
import { ConnectionPool } from './wire/connection-pool.js';
import { parseRememberedKeys, rememberedKeysJson, signNodeKey, type NodeKeyCertificate } from './server/repair/node-key.js';

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
  // Seconds since the epoch, unless a previous run went higher: a restart must come back above any
  // incarnation the node reached by refuting suspicions before it stopped, which were never saved.
  const incarnation = Math.max((previous?.incarnation ?? 0) + 1, Math.floor(Date.now() / 1000));
  const next = { id: previous?.id ?? systemEntropy.bytes(8).toString('hex'), incarnation };
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

const SIGNING_KEY_FILE = 'node-signing-key.json';

/**
 * The node's Ed25519 key for quorum changes and the CA's certificate of it, made on first start while the CA key is
 * at hand. Without the CA key (a node started with --cert/--key) there is none, and repair leaves mutable blocks be.
 */
async function loadSigningKey(config: NodeConfig, nodeId: string, log: Logger): Promise<{ identity: Identity; certificate: NodeKeyCertificate } | undefined> {
  const file = join(config.dataPath, SIGNING_KEY_FILE);
  if (existsSync(file)) {
    const saved = JSON.parse(await readFile(file, 'utf8')) as { seed: string; signature: string };
    const identity = identityFromSeed(Buffer.from(saved.seed, 'hex'));
    return { identity, certificate: { node: nodeId, publicKey: identity.publicKey, signature: Buffer.from(saved.signature, 'hex') } };
  }
  const ca = await readClusterCa(config.clusterDir).catch(() => undefined);
  if (ca === undefined || ca.keyPem === '') {
    log.warn({ clusterDir: config.clusterDir }, 'repair.no_signing_key: the cluster CA key is not here, so this node cannot move mutable blocks to new quorums');
    return undefined;
  }
  const seed = systemEntropy.bytes(32);
  const identity = identityFromSeed(seed);
  const certificate = signNodeKey(ca.keyPem, nodeId, identity.publicKey);
  await writeFile(file, `${JSON.stringify({ seed: seed.toString('hex'), signature: certificate.signature.toString('hex') })}\n`, { mode: 0o600 });
  return { identity, certificate };
}

/** Present while the node is draining: a restart goes on draining instead of taking blocks again. */
const DRAINING_FILE = 'draining';

/** Other nodes' signing keys this node trusts (each checked against the CA again when read). */
const TRUSTED_KEYS_FILE = 'trusted-node-keys.json';

const MEMBERS_FILE = 'members.json';
const MEMBERS_SAVE_INTERVAL_MS = 30_000;

/** The member list saved by the previous run: a restarted node finds the cluster through it without --join. */
async function loadKnownMembers(dataPath: string): Promise<Member[]> {
  try {
    return parseMembers(JSON.parse(await readFile(join(dataPath, MEMBERS_FILE), 'utf8')));
  } catch {
    return [];
  }
}

export interface RunningNode {
  readonly node: StorageNode;
  stop(): Promise<void>;
  /** Resolves once the node has left the cluster at an operator's request and stopped. */
  readonly whenLeft: Promise<void>;
}

export async function runNode(config: NodeConfig): Promise<RunningNode> {
  await mkdir(config.dataPath, { recursive: true });
  const identity = await loadNodeIdentity(config.dataPath);
  const log = createLogger(config.logLevel, { node: identity.id });
  surviveRefusedWrites();
  const credentials = await loadCredentials(config, identity.id);
  const store = await openLmdbBlockStore({ path: join(config.dataPath, 'blocks'), capacityBytes: config.capacityBytes, log: log.child({ component: 'store' }) });
  const metrics = new NodeMetrics();
  const knownMembers = await loadKnownMembers(config.dataPath);
  let stopRequested: () => void = () => {};
  const signing = await loadSigningKey(config, identity.id, log);
  let started: StorageNode | undefined;
  const moverPool = new ConnectionPool(credentials, { localAddress: config.sourceAddress });
  const mover = signing && new QuorumMover({
    pool: moverPool, members: () => started?.overlay.core.members() ?? [], self: identity.id,
    proposerId: `${identity.id}/repair/${systemEntropy.bytes(8).toString('hex')}`, signer: signing.identity,
    random: new Random(systemEntropy.bytes(16).toString('hex')), now: () => performance.now(), log: log.child({ component: 'quorum-mover' }),
  });
  const trustedKeysFile = join(config.dataPath, TRUSTED_KEYS_FILE);
  const rememberedKeys = existsSync(trustedKeysFile) ? parseRememberedKeys(await readFile(trustedKeysFile, 'utf8')) : [];
  // Written whole each time (a key is added once per node): a rename makes it atomic.
  let keysWrite = Promise.resolve();
  const onNewKeys = (all: readonly NodeKeyCertificate[]): void => {
    keysWrite = keysWrite.then(async () => {
      await writeFile(`${trustedKeysFile}.tmp`, rememberedKeysJson(all));
      await rename(`${trustedKeysFile}.tmp`, trustedKeysFile);
    }).catch((err: unknown) => log.warn({ err: (err as Error).message }, 'repair.trusted_keys_not_saved'));
  };
  const node = await startStorageNode({
    id: identity.id, host: config.host, port: config.port, zone: config.zone, rack: config.rack,
    incarnation: identity.incarnation, credentials, store, log, metrics,
    acceptorStore: await openLmdbAcceptorStore(join(config.dataPath, 'consensus'), {
      onCheckpointFailed: (err) => log.error({ component: 'consensus', err: String((err as Error)?.stack ?? err) }, 'consensus.checkpoint_failed'),
    }),
    clock: new SystemClock(), random: new Random(systemEntropy.bytes(16).toString('hex')), overlay: config.overlay, repair: config.repair,
    onLeft: () => stopRequested(),
    draining: existsSync(join(config.dataPath, DRAINING_FILE)),
    onDrain: () => writeFile(join(config.dataPath, DRAINING_FILE), `${new Date().toISOString()}\n`),
    rememberedKeys, onNewKeys,
    ...(signing && mover ? { quorumMoves: { certificate: signing.certificate, move: (address, current, next) => mover.move(address, current, next) } } : {}),
    ...(config.join === undefined ? {} : { join: config.join }),
    ...(config.advertise === undefined ? {} : { advertise: config.advertise }),
    ...(config.sourceAddress === undefined ? {} : { sourceAddress: config.sourceAddress }),
    ...(knownMembers.length > 0 ? { knownMembers } : {}),
  });
  started = node;
  // Beside the old file, then renamed over it: a write the disk refuses leaves the previous list, not an empty one.
  const membersFile = join(config.dataPath, MEMBERS_FILE);
  const saveMembers = (): Promise<void> => writeFile(`${membersFile}.tmp`, `${JSON.stringify(node.overlay.core.members())}\n`)
    .then(() => rename(`${membersFile}.tmp`, membersFile))
    .catch((err: unknown) => log.warn({ err: (err as Error).message }, 'node.members_not_saved'));
  const saveTimer = setInterval(() => void saveMembers(), MEMBERS_SAVE_INTERVAL_MS);
  saveTimer.unref();
  const metricsServer = config.metricsPort === undefined
    ? undefined
    : await serveMetrics(metrics, config.metricsHost ?? config.host, config.metricsPort, () => node.refreshMetrics());
  if (metricsServer) log.info({ url: `http://${config.metricsHost ?? config.host}:${metricsServer.address.port}/metrics` }, 'node.metrics_serving');
  const stop = async (): Promise<void> => {
    clearInterval(saveTimer);
    await saveMembers();
    metricsServer?.server.close();
    mover?.close();
    moverPool.close();
    await node.close();
  };
  return {
    node,
    stop,
    whenLeft: new Promise<void>((resolve) => {
      stopRequested = () => void stop().then(resolve, resolve);
    }),
  };
}
