// S3's error vocabulary: one table from ShoalError kinds to S3 codes and statuses, the S3-only errors beside it, and
// the one function (s3ErrorFor) the outermost middleware calls before rendering the XML body.
import { isShoalError, type ErrorKind, type ShoalError } from '../../storage-node/base/errors.js';

/** An error that only S3 knows (signatures, ranges, digests): thrown by the S3 layer, rendered as is. */
export class S3Error extends Error {
  override readonly name = 'S3Error';
  readonly status: number;
  readonly code: string;
  /** Extra response headers (Content-Range of a 416, …). */
  readonly headers: Readonly<Record<string, string>>;

  constructor(status: number, code: string, message: string, headers: Record<string, string> = {}) {
    // awscli 2 crashes on an empty <Message> (MACHINE.md): never let one through.
    super(message === '' ? code : message);
    this.status = status;
    this.code = code;
    this.headers = headers;
  }
}

export interface S3ErrorBody {
  readonly status: number;
  readonly code: string;
  readonly message: string;
  readonly headers: Readonly<Record<string, string>>;
}

/**
 * Codes Shoal adds (AWS has no word for them), documented here as the issue asks:
 * - XShoalKeyConflict (409): the key needs a path that cannot exist, because a key is both an object and a prefix
 *   (`a/b` is an object and `a/b/c` is written, or the reverse); keys map to paths (DESIGN §7).
 * - XShoalStorageFull (507): the cluster has no room for the blocks; retrying will not help.
 */
export const KEY_CONFLICT = 'XShoalKeyConflict';

type Entry = { status: number; code: string } | ((err: ShoalError) => { status: number; code: string });

// The compiler rejects a missing kind (`satisfies`), as gateway/nfs/errors.ts does for NFS statuses.
const KIND_TO_S3 = {
  NotFound: (err) =>
    err.subject === 'volume' ? { status: 404, code: 'NoSuchBucket' }
      : err.subject === 'upload' ? { status: 404, code: 'NoSuchUpload' }
        : { status: 404, code: 'NoSuchKey' },
  Exists: (err) => (err.subject === 'volume' ? { status: 409, code: 'BucketAlreadyOwnedByYou' } : { status: 412, code: 'PreconditionFailed' }),
  NotEmpty: (err) => (err.subject === 'volume' ? { status: 409, code: 'BucketNotEmpty' } : { status: 409, code: KEY_CONFLICT }),
  NotDir: { status: 409, code: KEY_CONFLICT },
  IsDir: { status: 409, code: KEY_CONFLICT },
  // A lost race inside the filesystem that its retries did not absorb: the client may try again.
  Conflict: { status: 409, code: 'OperationAborted' },
  Forbidden: { status: 403, code: 'AccessDenied' },
  // 503 makes every SDK retry with backoff.
  Unavailable: { status: 503, code: 'ServiceUnavailable' },
  Invalid: (err) => (err.subject === 'volume' ? { status: 400, code: 'InvalidBucketName' } : { status: 400, code: 'InvalidArgument' }),
  NoSpace: { status: 507, code: 'XShoalStorageFull' },
  TooLarge: { status: 400, code: 'EntityTooLarge' },
  NameTooLong: { status: 400, code: 'KeyTooLongError' },
  ReadOnly: { status: 403, code: 'AccessDenied' },
  Stale: { status: 404, code: 'NoSuchKey' },
  Timeout: { status: 503, code: 'ServiceUnavailable' },
  Aborted: { status: 400, code: 'IncompleteBody' },
} satisfies Record<ErrorKind, Entry>;

export function s3ErrorFor(err: unknown): S3ErrorBody {
  if (err instanceof S3Error) return { status: err.status, code: err.code, message: err.message, headers: err.headers };
  if (isShoalError(err)) {
    const entry: Entry = KIND_TO_S3[err.kind];
    const { status, code } = typeof entry === 'function' ? entry(err) : entry;
    return { status, code, message: err.message === '' ? code : err.message, headers: {} };
  }
  return { status: 500, code: 'InternalError', message: 'We encountered an internal error. Please try again.', headers: {} };
}

// The S3-only errors, named as AWS names them, so handlers read like the API reference.
export const s3Errors = {
  accessDenied: (message = 'Access Denied') => new S3Error(403, 'AccessDenied', message),
  invalidAccessKeyId: () => new S3Error(403, 'InvalidAccessKeyId', 'The AWS Access Key Id you provided does not exist in our records.'),
  signatureDoesNotMatch: () => new S3Error(403, 'SignatureDoesNotMatch', 'The request signature we calculated does not match the signature you provided. Check your key and signing method.'),
  requestTimeTooSkewed: () => new S3Error(403, 'RequestTimeTooSkewed', 'The difference between the request time and the current time is too large.'),
  authorizationHeaderMalformed: (why: string) => new S3Error(400, 'AuthorizationHeaderMalformed', `The authorization header is malformed: ${why}`),
  authorizationQueryParametersError: (why: string) => new S3Error(400, 'AuthorizationQueryParametersError', why),
  missingSecurityHeader: (header: string) => new S3Error(400, 'MissingSecurityHeader', `Your request is missing the required header ${header}.`),
  xAmzContentSha256Mismatch: () => new S3Error(400, 'XAmzContentSHA256Mismatch', 'The provided x-amz-content-sha256 header does not match what was computed.'),
  badDigest: (message = 'The Content-MD5 you specified did not match what we received.') => new S3Error(400, 'BadDigest', message),
  invalidDigest: () => new S3Error(400, 'InvalidDigest', 'The Content-MD5 you specified is not valid.'),
  invalidArgument: (message: string) => new S3Error(400, 'InvalidArgument', message),
  invalidRequest: (message: string) => new S3Error(400, 'InvalidRequest', message),
  incompleteBody: (message = 'You did not provide the number of bytes specified by the Content-Length HTTP header.') => new S3Error(400, 'IncompleteBody', message),
  entityTooLarge: () => new S3Error(400, 'EntityTooLarge', 'Your proposed upload exceeds the maximum allowed object size.'),
  malformedXml: () => new S3Error(400, 'MalformedXML', 'The XML you provided was not well-formed or did not validate against our published schema.'),
  noSuchKey: () => new S3Error(404, 'NoSuchKey', 'The specified key does not exist.'),
  noSuchBucket: () => new S3Error(404, 'NoSuchBucket', 'The specified bucket does not exist.'),
  preconditionFailed: () => new S3Error(412, 'PreconditionFailed', 'At least one of the pre-conditions you specified did not hold.'),
  invalidRange: (size: number) => new S3Error(416, 'InvalidRange', 'The requested range is not satisfiable.', { 'content-range': `bytes */${size}` }),
  invalidPart: () => new S3Error(400, 'InvalidPart', 'One or more of the specified parts could not be found. The part may not have been uploaded, or the specified entity tag may not match the part\'s entity tag.'),
  invalidPartOrder: () => new S3Error(400, 'InvalidPartOrder', 'The list of parts was not in ascending order. Parts must be ordered by part number.'),
  entityTooSmall: () => new S3Error(400, 'EntityTooSmall', 'Your proposed upload is smaller than the minimum allowed object size.'),
  keyConflict: (message: string) => new S3Error(409, KEY_CONFLICT, message),
  notImplemented: (what: string) => new S3Error(501, 'NotImplemented', `${what} is not implemented by Shoal yet.`),
  methodNotAllowed: () => new S3Error(405, 'MethodNotAllowed', 'The specified method is not allowed against this resource.'),
} as const;
