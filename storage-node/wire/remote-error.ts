// Errors cross the wire as {kind, subject, message} and become ShoalError again on the other side.
import { isShoalError, ShoalError } from '../base/errors.js';
import type { RemoteError } from './messages.js';

export function toRemoteError(err: unknown): RemoteError {
  if (isShoalError(err)) {
    return err.subject === undefined ? { kind: err.kind, message: err.message } : { kind: err.kind, subject: err.subject, message: err.message };
  }
  // A programmer error on the node: the client learns that the node failed, not its stack.
  return { kind: 'Unavailable', message: 'the node failed to handle the request (see its log)' };
}

export function fromRemoteError(remote: RemoteError, nodeId: string): ShoalError {
  const options = remote.subject === undefined || remote.subject === null
    ? { detail: { nodeId } }
    : { subject: remote.subject, detail: { nodeId } };
  return new ShoalError(remote.kind, remote.message, options);
}
