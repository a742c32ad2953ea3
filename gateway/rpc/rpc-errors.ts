// The errors the RPC layer maps to RPC-level replies: undecodable arguments (GARBAGE_ARGS) and refused credentials (AUTH_ERROR).
import { isShoalError, ShoalError } from '../../storage-node/base/errors.js';
import type { auth_stat } from './rpc-message.js';

/**
 * Bytes that do not decode as the XDR the reader was asked for: truncated, a count over its limit, a
 * bool that is neither 0 nor 1, an enum value outside its set. Thrown by XdrReader; the RPC server
 * answers GARBAGE_ARGS when a handler lets it through (RFC 5531 §9, accept_stat).
 */
export function xdrError(message: string, detail: Record<string, unknown> = {}): ShoalError {
  return new ShoalError('Invalid', message, { subject: 'frame', detail: { ...detail, xdr: true } });
}

/** Checks the kind and a marker, never `instanceof` (STYLE §D). */
export function isXdrError(err: unknown): err is ShoalError {
  return isShoalError(err, 'Invalid') && err.detail?.['xdr'] === true;
}

/**
 * A handler refusing the caller's credential, e.g. MOUNT for an export that requires AUTH_SYS refusing
 * AUTH_NONE with AUTH_TOOWEAK. The server answers MSG_DENIED / AUTH_ERROR with this auth_stat.
 */
export function rpcAuthError(authStat: auth_stat, message: string): ShoalError {
  return new ShoalError('Forbidden', message, { detail: { auth_stat: authStat } });
}

/** The auth_stat of an error made by rpcAuthError, or undefined. */
export function authStatOf(err: unknown): auth_stat | undefined {
  if (!isShoalError(err, 'Forbidden')) return undefined;
  const stat = err.detail?.['auth_stat'];
  return typeof stat === 'number' ? (stat as auth_stat) : undefined;
}
