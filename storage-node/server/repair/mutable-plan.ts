// Repair's decision for one mutable block, pure: whether its quorum should change, to what, and which member
// proposes the change. One member is swapped per version (consensus/reconfigure.ts: the new quorum must keep a live
// majority able to catch up), so a block two members away from its placement moves in two steps.
import type { Member } from '../../overlay/membership.js';
import type { PlacementPolicy } from '../../placement/policy.js';
import { placeReplicas } from '../../placement/replica-set.js';
import { isReachable } from './repair-plan.js';

export interface QuorumMove {
  readonly next: readonly string[];
  readonly removed: string;
  readonly added: string;
}

/**
 * `quorum` is the block's chosen quorum; `candidates` are placement's members (repair-plan's placementMembers, with
 * dead members kept during --replace-after); `states` the members as they are now. Returns the move `self` should
 * propose, or undefined: when the quorum is where placement wants it, when another member is the proposer (the
 * reachable quorum member with the smallest id), or when less than a majority of the quorum is reachable (no
 * proposal could be chosen; repair waits).
 */
export function planQuorumMove(
  self: string, address: Buffer, quorum: readonly string[], candidates: readonly Member[], states: ReadonlyMap<string, Member>,
): QuorumMove | undefined {
  const reachable = (id: string): boolean => {
    const member = states.get(id);
    return member !== undefined && isReachable(member);
  };
  const live = quorum.filter(reachable).sort();
  if (live[0] !== self) return undefined;
  if (live.length < Math.floor(quorum.length / 2) + 1) return undefined;
  const policy: PlacementPolicy = { replicas: quorum.length };
  const placed = placeReplicas(address, candidates, policy).map((m) => m.id);
  const misplaced = quorum.filter((id) => !placed.includes(id));
  // Replace a member that cannot answer before one that is merely no longer placed.
  const removed = misplaced.find((id) => !reachable(id)) ?? misplaced[0];
  const added = placed.find((id) => !quorum.includes(id) && reachable(id));
  if (removed === undefined || added === undefined) return undefined;
  return { next: [...quorum.filter((id) => id !== removed), added].sort(), removed, added };
}
