// The real-process setup the S3 integration tests share: three `shoal node run` processes, gateway processes serving
// S3 (and NFS) on free ports, a key from `shoal key create`, and AWS SDK clients for each gateway.
import { S3Client, S3ServiceException } from '@aws-sdk/client-s3';
import { s3PortOf, startGateway, shoal, type GatewayProcess } from '../gateway/gateway-process.js';
import { TestCluster } from '../harness/spawn-cluster.js';

process.env['AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED'] = 'true';

export interface S3Key {
  readonly accessKeyId: string;
  readonly secretAccessKey: string;
  readonly user: string;
}

export interface S3Gateway {
  readonly process: GatewayProcess;
  readonly endpoint: string;
  readonly s3Port: number;
  readonly nfsPort: number;
}

export interface S3TestCluster {
  readonly cluster: TestCluster;
  readonly gateways: readonly S3Gateway[];
  readonly key: S3Key;
  /** An SDK client for a gateway: path-style, one attempt (a retried conditional PUT would count twice). */
  client(gateway: S3Gateway, key?: S3Key): S3Client;
  stop(): Promise<void>;
}


export async function startS3Cluster(options: { gateways: number; user?: string }): Promise<S3TestCluster> {
  const cluster = await TestCluster.start([{ zone: 'a' }, { zone: 'b' }, { zone: 'c' }]);
  const gateways: S3Gateway[] = [];
  const clients: S3Client[] = [];
  try {
    for (let i = 0; i < options.gateways; i++) {
      const gateway = await startGateway(cluster, { name: `gateway-${i}`, extraArgs: ['--s3', '0'] });
      const s3Port = s3PortOf(gateway);
      gateways.push({ process: gateway, endpoint: `http://127.0.0.1:${s3Port}`, s3Port, nfsPort: gateway.nfsPort });
    }
    const key = JSON.parse(await shoal(cluster, 'key', 'create', '--user', options.user ?? 'tester', '--json')) as S3Key;
    return {
      cluster, gateways, key,
      client(gateway, which = key) {
        const client = new S3Client({
          endpoint: gateway.endpoint, region: 'us-east-1', forcePathStyle: true, maxAttempts: 1,
          credentials: { accessKeyId: which.accessKeyId, secretAccessKey: which.secretAccessKey },
        });
        clients.push(client);
        return client;
      },
      async stop() {
        for (const client of clients) client.destroy();
        for (const gateway of gateways) await gateway.process.kill();
        await cluster.stop();
      },
    };
  } catch (err) {
    for (const gateway of gateways) await gateway.process.kill();
    await cluster.stop();
    throw err;
  }
}

/** The S3 error a call failed with (its code and HTTP status); throws if it succeeded or failed otherwise. */
export async function s3ErrorOf(promise: Promise<unknown>): Promise<S3ServiceException> {
  try {
    await promise;
  } catch (err) {
    if (err instanceof S3ServiceException) return err;
    throw err;
  }
  throw new Error('expected an S3 error');
}
