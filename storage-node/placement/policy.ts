// A volume's placement policy (how many copies, which zones must hold one, which nodes may not) and its validation.
import { ShoalError } from '../base/errors.js';

/** More copies than this is a configuration mistake: each one costs a write and a quorum member. */
export const REPLICAS_MAX = 16;

export interface PlacementPolicy {
  /** Copies per block (R). Capped to the eligible member count at placement time; the caller warns. */
  readonly replicas: number;
  /** Each listed zone holds at least one copy, when it has an eligible member. */
  readonly pinnedZones?: readonly string[];
  /** Node ids that never receive a copy (e.g. nodes being retired by hand). */
  readonly excludedNodes?: readonly string[];
}

function invalid(message: string): ShoalError {
  return new ShoalError('Invalid', message, { subject: 'volume' });
}

/** Rejects a policy that cannot be met or is surely a typo, saying how to fix it. Run it where a policy enters (volume create/update, config load). */
export function validatePolicy(policy: PlacementPolicy): void {
  const { replicas } = policy;
  if (!Number.isInteger(replicas) || replicas < 1 || replicas > REPLICAS_MAX) {
    throw invalid(`replicas must be a whole number from 1 to ${REPLICAS_MAX}, got ${String(replicas)}: set replicas to 3 unless you have a reason not to`);
  }
  const pinned = policy.pinnedZones ?? [];
  const seenZones = new Set<string>();
  for (const zone of pinned) {
    if (typeof zone !== 'string' || zone.length === 0) {
      throw invalid('a pinned zone must be a non-empty zone name: remove the empty entry from pinnedZones');
    }
    if (seenZones.has(zone)) {
      throw invalid(`zone "${zone}" is pinned twice: list each zone once in pinnedZones`);
    }
    seenZones.add(zone);
  }
  if (pinned.length > replicas) {
    throw invalid(`${pinned.length} zones are pinned but a block has only ${replicas} replicas: raise replicas to at least ${pinned.length} or pin fewer zones`);
  }
  for (const nodeId of policy.excludedNodes ?? []) {
    if (typeof nodeId !== 'string' || nodeId.length === 0) {
      throw invalid('an excluded node must be a non-empty node id: remove the empty entry from excludedNodes');
    }
  }
}
