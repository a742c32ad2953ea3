// Computes a block's ordered replica set locally (no network round trip) from membership and the volume's policy.
import { assert, unreachable } from '../base/assert.js';
import type { Member, MemberState } from '../overlay/membership.js';
import type { PlacementPolicy } from './policy.js';
import { addressKey, scoreAt } from './rendezvous.js';

export type MemberWeight = (member: Member) => number;

/** Weight by capacity, not free space: free space changes on every write and would move blocks all the time. */
export const capacityWeight: MemberWeight = (member) => member.capacityBytes;

export interface PlacementOptions {
  /** How much each member should hold relative to the others; capacityWeight unless given. */
  readonly weigh?: MemberWeight;
}

/**
 * overlay's isServing() minus draining members, which serve but are emptying. Written out because
 * placement imports membership types only (STYLE B); the exhaustive switch breaks the build when a
 * state is added, so the two cannot drift apart silently.
 */
function takesNewCopies(state: MemberState): boolean {
  switch (state) {
    case 'alive':
    case 'suspect': // suspects still serve until proven dead
      return true;
    case 'draining':
    case 'dead':
    case 'left':
      return false;
    default:
      return unreachable(state);
  }
}

/** Members that may receive new copies: alive or suspect, not draining, not excluded by the policy. */
export function eligibleMembers(members: readonly Member[], policy: Pick<PlacementPolicy, 'excludedNodes'> = {}): Member[] {
  const excluded = policy.excludedNodes ?? [];
  const eligible = members.filter((m) => takesNewCopies(m.state) && !excluded.includes(m.id));
  // The membership table is keyed by node id; a duplicate would make the result depend on array order.
  assert(new Set(eligible.map((m) => m.id)).size === eligible.length, 'placement: duplicate node id in members');
  return eligible;
}

/** Scores of the eligible members for one address, with a comparator that breaks ties by node id. */
class Ranking {
  readonly members: readonly Member[];
  readonly scores: Float64Array;

  constructor(address: Buffer, members: readonly Member[], weigh: MemberWeight) {
    const key = addressKey(address);
    this.members = members;
    this.scores = new Float64Array(members.length);
    for (let i = 0; i < members.length; i++) {
      const member = members[i] as Member;
      this.scores[i] = scoreAt(key, member.id, weigh(member));
    }
  }

  /** True when member i ranks before member j. Ids are unique, so this is a total order. */
  before(i: number, j: number): boolean {
    const si = this.scores[i] as number;
    const sj = this.scores[j] as number;
    if (si !== sj) return si > sj;
    return (this.members[i] as Member).id < (this.members[j] as Member).id;
  }

  /** Index of the best-ranked member not yet chosen that `accept` allows, or -1. */
  best(chosen: readonly number[], accept: (member: Member) => boolean): number {
    let best = -1;
    for (let i = 0; i < this.members.length; i++) {
      if (chosen.includes(i) || !accept(this.members[i] as Member)) continue;
      if (best === -1 || this.before(i, best)) best = i;
    }
    return best;
  }
}

/**
 * All eligible members, best claim first: the replica order a reader falls back through when the
 * placed replicas do not answer, and the order repair walks to find a new holder.
 */
export function placementRank(
  address: Buffer,
  members: readonly Member[],
  policy: Pick<PlacementPolicy, 'excludedNodes'> = {},
  options: PlacementOptions = {},
): Member[] {
  const ranking = new Ranking(address, eligibleMembers(members, policy), options.weigh ?? capacityWeight);
  const order = ranking.members.map((_, i) => i);
  order.sort((i, j) => (ranking.before(i, j) ? -1 : 1));
  return order.map((i) => ranking.members[i] as Member);
}

/**
 * The ordered replica set of a block: first one copy per pinned zone, then greedily the best-scored
 * member in an unused zone, else in an unused (zone, rack), else any; so copies spread over zones,
 * then racks, then nodes. R is capped to the eligible count (the caller warns). The result is sorted
 * by score, so the primary (first) is the set's strongest claim and pinned zones do not attract
 * every primary. A pinned zone without an eligible member is skipped.
 */
export function placeReplicas(
  address: Buffer,
  members: readonly Member[],
  policy: PlacementPolicy,
  options: PlacementOptions = {},
): Member[] {
  // The policy was validated where it entered (validatePolicy); a bad one here is a programmer error.
  assert(Number.isInteger(policy.replicas) && policy.replicas >= 1, `placement: replicas must be a positive integer, got ${policy.replicas}`);
  const ranking = new Ranking(address, eligibleMembers(members, policy), options.weigh ?? capacityWeight);
  const replicas = Math.min(policy.replicas, ranking.members.length);
  const chosen: number[] = [];
  const pick = (index: number): void => {
    if (index !== -1) chosen.push(index);
  };
  const chosenMembers = (): Member[] => chosen.map((i) => ranking.members[i] as Member);

  for (const zone of policy.pinnedZones ?? []) {
    if (chosen.length >= replicas) break;
    if (chosenMembers().some((m) => m.zone === zone)) continue;
    pick(ranking.best(chosen, (m) => m.zone === zone));
  }
  while (chosen.length < replicas) {
    const used = chosenMembers();
    let next = ranking.best(chosen, (m) => !used.some((u) => u.zone === m.zone));
    if (next === -1) next = ranking.best(chosen, (m) => !used.some((u) => u.zone === m.zone && u.rack === m.rack));
    if (next === -1) next = ranking.best(chosen, () => true);
    assert(next !== -1, 'placement: fewer candidates than the capped replica count');
    chosen.push(next);
  }
  chosen.sort((i, j) => (ranking.before(i, j) ? -1 : 1));
  return chosenMembers();
}
