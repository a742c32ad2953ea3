// Paxos ballots: (round, proposer id), totally ordered by round then proposer, so no two proposers share one.

export interface Ballot {
  readonly round: number;
  /** Unique per proposer *incarnation*: a restarted proposer must not reuse the ballots of its previous life. */
  readonly proposer: string;
}

/** Below every real ballot: what an acceptor has promised before it has promised anything. */
export const ZERO_BALLOT: Ballot = { round: 0, proposer: '' };

export const PROPOSER_ID_LENGTH_MAX = 128;

export function compareBallots(a: Ballot, b: Ballot): number {
  if (a.round !== b.round) return a.round < b.round ? -1 : 1;
  if (a.proposer === b.proposer) return 0;
  return a.proposer < b.proposer ? -1 : 1;
}

export function sameBallot(a: Ballot, b: Ballot): boolean {
  return a.round === b.round && a.proposer === b.proposer;
}

export function maxBallot(a: Ballot, b: Ballot): Ballot {
  return compareBallots(a, b) >= 0 ? a : b;
}

/** The smallest ballot of `proposer` above `highest`: what a proposer prepares with after seeing `highest`. */
export function ballotAbove(highest: Ballot, proposer: string): Ballot {
  return { round: highest.round + 1, proposer };
}

export function ballotText(ballot: Ballot): string {
  return `${ballot.round}.${ballot.proposer}`;
}

export function isBallot(value: unknown): value is Ballot {
  if (typeof value !== 'object' || value === null) return false;
  const { round, proposer } = value as Record<string, unknown>;
  return typeof round === 'number' && Number.isSafeInteger(round) && round >= 0
    && typeof proposer === 'string' && proposer.length <= PROPOSER_ID_LENGTH_MAX;
}
