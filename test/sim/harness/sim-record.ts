// The values the consensus simulation agrees on: a versioned number (a register or a counter), with its codec and checks.
import { ShoalError } from '../../../storage-node/base/errors.js';
import type { Validate } from '../../../storage-node/consensus/acceptor.js';
import { isVersionNumber } from '../../../storage-node/consensus/messages.js';
import type { BlockCodec } from '../../../storage-node/consensus/proposer.js';
import { isQuorum, type Quorum } from '../../../storage-node/consensus/quorum.js';

/** What a signed block record is in production, reduced to what the workload needs. */
export interface SimRecord {
  readonly version: number;
  readonly quorum: Quorum;
  readonly data: number;
  /** Signed by a storage node (repair's quorum move) rather than by the block's owner. */
  readonly byNode?: true;
}

export const simCodec: BlockCodec<SimRecord, number> = {
  open: (record) => record.data,
  seal: (previous, content, quorum) => ({ version: (previous?.version ?? 0) + 1, quorum: [...quorum], data: content }),
};

/** Repair's codec (client/quorum-mover.ts): the next version carries the previous data as it is, node-signed. */
export const simMoverCodec: BlockCodec<SimRecord, number> = {
  open: (record) => record.data,
  seal: (previous, _content, quorum) => {
    if (previous === undefined) throw new ShoalError('NotFound', 'no version to move', { subject: 'block' });
    return { version: previous.version + 1, quorum: [...quorum], data: previous.data, byNode: true };
  },
};

export function parseSimRecord(raw: unknown): SimRecord | undefined {
  if (typeof raw !== 'object' || raw === null) return undefined;
  const { version, quorum, data, byNode } = raw as Record<string, unknown>;
  if (!isVersionNumber(version) || !isQuorum(quorum) || typeof data !== 'number' || !Number.isFinite(data)) return undefined;
  return byNode === true ? { version, quorum, data, byNode } : { version, quorum, data };
}

/** The acceptors' check, as blocks/validate-version would do it: versions only move forward. */
export const validateSimRecord: Validate<SimRecord> = (_block, current, next) =>
  next.version > (current?.version ?? 0) ? undefined : new ShoalError('Conflict', `version ${next.version} is not newer`, { subject: 'block' });

/**
 * The production check with its one node-local input (blocks/validate-version.ts): the next version must follow the
 * current one (or, catching up, be newer), and a node-signed version is taken only while this node trusts the
 * signing key — which a restarted node does not until the key is announced to it again. So acceptors may disagree
 * on a node-signed value, and a refusal by one proves nothing about the others.
 */
export function trustingValidator(trustsNodeKeys: () => boolean): Validate<SimRecord> {
  return (_block, current, next) => {
    const currentVersion = current?.version ?? 0;
    if (next.version <= currentVersion) return new ShoalError('Conflict', `version ${next.version} is not newer than ${currentVersion}`, { subject: 'block' });
    if (next.byNode === true && !trustsNodeKeys()) return new ShoalError('Unavailable', 'signed by a key this node does not trust yet', { subject: 'block' });
    if (next.byNode === true && current !== undefined && next.version === currentVersion + 1 && next.data !== current.data) {
      return new ShoalError('Forbidden', 'a node-signed version may change nothing but the quorum', { subject: 'block' });
    }
    return undefined;
  };
}
