// Authenticates a presigned URL (SigV4 in the query string): X-Amz-Expires honoured (at most 7 days, as AWS), the
// signature over every query parameter but X-Amz-Signature, and the payload unsigned unless the URL says otherwise.
import { s3Errors } from '../errors.js';
import type { KeyStore } from '../keys.js';
import { ALGORITHM, canonicalRequest, parseAmzDate, sameSignature, signature, signingKey, stringToSign, UNSIGNED_PAYLOAD } from './canonical-request.js';
import { CLOCK_SKEW_MS_MAX, parseCredential, type Authenticated, type RequestToVerify } from './verify.js';

const PRESIGN_EXPIRES_S_MAX = 7 * 24 * 3600;

export async function verifyPresigned(req: RequestToVerify, keys: KeyStore, nowMs: number): Promise<Authenticated> {
  const q = new Map(req.query);
  const need = (name: string): string => {
    const value = q.get(name);
    if (value === undefined) throw s3Errors.authorizationQueryParametersError(`Query-string authentication requires ${name}.`);
    return value;
  };
  if (need('X-Amz-Algorithm') !== ALGORITHM) throw s3Errors.authorizationQueryParametersError(`X-Amz-Algorithm must be ${ALGORITHM}.`);
  const { keyId, scope } = parseCredential(need('X-Amz-Credential'));
  const amzDate = need('X-Amz-Date');
  const signedMs = parseAmzDate(amzDate);
  if (signedMs === undefined || amzDate.slice(0, 8) !== scope.date) throw s3Errors.authorizationQueryParametersError('X-Amz-Date is malformed or not the credential date.');
  const expiresS = Number(need('X-Amz-Expires'));
  if (!Number.isInteger(expiresS) || expiresS < 1 || expiresS > PRESIGN_EXPIRES_S_MAX) {
    throw s3Errors.authorizationQueryParametersError('X-Amz-Expires must be a whole number of seconds from 1 to 604800.');
  }
  if (signedMs - nowMs > CLOCK_SKEW_MS_MAX) throw s3Errors.accessDenied('Request is not valid yet');
  if (nowMs > signedMs + expiresS * 1000) throw s3Errors.accessDenied('Request has expired');
  const signedHeaders = need('X-Amz-SignedHeaders').split(';');
  if (!signedHeaders.includes('host')) throw s3Errors.authorizationQueryParametersError('the host header must be signed');
  const key = await keys.get(keyId);
  if (key === undefined) throw s3Errors.invalidAccessKeyId();
  const payloadHash = q.get('X-Amz-Content-Sha256') ?? UNSIGNED_PAYLOAD;
  const canonical = canonicalRequest({
    method: req.method, rawPath: req.rawPath, query: req.query.filter(([k]) => k !== 'X-Amz-Signature'), headers: req.headers, signedHeaders, payloadHash,
  });
  const derived = signingKey(key.secret, scope);
  const given = need('X-Amz-Signature');
  if (!sameSignature(signature(derived, stringToSign(amzDate, scope, canonical)), given)) throw s3Errors.signatureDoesNotMatch();
  const payload = payloadHash === UNSIGNED_PAYLOAD ? { kind: 'unsigned' as const } : { kind: 'sha256' as const, hex: payloadHash };
  return { key, payload, signingKey: derived, scope, amzDate, signature: given };
}
