// Moving a block to another quorum through Paxos itself: the protocol, and the proposer's catch-up of new members.
//
// Protocol (configuration per instance, "α = 1"): the quorum that runs instance k+1 is the quorum written in the
// value chosen at version k. A reconfiguration is an ordinary op whose value carries a new quorum: it is chosen by
// a majority of the *old* quorum (the one in version k−1), and from then on instance k+1 runs in the new one.
// Example {A,B,C} → {A,B,D}: version k (quorum {A,B,D}) is accepted by two of A, B, C; version k+1 is accepted by
// two of A, B, D.
//
// Why it is safe:
//   1. One quorum per instance. Every proposer takes the quorum of instance k+1 from the chosen value k it holds, and
//      value k is unique, so no two proposers run instance k+1 in different quorums. A proposer that holds an older
//      value runs an older instance in the old quorum: there it finds k accepted or chosen by a majority of the old
//      quorum (intersection), finishes it if need be, learns the new quorum and moves.
//   2. The new quorum learns the chosen state before it acts. An acceptor accepts a value for version k+1 only when
//      it holds chosen k, so D (which knows nothing) refuses with nack('behind') until a proposer sends it value k
//      (catchUpConfirms below, or the accept's `previous`). A promise from a node that is behind is still a true
//      promise for instance k+1: it has accepted nothing there and, without k, cannot. So phase 1 in any majority
//      of {A,B,D} sees every value that could have been chosen at k+1.
//   3. Leadership does not carry over. A phase 1 won on {A,B,C} says nothing about a majority of {A,B,D} (A and C
//      promised, D may have promised a lower ballot to someone else), so a proposer drops its ballot when the
//      quorum changes and prepares again in the new quorum before it skips phase 1.
//   4. A removed node (C) keeps its state and answers every request with wrong-quorum plus the value that removed
//      it, so a stale proposer is sent on to the new quorum. It still learns confirms, so a node added back later
//      can catch up before it answers.
// Reads follow the same rule: a read round counts only replies from the quorum of the value the reader knows, and
// starts again in the new quorum when it learns a reconfiguration.
//
// Limits: the new quorum must keep a live majority able to catch up (repair moves one node at a time); a block's
// first version takes its quorum from placement, and two proposers that create one block with different quorums
// (different membership views) could choose two first versions: the driver must create through one placement view.
import type { ChosenEntry } from './acceptor.js';
import type { SendEffect } from './effects.js';
import type { BlockKey, Versioned } from './messages.js';
import type { NodeId, Quorum } from './quorum.js';

export interface QuorumChange {
  readonly added: readonly NodeId[];
  readonly removed: readonly NodeId[];
}

export function quorumChange(before: Quorum, after: Quorum): QuorumChange {
  return { added: after.filter((id) => !before.includes(id)), removed: before.filter((id) => !after.includes(id)) };
}

/** Confirms carrying the chosen value to the members a reconfiguration added, so they can take part at once. */
export function catchUpConfirms<R extends Versioned>(
  block: BlockKey, self: NodeId, before: Quorum, entry: ChosenEntry<R>,
): SendEffect<R>[] {
  const { added } = quorumChange(before, entry.value.quorum);
  return added.map((to) => ({
    kind: 'send',
    to,
    message: { kind: 'confirm', block, from: self, chosen: { version: entry.value.version, origin: entry.origin, value: entry.value } },
  }));
}

/** The client op that moves a block to `quorum` (normalized when it is batched; an invalid one fails with Invalid). */
export function reconfigureOp(id: number | string, quorum: Quorum, timeoutMs?: number): {
  readonly kind: 'reconfigure'; readonly id: number | string; readonly quorum: Quorum; readonly timeoutMs?: number;
} {
  return timeoutMs === undefined ? { kind: 'reconfigure', id, quorum } : { kind: 'reconfigure', id, quorum, timeoutMs };
}
