// The member record every node keeps of every other node, its merge rule (a total order, so merging is a max) and its hashes.

export type MemberState = 'alive' | 'suspect' | 'dead' | 'draining' | 'left';

export interface Member {
  /** Stable node id: the common name in the node's cluster certificate. */
  readonly id: string;
  /** host:port where the node serves the wire protocol. */
  readonly address: string;
  readonly zone: string;
  readonly rack: string;
  readonly capacityBytes: number;
  readonly usedBytes: number;
  readonly state: MemberState;
  /**
   * Bumped only by the member itself: to refute a suspicion (SWIM §4.2), and whenever it changes its own
   * record (capacity, used bytes, draining, leave). So (id, incarnation) names one version of the
   * owner's fields, and others only ever write suspect/dead over a version they saw.
   */
  readonly incarnation: number;
}

/** Members that hold and serve blocks: placement targets. Suspects still serve until proven dead. */
export function isServing(member: Member): boolean {
  return member.state === 'alive' || member.state === 'suspect' || member.state === 'draining';
}

export const MEMBER_STATES: readonly MemberState[] = ['alive', 'draining', 'suspect', 'dead', 'left'];

/**
 * Precedence at one incarnation. SWIM §4.2: Suspect overrides Alive, Confirm (dead) overrides both. Draining
 * is an owner-written alive. Left is above dead so that a member that left and then stopped answering
 * stays left, never dead. The owner writes alive, draining and left, each with a fresh incarnation.
 */
export const STATE_RANK: Readonly<Record<MemberState, number>> = { alive: 0, draining: 1, suspect: 2, dead: 3, left: 4 };

/** Dead and left members are not probed, not gossiped to, and do not count in the anti-entropy digest. */
export function isGone(state: MemberState): boolean {
  return state === 'dead' || state === 'left';
}

const compareText = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);

/**
 * Total order over the records of one member: incarnation, then state rank, then the remaining fields.
 * Merging is taking the maximum, which is commutative, associative and idempotent: every node that has
 * seen the same set of records holds the same one, whatever the order, loss or duplication of messages.
 * The field tie-break only matters when two records share (incarnation, state) but not their fields,
 * e.g. a node restarted at incarnation 0 on a new port before it learned of its old record.
 */
export function compareRecords(a: Member, b: Member): number {
  if (a.incarnation !== b.incarnation) return a.incarnation < b.incarnation ? -1 : 1;
  const rank = STATE_RANK[a.state] - STATE_RANK[b.state];
  if (rank !== 0) return rank < 0 ? -1 : 1;
  return compareText(a.address, b.address) || compareText(a.zone, b.zone) || compareText(a.rack, b.rack)
    || Math.sign(a.capacityBytes - b.capacityBytes) || Math.sign(a.usedBytes - b.usedBytes);
}

/** True when `incoming` replaces `known` under compareRecords (a new member always does). */
export function supersedes(incoming: Member, known: Member | undefined): boolean {
  return known === undefined || compareRecords(incoming, known) > 0;
}

/** The winner of two records of one member: the merge rule. */
export function mergeRecord(known: Member | undefined, incoming: Member): Member {
  return supersedes(incoming, known) ? incoming : (known as Member);
}

export function sameRecord(a: Member, b: Member): boolean {
  return a.id === b.id && compareRecords(a, b) === 0;
}

/** A rumour about a member: the same version of its fields under another state (suspect or dead). */
export function withState(member: Member, state: MemberState): Member {
  return { ...member, state };
}

// FNV-1a over UTF-16 code units, then murmur3's fmix32 so that the top bits (bucket index) are well mixed.
const FNV_OFFSET = 0x811c9dc5;
const FNV_PRIME = 0x01000193;

function fnvText(hash: number, text: string): number {
  let h = hash;
  for (let i = 0; i < text.length; i++) h = Math.imul(h ^ text.charCodeAt(i), FNV_PRIME);
  return Math.imul(h ^ 0xff, FNV_PRIME); // a separator, so that ("ab","c") and ("a","bc") differ
}

function fnvNumber(hash: number, value: number): number {
  // Two 32-bit halves: byte counts go past 2^32.
  const low = value % 4294967296;
  const high = (value - low) / 4294967296;
  return Math.imul(Math.imul(hash ^ (low | 0), FNV_PRIME) ^ (high | 0), FNV_PRIME);
}

function fmix32(hash: number): number {
  let h = hash;
  h = Math.imul(h ^ (h >>> 16), 0x85ebca6b);
  h = Math.imul(h ^ (h >>> 13), 0xc2b2ae35);
  return (h ^ (h >>> 16)) >>> 0;
}

/** Where a member sorts in the table and which anti-entropy bucket it falls in: the same on every node. */
export function idHash(id: string): number {
  return fmix32(fnvText(FNV_OFFSET, id));
}

/** A 32-bit digest of every gossiped field, combined into the anti-entropy bucket hashes. */
export function recordFingerprint(m: Member): number {
  let h = fnvText(FNV_OFFSET, m.id);
  h = fnvText(h, m.address);
  h = fnvText(h, m.zone);
  h = fnvText(h, m.rack);
  h = fnvNumber(h, m.capacityBytes);
  h = fnvNumber(h, m.usedBytes);
  h = fnvNumber(h, STATE_RANK[m.state]);
  h = fnvNumber(h, m.incarnation);
  return fmix32(h);
}
