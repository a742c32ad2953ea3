// The wire envelope: requests and replies correlated by id, so many requests share one connection in any order.
import { isErrorKind, isErrorSubject, type ErrorKind, type ErrorSubject } from '../base/errors.js';

export const WIRE_VERSION = 1;

export interface RemoteError {
  readonly kind: ErrorKind;
  readonly subject?: ErrorSubject;
  readonly message: string;
}

/** [tag, id, ...]: arrays keep frames small; the tag says which shape follows. */
export type WireRequest = readonly [tag: 0, id: number, op: string, body: unknown];
export type WireReplyOk = readonly [tag: 1, id: number, body: unknown];
export type WireReplyError = readonly [tag: 2, id: number, error: RemoteError];
export type WireReply = WireReplyOk | WireReplyError;
export type WireMessage = WireRequest | WireReply;

export const TAG_REQUEST = 0;
export const TAG_OK = 1;
export const TAG_ERROR = 2;

/** Checks a decoded value's envelope; anything else is garbage and closes the connection. */
export function parseWireMessage(value: unknown): WireMessage | undefined {
  if (!Array.isArray(value) || value.length < 3) return undefined;
  const [tag, id] = value as unknown[];
  if (typeof id !== 'number' || !Number.isSafeInteger(id) || id < 0) return undefined;
  if (tag === TAG_REQUEST && value.length === 4 && typeof value[2] === 'string') return value as unknown as WireRequest;
  if (tag === TAG_OK && value.length === 3) return value as unknown as WireReplyOk;
  if (tag === TAG_ERROR && value.length === 3 && isRemoteError(value[2])) return value as unknown as WireReplyError;
  return undefined;
}

function isRemoteError(value: unknown): value is RemoteError {
  if (typeof value !== 'object' || value === null) return false;
  const candidate = value as Record<string, unknown>;
  return isErrorKind(candidate['kind'])
    && typeof candidate['message'] === 'string'
    && (candidate['subject'] === undefined || candidate['subject'] === null || isErrorSubject(candidate['subject']));
}
