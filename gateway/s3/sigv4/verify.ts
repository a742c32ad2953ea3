// Authenticates a request signed in its Authorization header (AWS4-HMAC-SHA256): parses the header, checks the clock
// skew, rebuilds the canonical request and compares signatures; says how the payload must then be checked.
import { s3Errors } from '../errors.js';
import type { AccessKey, KeyStore } from '../keys.js';
import {
  ALGORITHM, canonicalRequest, parseAmzDate, sameSignature, signature, signingKey, stringToSign, UNSIGNED_PAYLOAD,
  type Scope,
} from './canonical-request.js';
import { verifyPresigned } from './presigned.js';

/** AWS refuses requests whose time is more than 15 minutes from its own. */
export const CLOCK_SKEW_MS_MAX = 15 * 60 * 1000;

export const STREAMING_SIGNED = 'STREAMING-AWS4-HMAC-SHA256-PAYLOAD';
export const STREAMING_SIGNED_TRAILER = 'STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER';
export const STREAMING_UNSIGNED_TRAILER = 'STREAMING-UNSIGNED-PAYLOAD-TRAILER';

/** What the body must still prove once it has arrived. */
export type PayloadCheck =
  | { readonly kind: 'unsigned' }
  | { readonly kind: 'sha256'; readonly hex: string }
  | { readonly kind: 'aws-chunked'; readonly signed: boolean; readonly trailer: boolean };

export interface RequestToVerify {
  readonly method: string;
  readonly rawPath: string;
  readonly query: ReadonlyArray<readonly [string, string]>;
  /** Lowercase names, as Node gives them. */
  readonly headers: Readonly<Record<string, string | readonly string[] | undefined>>;
}

export interface Authenticated {
  readonly key: AccessKey;
  readonly payload: PayloadCheck;
  readonly signingKey: Buffer;
  readonly scope: Scope;
  readonly amzDate: string;
  /** The request's signature: the seed of an aws-chunked signature chain. */
  readonly signature: string;
}

/** Header auth, query (presigned) auth, or AccessDenied for an anonymous request (no anonymous access yet). */
export async function authenticate(req: RequestToVerify, keys: KeyStore, nowMs: number): Promise<Authenticated> {
  const authorization = header(req.headers, 'authorization');
  if (authorization !== undefined) return verifyHeaderAuth(req, authorization, keys, nowMs);
  if (req.query.some(([k]) => k === 'X-Amz-Signature')) return verifyPresigned(req, keys, nowMs);
  throw s3Errors.accessDenied('Anonymous requests are not allowed: sign the request with an access key.');
}

export function header(headers: RequestToVerify['headers'], name: string): string | undefined {
  const value = headers[name];
  return typeof value === 'string' ? value : value?.join(',');
}

export interface ParsedAuthorization {
  readonly keyId: string;
  readonly scope: Scope;
  readonly signedHeaders: string[];
  readonly signature: string;
}

/** `AWS4-HMAC-SHA256 Credential=id/date/region/s3/aws4_request, SignedHeaders=a;b, Signature=hex` */
export function parseAuthorization(value: string): ParsedAuthorization {
  const space = value.indexOf(' ');
  if (space < 0 || value.slice(0, space) !== ALGORITHM) throw s3Errors.authorizationHeaderMalformed(`only ${ALGORITHM} is supported`);
  const fields = new Map<string, string>();
  for (const part of value.slice(space + 1).split(',')) {
    const at = part.indexOf('=');
    if (at > 0) fields.set(part.slice(0, at).trim(), part.slice(at + 1).trim());
  }
  const credential = fields.get('Credential');
  const signed = fields.get('SignedHeaders');
  const sig = fields.get('Signature');
  if (credential === undefined || signed === undefined || sig === undefined) {
    throw s3Errors.authorizationHeaderMalformed('Credential, SignedHeaders and Signature are required');
  }
  return { ...parseCredential(credential), signedHeaders: signed.split(';'), signature: sig };
}

export function parseCredential(credential: string): { keyId: string; scope: Scope } {
  const parts = credential.split('/');
  const [keyId, date, region, service, terminator] = parts;
  if (parts.length !== 5 || keyId === undefined || date === undefined || region === undefined || service === undefined || terminator !== 'aws4_request' || !/^\d{8}$/.test(date)) {
    throw s3Errors.authorizationHeaderMalformed(`the credential "${credential}" is not id/yyyymmdd/region/service/aws4_request`);
  }
  return { keyId, scope: { date, region, service } };
}

async function verifyHeaderAuth(req: RequestToVerify, authorization: string, keys: KeyStore, nowMs: number): Promise<Authenticated> {
  const parsed = parseAuthorization(authorization);
  const amzDate = header(req.headers, 'x-amz-date');
  if (amzDate === undefined) throw s3Errors.missingSecurityHeader('x-amz-date');
  const requestMs = parseAmzDate(amzDate);
  if (requestMs === undefined) throw s3Errors.accessDenied(`x-amz-date "${amzDate}" is not yyyymmddThhmmssZ`);
  if (amzDate.slice(0, 8) !== parsed.scope.date) throw s3Errors.authorizationHeaderMalformed('the credential date is not the date of x-amz-date');
  if (Math.abs(requestMs - nowMs) > CLOCK_SKEW_MS_MAX) throw s3Errors.requestTimeTooSkewed();
  if (!parsed.signedHeaders.includes('host')) throw s3Errors.authorizationHeaderMalformed('the host header must be signed');
  const contentSha256 = header(req.headers, 'x-amz-content-sha256');
  if (contentSha256 === undefined) throw s3Errors.missingSecurityHeader('x-amz-content-sha256');
  const payload = payloadCheck(contentSha256);
  const key = await keys.get(parsed.keyId);
  if (key === undefined) throw s3Errors.invalidAccessKeyId();
  const canonical = canonicalRequest({
    method: req.method, rawPath: req.rawPath, query: req.query, headers: req.headers, signedHeaders: parsed.signedHeaders, payloadHash: contentSha256,
  });
  const derived = signingKey(key.secret, parsed.scope);
  if (!sameSignature(signature(derived, stringToSign(amzDate, parsed.scope, canonical)), parsed.signature)) throw s3Errors.signatureDoesNotMatch();
  return { key, payload, signingKey: derived, scope: parsed.scope, amzDate, signature: parsed.signature };
}

function payloadCheck(contentSha256: string): PayloadCheck {
  switch (contentSha256) {
    case UNSIGNED_PAYLOAD: return { kind: 'unsigned' };
    case STREAMING_SIGNED: return { kind: 'aws-chunked', signed: true, trailer: false };
    case STREAMING_SIGNED_TRAILER: return { kind: 'aws-chunked', signed: true, trailer: true };
    case STREAMING_UNSIGNED_TRAILER: return { kind: 'aws-chunked', signed: false, trailer: true };
    default:
      if (!/^[0-9a-f]{64}$/.test(contentSha256)) throw s3Errors.invalidArgument(`x-amz-content-sha256 "${contentSha256}" is neither a SHA-256 nor a known payload mode`);
      return { kind: 'sha256', hex: contentSha256 };
  }
}
