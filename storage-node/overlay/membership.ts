// The member record every node keeps of every other node, and the pure helpers around it.

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
  readonly incarnation: number;
}

/** Members that hold and serve blocks: placement targets. Suspects still serve until proven dead. */
export function isServing(member: Member): boolean {
  return member.state === 'alive' || member.state === 'suspect' || member.state === 'draining';
}
