// The S3 gateway on Koa: the outermost middleware renders every error once as S3 XML, the next authenticates (SigV4),
// the router turns the request into an S3Operation, and one switch runs it against the bucket's filesystem.
import { randomBytes } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import Koa from 'koa';
import Router from 'koa-router';
import type { Clock } from '../../storage-node/base/clock.js';
import type { Logger } from '../../storage-node/base/log.js';
import type { FileSystem } from '../fs/filesystem.js';
import type { Volumes } from '../fs/volume.js';
import { s3ErrorFor, s3Errors } from './errors.js';
import { deleteObject, deleteObjects } from './handlers/delete-object.js';
import { getObject } from './handlers/get-object.js';
import { deleteBucket, listBuckets } from './handlers/buckets.js';
import { listObjects } from './handlers/list-objects.js';
import { completeUpload, createUpload, listParts, listUploads, openUpload, parsePartNumber, putPart, removeUpload } from './handlers/multipart.js';
import { storeObject, writeConditions } from './handlers/put-object.js';
import { answerWhileWorking } from './keep-alive.js';
import { headersToStore, statObject } from './key-path.js';
import { callerOf, type KeyStore } from './keys.js';
import { readSmallPayload, requestPayload } from './payload.js';
import { resourceOf, routeS3, type S3Operation } from './router.js';
import { parseQuery, percentDecode } from './sigv4/canonical-request.js';
import { authenticate, type Authenticated, type RequestToVerify } from './sigv4/verify.js';
import { renderXml } from './xml.js';

/** CompleteMultipartUpload copies the parts; past this it answers 200 at once and keeps the connection alive. */
const COMPLETE_FIRST_BYTE_MS = 5_000;
/** Well under awscli's and the SDKs' 60 s read timeouts. */
const COMPLETE_KEEP_ALIVE_MS = 10_000;

export interface S3Options {
  readonly volumes: Volumes;
  readonly keys: KeyStore;
  readonly log: Logger;
  readonly clock: Clock;
  /** The region clients sign for and GetBucketLocation answers (any region is accepted when signing). */
  readonly region?: string;
  /** Endpoint names under which `<bucket>.<domain>` addresses a bucket (virtual-host style). */
  readonly domains?: readonly string[];
}

interface S3State {
  requestId: string;
  resource: string;
}

/** Open filesystems by bucket, reused while the bucket's root is the same (caches and write gathering live there). */
class BucketCache {
  readonly #open = new Map<string, { root: string; fs: FileSystem }>();
  constructor(readonly volumes: Volumes) {}

  async fs(bucket: string): Promise<FileSystem> {
    const settings = await this.volumes.inspect(bucket);
    const root = settings.root.toString('hex');
    const cached = this.#open.get(bucket);
    if (cached !== undefined && cached.root === root) return cached.fs;
    const { fs } = await this.volumes.open(bucket);
    this.#open.set(bucket, { root, fs });
    return fs;
  }
}

