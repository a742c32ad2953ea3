// A request body as the bytes the client meant: aws-chunked decoded, and at its end every promise about it checked
// (x-amz-content-sha256, x-amz-checksum-* header or trailer, x-amz-decoded-content-length). The iteration throws on a
// broken promise after the last piece, so a handler publishes only once the loop has ended cleanly.
import { createHash } from 'node:crypto';
import { S3Error, s3Errors } from './errors.js';
import { decodeAwsChunked } from './sigv4/aws-chunked.js';
import { createChecksum, isChecksumAlgorithm, type Checksum } from './sigv4/checksums.js';
import { header, type Authenticated, type RequestToVerify } from './sigv4/verify.js';

/** Bodies read whole (DeleteObjects, CreateBucket configuration) are at most this big. */
export const SMALL_BODY_BYTES_MAX = 2 * 1024 * 1024;

export async function* requestPayload(source: AsyncIterable<Buffer>, req: RequestToVerify, auth: Authenticated): AsyncGenerator<Buffer> {
  const p = auth.payload;
  let trailers: ReadonlyMap<string, string> = new Map();
  const body = p.kind === 'aws-chunked'
    ? decodeAwsChunked(source, {
      trailer: p.trailer,
      onTrailers: (t) => { trailers = t; },
      ...(p.signed ? { signing: { signingKey: auth.signingKey, scope: auth.scope, amzDate: auth.amzDate, seedSignature: auth.signature } } : {}),
    })
    : source;
  const sha256 = p.kind === 'sha256' ? createHash('sha256') : undefined;
  // The checksum named by a header (value given up front) or announced by x-amz-trailer (value at the end).
  const trailerName = header(req.headers, 'x-amz-trailer')?.trim().toLowerCase();
  const headerChecksum = [...Object.keys(req.headers)].find((h) => h.startsWith('x-amz-checksum-') && isChecksumAlgorithm(h.slice('x-amz-checksum-'.length)));
  const checksumName = headerChecksum ?? (trailerName?.startsWith('x-amz-checksum-') ? trailerName : undefined);
  const algorithm = checksumName?.slice('x-amz-checksum-'.length);
  if (checksumName !== undefined && (algorithm === undefined || !isChecksumAlgorithm(algorithm))) {
    throw s3Errors.invalidRequest(`${checksumName} is not a checksum Shoal knows`);
  }
  const checksum: Checksum | undefined = algorithm === undefined || !isChecksumAlgorithm(algorithm) ? undefined : createChecksum(algorithm);
  let bytes = 0;
  for await (const piece of body) {
    sha256?.update(piece);
    checksum?.update(piece);
    bytes += piece.length;
    yield piece;
  }
  if (sha256 !== undefined && p.kind === 'sha256' && sha256.digest('hex') !== p.hex) throw s3Errors.xAmzContentSha256Mismatch();
  const decodedLength = header(req.headers, 'x-amz-decoded-content-length');
  if (p.kind === 'aws-chunked' && decodedLength !== undefined && Number(decodedLength) !== bytes) {
    throw s3Errors.incompleteBody(`x-amz-decoded-content-length is ${decodedLength} but the body held ${bytes} bytes`);
  }
  if (checksum !== undefined && checksumName !== undefined) {
    const expected = headerChecksum !== undefined ? header(req.headers, headerChecksum) : trailers.get(checksumName);
    if (expected === undefined) throw s3Errors.invalidRequest(`the trailer ${checksumName} was announced but not sent`);
    if (checksum.digest() !== expected) throw new S3Error(400, 'BadDigest', `The ${algorithm} you specified did not match the calculated checksum.`);
  }
}

/** The whole body of a small request (XML), checked like any other. */
export async function readSmallPayload(source: AsyncIterable<Buffer>, req: RequestToVerify, auth: Authenticated): Promise<Buffer> {
  const pieces: Buffer[] = [];
  let bytes = 0;
  for await (const piece of requestPayload(source, req, auth)) {
    bytes += piece.length;
    if (bytes > SMALL_BODY_BYTES_MAX) throw s3Errors.invalidRequest(`this request's body is at most ${SMALL_BODY_BYTES_MAX} bytes`);
    pieces.push(piece);
  }
  return Buffer.concat(pieces);
}
