// Decodes a request into one S3Operation value (Garage's router.rs): bucket from the Host (virtual-host style, under
// a configured domain) or the first path segment (path style), key from the rest, operation from method + query.
import { s3Errors } from './errors.js';
import { percentDecode } from './sigv4/canonical-request.js';

export type Query = ReadonlyMap<string, string>;

export type S3Operation =
  | { readonly op: 'ListBuckets' }
  | { readonly op: 'CreateBucket'; readonly bucket: string }
  | { readonly op: 'HeadBucket'; readonly bucket: string }
  | { readonly op: 'DeleteBucket'; readonly bucket: string }
  | { readonly op: 'GetBucketLocation'; readonly bucket: string }
  | { readonly op: 'ListObjects'; readonly bucket: string; readonly query: Query }
  | { readonly op: 'ListObjectsV2'; readonly bucket: string; readonly query: Query }
  | { readonly op: 'DeleteObjects'; readonly bucket: string }
  | { readonly op: 'PutObject'; readonly bucket: string; readonly key: string }
  | { readonly op: 'CopyObject'; readonly bucket: string; readonly key: string; readonly copySource: string }
  | { readonly op: 'GetObject'; readonly bucket: string; readonly key: string; readonly query: Query }
  | { readonly op: 'HeadObject'; readonly bucket: string; readonly key: string; readonly query: Query }
  | { readonly op: 'DeleteObject'; readonly bucket: string; readonly key: string }
  | { readonly op: 'CreateMultipartUpload'; readonly bucket: string; readonly key: string }
  | { readonly op: 'UploadPart'; readonly bucket: string; readonly key: string; readonly uploadId: string; readonly partNumber: string }
  | { readonly op: 'UploadPartCopy'; readonly bucket: string; readonly key: string; readonly uploadId: string; readonly partNumber: string; readonly copySource: string }
  | { readonly op: 'CompleteMultipartUpload'; readonly bucket: string; readonly key: string; readonly uploadId: string }
  | { readonly op: 'AbortMultipartUpload'; readonly bucket: string; readonly key: string; readonly uploadId: string }
  | { readonly op: 'ListParts'; readonly bucket: string; readonly key: string; readonly uploadId: string; readonly query: Query }
  | { readonly op: 'ListMultipartUploads'; readonly bucket: string; readonly query: Query };

export interface RouteInput {
  readonly method: string;
  /** As sent: still percent-encoded. */
  readonly rawPath: string;
  readonly query: ReadonlyArray<readonly [string, string]>;
  readonly host: string | undefined;
  readonly copySource: string | undefined;
}

/** Sub-resources Shoal does not serve yet (partNumber on GET/HEAD too: multipart is served, part reads are not): refused with NotImplemented rather than mistaken for a plain GET/PUT. */
const UNSUPPORTED_SUBRESOURCES = [
  'acl', 'policy', 'cors', 'lifecycle', 'tagging', 'versioning', 'versions', 'website',
  'replication', 'encryption', 'object-lock', 'retention', 'legal-hold', 'notification', 'logging', 'requestPayment', 'accelerate',
  'analytics', 'inventory', 'metrics', 'ownershipControls', 'publicAccessBlock', 'intelligent-tiering', 'restore', 'select', 'attributes', 'torrent',
];

/** `domains`: the endpoint names under which `<bucket>.<domain>` is virtual-host style (e.g. s3.example.com). */
export function routeS3(input: RouteInput, domains: readonly string[]): S3Operation {
  const query: Query = new Map(input.query);
  const hostname = (input.host ?? '').replace(/:\d+$/, '').toLowerCase();
  const domain = domains.find((d) => hostname.endsWith(`.${d.toLowerCase()}`));
  const path = input.rawPath.startsWith('/') ? input.rawPath.slice(1) : input.rawPath;
  let bucket: string;
  let rawKey: string;
  if (domain !== undefined) {
    bucket = hostname.slice(0, hostname.length - domain.length - 1);
    rawKey = path;
  } else {
    const slash = path.indexOf('/');
    bucket = percentDecode(slash < 0 ? path : path.slice(0, slash));
    rawKey = slash < 0 ? '' : path.slice(slash + 1);
  }
  const key = percentDecode(rawKey);
  const method = input.method.toUpperCase();
  const unsupported = UNSUPPORTED_SUBRESOURCES.find((s) => query.has(s));
  if (unsupported !== undefined) throw s3Errors.notImplemented(`The ${unsupported} sub-resource (multipart, ACLs, tagging, …)`);
  if (bucket === '') {
    if (method === 'GET') return { op: 'ListBuckets' };
    throw s3Errors.methodNotAllowed();
  }
  if (key === '') {
    switch (method) {
      case 'PUT': return { op: 'CreateBucket', bucket };
      case 'HEAD': return { op: 'HeadBucket', bucket };
      case 'DELETE': return { op: 'DeleteBucket', bucket };
      case 'POST':
        if (query.has('delete')) return { op: 'DeleteObjects', bucket };
        throw s3Errors.methodNotAllowed();
      case 'GET':
        if (query.has('uploads')) return { op: 'ListMultipartUploads', bucket, query };
        if (query.has('location')) return { op: 'GetBucketLocation', bucket };
        if (query.get('list-type') === '2') return { op: 'ListObjectsV2', bucket, query };
        return { op: 'ListObjects', bucket, query };
      default: throw s3Errors.methodNotAllowed();
    }
  }
  const uploadId = query.get('uploadId');
  if (uploadId !== undefined) {
    switch (method) {
      case 'PUT': {
        const partNumber = query.get('partNumber') ?? '';
        return input.copySource === undefined
          ? { op: 'UploadPart', bucket, key, uploadId, partNumber }
          : { op: 'UploadPartCopy', bucket, key, uploadId, partNumber, copySource: input.copySource };
      }
      case 'POST': return { op: 'CompleteMultipartUpload', bucket, key, uploadId };
      case 'DELETE': return { op: 'AbortMultipartUpload', bucket, key, uploadId };
      case 'GET': return { op: 'ListParts', bucket, key, uploadId, query };
      default: throw s3Errors.methodNotAllowed();
    }
  }
  if (query.has('partNumber')) throw s3Errors.notImplemented('Reading one part of a multipart object (partNumber)');
  switch (method) {
    case 'POST':
      if (query.has('uploads')) return { op: 'CreateMultipartUpload', bucket, key };
      throw s3Errors.methodNotAllowed();
    case 'PUT':
      return input.copySource === undefined ? { op: 'PutObject', bucket, key } : { op: 'CopyObject', bucket, key, copySource: input.copySource };
    case 'GET': return { op: 'GetObject', bucket, key, query };
    case 'HEAD': return { op: 'HeadObject', bucket, key, query };
    case 'DELETE': return { op: 'DeleteObject', bucket, key };
    default: throw s3Errors.methodNotAllowed();
  }
}

/** The bucket an operation names (for the error's Resource), if any. */
export function resourceOf(op: S3Operation): string {
  if (op.op === 'ListBuckets') return '/';
  return 'key' in op ? `/${op.bucket}/${op.key}` : `/${op.bucket}`;
}