export function createS3App(options: S3Options): Koa<S3State> {
  const app = new Koa<S3State>();
  const router = new Router<S3State>();
  const buckets = new BucketCache(options.volumes);
  const domains = options.domains ?? [];
  const region = options.region ?? 'us-east-1';

  // Outermost: every failure below becomes one S3 XML error; after the headers went out, only closing is honest.
  app.use(async (ctx, next) => {
    ctx.state.requestId = randomBytes(8).toString('hex').toUpperCase();
    ctx.state.resource = ctx.path;
    ctx.set('x-amz-request-id', ctx.state.requestId);
    try {
      await next();
    } catch (err) {
      const e = s3ErrorFor(err);
      if (e.status >= 500) options.log.error({ err, requestId: ctx.state.requestId, path: ctx.path }, 's3.request-failed');
      else options.log.debug({ code: e.code, requestId: ctx.state.requestId, path: ctx.path }, 's3.request-refused');
      if (ctx.headerSent || ctx.res.headersSent) {
        ctx.req.socket.destroy();
        return;
      }
      ctx.status = e.status;
      for (const [name, value] of Object.entries(e.headers)) ctx.set(name, value);
      ctx.type = 'application/xml';
      ctx.body = renderXml('Error', { Code: e.code, Message: e.message, Resource: ctx.state.resource, RequestId: ctx.state.requestId }, { xmlns: false });
    }
  });

  router.all(/.*/, async (ctx) => {
    const rawUrl = ctx.req.url ?? '/';
    const q = rawUrl.indexOf('?');
    const req: RequestToVerify = {
      method: ctx.method,
      rawPath: q < 0 ? rawUrl : rawUrl.slice(0, q),
      query: parseQuery(q < 0 ? '' : rawUrl.slice(q + 1)),
      headers: ctx.req.headers as RequestToVerify['headers'],
    };
    const copySource = ctx.get('x-amz-copy-source');
    const op = routeS3({ method: req.method, rawPath: req.rawPath, query: req.query, host: ctx.get('host') || undefined, copySource: copySource === '' ? undefined : copySource }, domains);
    ctx.state.resource = resourceOf(op);
    const auth = await authenticate(req, options.keys, options.clock.wallMs());
    const header = (name: string): string | undefined => {
      const v = ctx.get(name);
      return v === '' ? undefined : v;
    };
    await run(op, auth, req, header);

    async function run(op: S3Operation, auth: Authenticated, req: RequestToVerify, header: (name: string) => string | undefined): Promise<void> {
      const xml = (root: string, body: Record<string, unknown>) => {
        ctx.type = 'application/xml';
        ctx.body = renderXml(root, body);
      };
      const drain = () => readSmallPayload(ctx.req, req, auth);
      // An empty 200: left unset, Koa would send "OK", which awscli tries to parse as XML.
      const emptyOk = (): void => {
        ctx.status = 200;
        ctx.body = '';
      };
      // The filesystem identity of the key (root for an admin key): its mode bits decide, as for an NFS client.
      const caller = callerOf(auth.key);
      switch (op.op) {
        case 'ListBuckets':
          return xml('ListAllMyBucketsResult', await listBuckets(options.volumes, auth.key.user));
        case 'CreateBucket':
          await drain(); // a CreateBucketConfiguration names a region; every bucket lives in this cluster
          // The bucket's root directory belongs to the key that made it.
          await options.volumes.create(op.bucket, caller.uid === 0 ? {} : { uid: caller.uid, gid: caller.gid });
          ctx.set('location', `/${op.bucket}`);
          emptyOk();
          return;
        case 'HeadBucket':
          await buckets.fs(op.bucket);
          emptyOk();
          ctx.set('x-amz-bucket-region', region);
          return;
        case 'DeleteBucket':
          await deleteBucket(options.volumes, await buckets.fs(op.bucket), op.bucket);
          ctx.status = 204;
          return;
        case 'GetBucketLocation':
          await buckets.fs(op.bucket);
          // us-east-1 is answered as an empty LocationConstraint, as AWS does.
          return xml('LocationConstraint', region === 'us-east-1' ? {} : { '#text': region });
        case 'ListObjects':
        case 'ListObjectsV2':
          return xml('ListBucketResult', await listObjects(await buckets.fs(op.bucket), op.bucket, op.query, op.op === 'ListObjects' ? 1 : 2, caller));
        case 'DeleteObjects': {
          const fs = await buckets.fs(op.bucket);
          const result = await deleteObjects(fs, await drain(), caller);
          return xml('DeleteResult', { ...result });
        }
        case 'PutObject': {
          const fs = await buckets.fs(op.bucket);
          const contentMd5 = header('content-md5');
          const stored = await storeObject(fs, op.key, requestPayload(ctx.req, req, auth), {
            ...writeConditions(header), headers: headersToStore(req.headers), uploadId: randomBytes(12).toString('hex'), caller,
            ...(contentMd5 === undefined ? {} : { contentMd5 }),
          });
          ctx.set('etag', `"${stored.etag}"`);
          emptyOk();
          return;
        }
        case 'CopyObject': {
          await drain();
          const source = parseCopySource(op.copySource);
          const sourceFs = await buckets.fs(source.bucket);
          const fs = await buckets.fs(op.bucket);
          const directive = (header('x-amz-metadata-directive') ?? 'COPY').toUpperCase();
          if (directive !== 'COPY' && directive !== 'REPLACE') throw s3Errors.invalidArgument('x-amz-metadata-directive is COPY or REPLACE');
          if (source.bucket === op.bucket && source.key === op.key && directive === 'COPY') {
            throw s3Errors.invalidRequest('This copy request is illegal because it is trying to copy an object to itself without changing the object\'s metadata, storage class, website redirect location or encryption attributes.');
          }
          const info = await statObject(sourceFs, source.key, caller);
          const read = await getObject(sourceFs, source.key, (name) => (name.startsWith('if-') ? header(`x-amz-copy-source-${name}`) : undefined), new Map(), true, caller);
          if (read.status === 304) throw s3Errors.preconditionFailed();
          const headers = directive === 'COPY' ? info.headers : headersToStore(req.headers);
          const stored = await storeObject(fs, op.key, read.body ?? emptyBody(), { ...writeConditions(header), headers, uploadId: randomBytes(12).toString('hex'), caller });
          return xml('CopyObjectResult', { ETag: `"${stored.etag}"`, LastModified: new Date(stored.attrs.mtimeMs).toISOString() });
        }
        case 'GetObject':
        case 'HeadObject': {
          const fs = await buckets.fs(op.bucket);
          const result = await getObject(fs, op.key, header, op.query, op.op === 'GetObject', caller);
          ctx.status = result.status;
          for (const [name, value] of Object.entries(result.headers)) ctx.set(name, value);
          if (result.body !== undefined) {
            ctx.body = result.body;
            ctx.length = Number(result.headers['content-length']); // Koa drops the length when a stream is set
          } else if (op.op === 'GetObject' && result.status !== 304) {
            ctx.body = Buffer.alloc(0);
          }
          // HEAD and 304: no body assigned, so Koa keeps the headers set above (a null body would strip them).
          return;
        }
        case 'DeleteObject': {
          const fs = await buckets.fs(op.bucket);
          await deleteObject(fs, op.key, caller);
          ctx.status = 204;
          return;
        }
        case 'CreateMultipartUpload': {
          await drain();
          const uploadId = randomBytes(16).toString('hex');
          await createUpload(await buckets.fs(op.bucket), op.key, headersToStore(req.headers), uploadId, options.clock.wallMs());
          return xml('InitiateMultipartUploadResult', { Bucket: op.bucket, Key: op.key, UploadId: uploadId });
        }
        case 'UploadPart': {
          const partNumber = parsePartNumber(op.partNumber);
          const fs = await buckets.fs(op.bucket);
          const upload = await openUpload(fs, op.key, op.uploadId);
          const part = await putPart(fs, upload, partNumber, requestPayload(ctx.req, req, auth), { tempId: randomBytes(12).toString('hex'), contentMd5: header('content-md5') });
          ctx.set('etag', `"${part.etag}"`);
          emptyOk();
          return;
        }
        case 'UploadPartCopy': {
          await drain();
          const partNumber = parsePartNumber(op.partNumber);
          const fs = await buckets.fs(op.bucket);
          const upload = await openUpload(fs, op.key, op.uploadId);
          const source = parseCopySource(op.copySource);
          const sourceFs = await buckets.fs(source.bucket);
          const read = await getObject(sourceFs, source.key, (name) => {
            if (name === 'range') return header('x-amz-copy-source-range');
            return name.startsWith('if-') ? header(`x-amz-copy-source-${name}`) : undefined;
          }, new Map(), true);
          if (read.status === 304) throw s3Errors.preconditionFailed();
          const part = await putPart(fs, upload, partNumber, read.body ?? emptyBody(), { tempId: randomBytes(12).toString('hex') });
          return xml('CopyPartResult', { ETag: `"${part.etag}"`, LastModified: new Date(part.mtimeMs).toISOString() });
        }
        case 'CompleteMultipartUpload': {
          const fs = await buckets.fs(op.bucket);
          const upload = await openUpload(fs, op.key, op.uploadId);
          const parts = await drain();
          const completing = completeUpload(fs, upload, parts, randomBytes(12).toString('hex'), writeConditions(header), caller).then((done) =>
            renderXml('CompleteMultipartUploadResult', { Location: `/${op.bucket}/${op.key}`, Bucket: op.bucket, Key: op.key, ETag: `"${done.etag}"` }));
          const answer = await answerWhileWorking(completing, {
            clock: options.clock, firstByteMs: COMPLETE_FIRST_BYTE_MS, intervalMs: COMPLETE_KEEP_ALIVE_MS,
            errorDocument: (err) => {
              const e = s3ErrorFor(err);
              options.log.error({ err, requestId: ctx.state.requestId, path: ctx.path, code: e.code }, 's3.complete-failed-after-200');
              return renderXml('Error', { Code: e.code, Message: e.message, Resource: ctx.state.resource, RequestId: ctx.state.requestId }, { xmlns: false }).replace(/^<\?xml[^>]*>\n/, '');
            },
          });
          ctx.type = 'application/xml';
          ctx.body = answer.kind === 'done' ? answer.document : answer.body;
          return;
        }
        case 'AbortMultipartUpload': {
          const fs = await buckets.fs(op.bucket);
          await removeUpload(fs, await openUpload(fs, op.key, op.uploadId));
          ctx.status = 204;
          return;
        }
        case 'ListParts': {
          const fs = await buckets.fs(op.bucket);
          return xml('ListPartsResult', await listParts(fs, op.bucket, await openUpload(fs, op.key, op.uploadId), op.query, auth.key.user));
        }
        case 'ListMultipartUploads':
          return xml('ListMultipartUploadsResult', await listUploads(await buckets.fs(op.bucket), op.bucket, op.query, auth.key.user));
      }
    }
  });
  app.use(router.routes());
  return app;
}

