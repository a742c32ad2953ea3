// Composition root of a gateway: a ClusterClient with the gateway's certificate and the admin identity as the owner of
// the volumes, the volumes as FileSystems, NFSv3 + MOUNT on one RPC server, a portmapper when it may bind, S3 (with
// the access keys kept in the cluster) when asked, pino logs.
// Stopping commits every gathered write before the connections close.
import type { AddressInfo } from 'node:net';
import { SystemClock } from '../storage-node/base/clock.js';
import { clientCredentials, readAdminIdentity } from '../storage-node/cli/cluster-dir.js';
import { ClusterClient } from '../storage-node/client/cluster-client.js';
import { createLogger } from '../storage-node/main.js';
import { systemEntropy } from '../storage-node/system.js';
import type { GatewayConfig } from './config.js';
import { ClusterFsBlocks } from './fs/fs-blocks.js';
import { FS_LIMITS_DEFAULT } from './fs/fs-limits.js';
import { Volumes } from './fs/volume.js';
import { mountProgram } from './mount/mount-program.js';
import { ExportsCatalogue } from './nfs/exports.js';
import { NfsContext, newWriteVerifier } from './nfs/nfs-context.js';
import { nfsProgram } from './nfs/nfs-program.js';
import { startPortmap } from './portmap/portmap-program.js';
import { RpcServer } from './rpc/rpc-server.js';
import { startS3Server, type S3Server } from './s3/app.js';
import { ClusterKeyStore } from './s3/cluster-keys.js';

export interface RunningGateway {
  readonly nfs: AddressInfo;
  readonly portmap: AddressInfo | undefined;
  /** The S3 port, when serving S3. */
  readonly s3Port: number | undefined;
  /** Commits every gathered write, then closes the listeners and the cluster connections. */
  stop(): Promise<void>;
}

export async function runGateway(config: GatewayConfig): Promise<RunningGateway> {
  const log = createLogger(config.logLevel, { gateway: config.name });
  const clock = new SystemClock();
  const owner = await readAdminIdentity(config.clusterDir);
  const client = await ClusterClient.connect({
    credentials: await clientCredentials(config.clusterDir, config.name, 'gateway'),
    seeds: config.seeds, owner, entropy: systemEntropy, log: log.child({ component: 'client' }),
    ...(config.zone === undefined ? {} : { zone: config.zone }),
  });
  const blocks = new ClusterFsBlocks(client, owner, systemEntropy);
  const volumes = new Volumes({ blocks, clock, limits: FS_LIMITS_DEFAULT, owner: owner.publicKey });
  const exports = new ExportsCatalogue({ blocks, clock, refreshMs: config.exportsRefreshMs });
  // RFC 1813 §3.3.7: a new verifier at every start, so clients resend the unstable writes a restart lost.
  const nfs = new NfsContext({ volumes, writeVerifier: newWriteVerifier(systemEntropy), log: log.child({ component: 'nfs' }), exports });
  const server = new RpcServer({ log: log.child({ component: 'rpc' }) }).register(nfsProgram(nfs)).register(mountProgram(nfs));
  let nfsAddress: AddressInfo;
  try {
    nfsAddress = await server.listen({ host: config.listenHost, port: config.nfsPort });
  } catch (err) {
    client.close();
    throw err;
  }
  let portmap: RpcServer | undefined;
  if (config.portmapPort === undefined) {
    log.info({ reason: 'not asked (--portmap)' }, 'gateway.portmap_off');
  } else {
    try {
      portmap = await startPortmap({ host: config.listenHost, port: config.portmapPort, servers: [server], log });
    } catch (err) {
      // EACCES without root, EADDRINUSE beside rpcbind: clients then name the ports (port=,mountport=).
      log.warn({ port: config.portmapPort, reason: (err as NodeJS.ErrnoException).code ?? (err as Error).message }, 'gateway.portmap_off');
    }
  }
  let s3: S3Server | undefined;
  if (config.s3Port !== undefined) {
    try {
      const keys = new ClusterKeyStore({ blocks, clock, refreshMs: config.keysRefreshMs });
      s3 = await startS3Server({
        host: config.listenHost, port: config.s3Port, volumes, keys, clock, log: log.child({ component: 's3' }), domains: config.s3Domains,
      });
    } catch (err) {
      await portmap?.close();
      await server.close();
      client.close();
      throw err;
    }
  }
  const portmapAddress = portmap?.address();
  log.info({
    nfs: `${nfsAddress.address}:${nfsAddress.port}`, nfsPort: nfsAddress.port, mountPort: nfsAddress.port,
    ...(portmapAddress === undefined ? {} : { portmapPort: portmapAddress.port }),
    ...(s3 === undefined ? {} : { s3Port: s3.port, s3Endpoint: `http://${config.listenHost}:${s3.port}`, s3Domains: config.s3Domains }),
  }, 'gateway.serving');

  let stopping: Promise<void> | undefined;
  const stop = (): Promise<void> => {
    stopping ??= (async () => {
      log.info({}, 'gateway.stopping');
      // No new calls first; then what clients wrote UNSTABLE and did not COMMIT is stored all the same.
      await portmap?.close();
      await s3?.close();
      await server.close();
      try {
        await nfs.commitAll();
      } catch (err) {
        log.error({ err: (err as Error).message }, 'gateway.commit_failed');
      }
      await client.settled();
      // The proposer flushes its last messages on the next turn of the event loop (see cli/commands/volume.ts).
      await new Promise((resolve) => setImmediate(resolve));
      client.close();
      log.info({}, 'gateway.stopped');
    })();
    return stopping;
  };
  return { nfs: nfsAddress, portmap: portmapAddress, s3Port: s3?.port, stop };
}
