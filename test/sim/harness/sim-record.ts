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
}

export const simCodec: BlockCodec<SimRecord, number> = {
  open: (record) => record.data,
  seal: (previous, content, quorum) => ({ version: (previous?.version ?? 0) + 1, quorum: [...quorum], data: content }),
};

export function parseSimRecord(raw: unknown): SimRecord | undefined {
  if (typeof raw !== 'object' || raw === null) return undefined;
  const { version, quorum, data } = raw as Record<string, unknown>;
  if (!isVersionNumber(version) || !isQuorum(quorum) || typeof data !== 'number' || !Number.isFinite(data)) return undefined;
  return { version, quorum, data };
}

/** The acceptors' check, as blocks/validate-version would do it: versions only move forward. */
export const validateSimRecord: Validate<SimRecord> = (_block, current, next) =>
  next.version > (current?.version ?? 0) ? undefined : new ShoalError('Conflict', `version ${next.version} is not newer`, { subject: 'block' });
