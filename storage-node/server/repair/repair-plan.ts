// Repair's decisions as pure functions: which members placement counts, who copies a block where, and when a
// holder that is no longer placed may drop its copy. No I/O: the driver asks the nodes and carries the plan out.
import type { Member } from '../../overlay/membership.js';
import type { PlacementPolicy } from '../../placement/policy.js';
import { placeReplicas } from '../../placement/replica-set.js';

/** When this node first saw each member dead (monotonic ms); forgotten once the member is back. */
export type GoneSince = ReadonlyMap<string, number>;

/** Records the first time each member was seen dead, and forgets those seen alive again: the grace clock of --replace-after. */
export function trackGone(previous: GoneSince, members: readonly Member[], nowMs: number): Map<string, number> {
  const next = new Map<string, number>();
  for (const member of members) {
    if (member.state !== 'dead') continue;
    next.set(member.id, previous.get(member.id) ?? nowMs);
  }
  return next;
}

/**
 * The members placement counts for repair. A dead member stays placed (as if alive) until it has been dead for
 * `replaceAfterMs`: a node that restarts within that delay finds its blocks still its own, and nothing is copied
 * twice. Draining and left members are never placed; eligibleMembers drops them (and suspects stay, as they serve).
 */
export function placementMembers(members: readonly Member[], goneSince: GoneSince, nowMs: number, replaceAfterMs: number): Member[] {
  return members.flatMap((member) => {
    if (member.state !== 'dead') return [member];
    const since = goneSince.get(member.id) ?? nowMs;
    return nowMs - since < replaceAfterMs ? [{ ...member, state: 'alive' as const }] : [];
  });
}

/** Members that can answer now: a placed member in its grace period is placed but cannot receive a copy. */
export function isReachable(member: Member): boolean {
  return member.state === 'alive' || member.state === 'suspect' || member.state === 'draining';
}

export interface BlockPlacement {
  /** Placed node ids, best claim first. */
  readonly placed: readonly string[];
  /** Placed ids that can be asked now (the others are dead within their grace period). */
  readonly reachable: readonly string[];
}

export function placeForRepair(address: Buffer, members: readonly Member[], policy: PlacementPolicy, states: ReadonlyMap<string, Member>): BlockPlacement {
  const placed = placeReplicas(address, members, policy).map((m) => m.id);
  const reachable = placed.filter((id) => {
    const member = states.get(id);
    return member !== undefined && isReachable(member);
  });
  return { placed, reachable };
}

/** What this node does for one block it holds. */
export interface BlockAction {
  /** Placed nodes to put the block on (each confirmed missing it). */
  readonly copyTo: readonly string[];
  /**
   * Drop this node's copy once every copy in copyTo succeeded: set only for a holder that is not placed, and only
   * when every placed node (grace-period ones included) will then hold the block durably.
   */
  readonly dropAfterCopies: boolean;
}

export const NO_ACTION: BlockAction = { copyTo: [], dropAfterCopies: false };

/**
 * The decision for one block held by `self`. `holds(id)` is true when that placed node said it has the block,
 * false when it said it has not, undefined when it did not answer. Only one placed node copies: the first placed
 * holder in placement order, so that R holders do not all push to the new node. A holder that is not placed
 * pushes only when no placed node holds the block (it may be the last copy), and always drops its copy once every
 * placed node has it.
 */
export function planBlock(self: string, placement: BlockPlacement, holds: (id: string) => boolean | undefined): BlockAction {
  const selfPlaced = placement.placed.includes(self);
  const holderOf = (id: string): boolean | undefined => (id === self ? true : holds(id));
  const missing = placement.reachable.filter((id) => id !== self && holderOf(id) === false);
  const firstHolder = placement.placed.find((id) => holderOf(id) === true);
  if (selfPlaced) {
    return firstHolder === self && missing.length > 0 ? { copyTo: missing, dropAfterCopies: false } : NO_ACTION;
  }
  const unconfirmed = placement.placed.filter((id) => holderOf(id) !== true && !missing.includes(id));
  const copyTo = firstHolder === undefined ? missing : [];
  // Dropping needs every placed node to hold it once copyTo is done: none silent, none dead within its grace.
  const dropAfterCopies = placement.placed.length > 0 && unconfirmed.length === 0 && (firstHolder !== undefined ? missing.length === 0 : true);
  return { copyTo, dropAfterCopies };
}