async function* emptyBody(): AsyncGenerator<Buffer> {}

/** `bucket/key` or `/bucket/key`, URL-encoded, maybe with `?versionId=` (versions are not kept yet). */
function parseCopySource(value: string): { bucket: string; key: string } {
  const [path = ''] = value.split('?');
  const trimmed = percentDecode(path.startsWith('/') ? path.slice(1) : path);
  const slash = trimmed.indexOf('/');
  if (slash <= 0 || slash === trimmed.length - 1) throw s3Errors.invalidArgument('x-amz-copy-source must be bucket/key');
  return { bucket: trimmed.slice(0, slash), key: trimmed.slice(slash + 1) };
}

export interface S3Server {
  readonly port: number;
  close(): Promise<void>;
}

export async function startS3Server(options: S3Options & { host: string; port: number }): Promise<S3Server> {
  const app = createS3App(options);
  const server = app.listen({ host: options.host, port: options.port });
  await new Promise<void>((resolve, reject) => {
    server.once('listening', resolve);
    server.once('error', reject);
  });
  // Slow or stalled clients must not hold sockets forever.
  server.requestTimeout = 15 * 60 * 1000;
  server.headersTimeout = 60 * 1000;
  const port = (server.address() as AddressInfo).port;
  options.log.info({ host: options.host, port }, 's3.listening');
  return {
    port,
    close: () => new Promise<void>((resolve) => {
      server.close(() => resolve());
      server.closeAllConnections();
    }),
  };
}
