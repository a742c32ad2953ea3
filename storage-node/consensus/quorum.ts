// A block's quorum (the R node ids that run its Paxos) and the majorities counted within it.
import { ShoalError } from '../base/errors.js';

export type NodeId = string;
/** Node ids, sorted and unique, so that two quorums compare by value and a signed record encodes one way. */
export type Quorum = readonly NodeId[];

export const QUORUM_SIZE_MAX = 15;
export const NODE_ID_LENGTH_MAX = 128;

/** How many replies each phase needs. Paxos is safe only while phase1 + phase2 > quorum size (Flexible Paxos). */
export interface PhaseSizes {
  readonly phase1: number;
  readonly phase2: number;
}

/** ⌊R/2⌋ + 1: any two majorities of one quorum share a node. */
export function majority(quorum: Quorum): number {
  return Math.floor(quorum.length / 2) + 1;
}

export function majoritySizes(quorum: Quorum): PhaseSizes {
  const m = majority(quorum);
  return { phase1: m, phase2: m };
}

export function isNodeId(value: unknown): value is NodeId {
  return typeof value === 'string' && value.length > 0 && value.length <= NODE_ID_LENGTH_MAX;
}

/** Sorted, unique, non-empty, bounded: the one spelling of a quorum. */
export function isQuorum(value: unknown): value is Quorum {
  if (!Array.isArray(value) || value.length === 0 || value.length > QUORUM_SIZE_MAX) return false;
  for (let i = 0; i < value.length; i++) {
    if (!isNodeId(value[i])) return false;
    if (i > 0 && !((value[i - 1] as string) < (value[i] as string))) return false;
  }
  return true;
}

/** The canonical spelling of a set of node ids; throws ShoalError('Invalid') for an empty or oversized set. */
export function normalizeQuorum(ids: Iterable<NodeId>): Quorum {
  const sorted = [...new Set(ids)].sort();
  if (!isQuorum(sorted)) {
    throw new ShoalError('Invalid', `a quorum is 1 to ${QUORUM_SIZE_MAX} node ids of 1 to ${NODE_ID_LENGTH_MAX} characters`, { subject: 'block' });
  }
  return sorted;
}

export function sameQuorum(a: Quorum, b: Quorum): boolean {
  return a.length === b.length && a.every((id, i) => id === b[i]);
}

export function inQuorum(quorum: Quorum, id: NodeId): boolean {
  return quorum.includes(id);
}

export function quorumText(quorum: Quorum): string {
  return `{${quorum.join(',')}}`;
}

/** How many of `responders` are members of `quorum` (replies from elsewhere never count). */
export function countMembers(quorum: Quorum, responders: Iterable<NodeId>): number {
  let count = 0;
  for (const id of responders) if (quorum.includes(id)) count++;
  return count;
}
