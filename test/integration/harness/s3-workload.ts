// An S3 and NFS workload for fault runs, through a real gateway process: PUTs of fresh keys, DELETEs of some
// acknowledged ones and GETs with the AWS SDK, and files written over NFS (FILE_SYNC) into the same volume, recording
// every acknowledged operation; `check()` then reads back every acknowledged object and NFS-written file through S3
// byte for byte and expects every acknowledged delete to stay deleted.
import { createHash } from 'node:crypto';
import { CreateBucketCommand, DeleteObjectCommand, GetObjectCommand, NoSuchKey, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { Random, SeededEntropy } from '../../../storage-node/base/random.js';
import { s3PortOf, shoal, startGateway, type GatewayProcess } from '../gateway/gateway-process.js';
import { NfsWriter } from './nfs-writer.js';
import type { TestCluster } from './spawn-cluster.js';

const BUCKET = 'faults';
const md5 = (data: Uint8Array): string => createHash('md5').update(data).digest('hex');

export class S3Workload {
  readonly #gateway: GatewayProcess;
  readonly #client: S3Client;
  readonly #nfs: NfsWriter;
  readonly #random: Random;
  readonly #entropy: SeededEntropy;
  /** Acknowledged PUTs not since deleted: key → md5. */
  readonly #objects = new Map<string, string>();
  readonly #deleted = new Set<string>();
  #running = false;
  #loop: Promise<void> | undefined;
  puts = 0;
  deletes = 0;
  failures = 0;

  private constructor(gateway: GatewayProcess, client: S3Client, nfsPort: number, seed: string) {
    this.#gateway = gateway;
    this.#client = client;
    this.#nfs = new NfsWriter(nfsPort, `/${BUCKET}`, seed);
    this.#random = new Random(`s3/${seed}`);
    this.#entropy = new SeededEntropy(this.#random.fork('entropy'));
  }

  static async start(cluster: TestCluster, seed: string): Promise<S3Workload> {
    process.env['AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED'] = 'true';
    const gateway = await startGateway(cluster, { name: 'fault-gateway', extraArgs: ['--s3', '0'] });
    try {
      const key = JSON.parse(await shoal(cluster, 'key', 'create', '--user', 'faults', '--json')) as { accessKeyId: string; secretAccessKey: string };
      const port = s3PortOf(gateway);
      const nfsPort = gateway.nfsPort;
      const client = new S3Client({
        endpoint: `http://127.0.0.1:${port}`, region: 'us-east-1', forcePathStyle: true, maxAttempts: 2,
        credentials: { accessKeyId: key.accessKeyId, secretAccessKey: key.secretAccessKey },
      });
      await client.send(new CreateBucketCommand({ Bucket: BUCKET }));
      return new S3Workload(gateway, client, nfsPort, seed);
    } catch (err) {
      await gateway.kill();
      throw err;
    }
  }

  /** Acknowledged NFS-written files, and NFS calls that failed. */
  get nfs(): { readonly files: number; readonly failures: number } {
    return { files: this.#nfs.written.size, failures: this.#nfs.failures };
  }

  /** `workers` S3 clients' worth of requests at once, each on its own keys, and one NFS writer. */
  run(workers = 4): void {
    this.#running = true;
    const nfs = this.#nfs.run(() => this.#running);
    this.#loop = Promise.all([nfs, ...Array.from({ length: workers }, async (_, worker) => {
      for (let i = 0; this.#running; i++) {
        try {
          if (this.#objects.size > 4 && this.#random.bool(0.2)) await this.#deleteOne();
          else await this.#putOne(`obj/${worker}/${i}`);
        } catch {
          // Not acknowledged: the object may or may not exist, and it is not checked.
          this.failures++;
          await new Promise((resolve) => setTimeout(resolve, 100));
        }
      }
    })]).then(() => undefined);
  }

  async stop(): Promise<void> {
    this.#running = false;
    await this.#loop;
  }

  /** Every acknowledged object reads back with its bytes, every acknowledged delete is still gone: what failed. */
  async check(): Promise<string[]> {
    const lost: string[] = [];
    for (const [key, digest] of this.#objects) {
      try {
        const got = await this.#client.send(new GetObjectCommand({ Bucket: BUCKET, Key: key }));
        const bytes = await got.Body?.transformToByteArray();
        if (bytes === undefined || md5(bytes) !== digest) lost.push(`s3 ${key}: different bytes`);
      } catch (err) {
        lost.push(`s3 ${key}: ${(err as Error).name} ${(err as Error).message}`);
      }
    }
    for (const [name, digest] of this.#nfs.written) {
      try {
        const got = await this.#client.send(new GetObjectCommand({ Bucket: BUCKET, Key: name }));
        const bytes = await got.Body?.transformToByteArray();
        if (bytes === undefined || md5(bytes) !== digest) lost.push(`nfs ${name}: different bytes over S3`);
        if (got.ETag !== `"${digest}"`) lost.push(`nfs ${name}: ETag ${got.ETag}, not the MD5`);
      } catch (err) {
        lost.push(`nfs ${name}: ${(err as Error).name} ${(err as Error).message}`);
      }
    }
    for (const key of this.#deleted) {
      const outcome = await this.#client.send(new GetObjectCommand({ Bucket: BUCKET, Key: key })).then(() => 'still there', (err: unknown) => (err instanceof NoSuchKey ? 'gone' : String(err)));
      if (outcome !== 'gone') lost.push(`s3 ${key}: deleted, but ${outcome}`);
    }
    return lost;
  }

  async close(): Promise<void> {
    this.#client.destroy();
    await this.#gateway.kill();
  }

  async #putOne(key: string): Promise<void> {
    const body = this.#entropy.bytes(4096 + this.#random.int(60 * 1024));
    await this.#client.send(new PutObjectCommand({ Bucket: BUCKET, Key: key, Body: body }));
    this.#objects.set(key, md5(body));
    this.puts++;
  }

  async #deleteOne(): Promise<void> {
    const keys = [...this.#objects.keys()];
    const key = keys[this.#random.int(keys.length)]!;
    // Unknown outcome (an error): neither present nor deleted is promised, so the key leaves both lists first.
    this.#objects.delete(key);
    await this.#client.send(new DeleteObjectCommand({ Bucket: BUCKET, Key: key }));
    this.#deleted.add(key);
    this.deletes++;
  }
}
