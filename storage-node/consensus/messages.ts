// The per-block Paxos messages: plain msgpack-able objects tagged by `kind`, and a shape check for those received.
import { isErrorKind, ShoalError, type ErrorKind } from '../base/errors.js';
import { isBallot, sameBallot, type Ballot } from './ballot.js';
import { isNodeId, isQuorum, type NodeId, type Quorum } from './quorum.js';

/** A block's name as consensus sees it: opaque (the drivers use the address in hex). */
export type BlockKey = string;
export const BLOCK_KEY_LENGTH_MAX = 128;
export const ORIGINS_MAX = 64;

/** What consensus needs to read in a value; the rest (payload, signature) is the block kind's, checked by validate. */
export interface Versioned {
  /** 1 for the first value of a block, then previous + 1. */
  readonly version: number;
  /** The quorum that runs the *next* instance (version + 1): a reconfiguration is a value with a new quorum. */
  readonly quorum: Quorum;
}

/**
 * Names one proposed value: its version and the ballot it was *first* proposed at (its origin). A proposer proposes
 * at most one value per (ballot, version), and whoever re-proposes a value keeps its origin, so equal refs mean
 * equal values. Proposers compare refs, never values, to learn whether their value won.
 */
export interface ValueRef {
  readonly version: number;
  readonly origin: Ballot;
}

/**
 * Who proposed the versions an acceptor saw chosen: for each of the last few proposers (by origin.proposer), the
 * latest version it originated. It is complete for versions ≥ completeFrom: every version from there to the
 * acceptor's chosen one was learned in order (a catch-up over a gap restarts it), and an evicted proposer moves
 * completeFrom past its entry. So a proposer can tell whether its value won a version however many versions passed
 * since (originFate), as long as it is among the last few proposers of the block.
 */
export interface OriginLog {
  readonly completeFrom: number;
  readonly latest: readonly ValueRef[];
}

export const EMPTY_ORIGINS: OriginLog = { completeFrom: 1, latest: [] };

/** Whether `ref` is the value chosen at its version, says a log whose chosen version is `chosenVersion` (undefined: it cannot tell). */
export function originFate(log: OriginLog, chosenVersion: number, ref: ValueRef): 'chosen' | 'lost' | undefined {
  if (ref.version > chosenVersion || ref.version < log.completeFrom) return undefined;
  const entry = log.latest.find((e) => e.origin.proposer === ref.origin.proposer);
  if (entry === undefined || entry.version < ref.version) return 'lost'; // its proposer originated nothing there
  if (entry.version === ref.version) return sameBallot(entry.origin, ref.origin) ? 'chosen' : 'lost';
  return undefined; // the proposer originated a later version: what it did at ref.version is no longer recorded
}

/** A chosen value; `value` is left out when the receiver said it already holds that version. */
export interface ChosenInfo<R> extends ValueRef {
  readonly value?: R;
}

export interface AcceptedInfo<R> {
  readonly ballot: Ballot;
  readonly origin: Ballot;
  readonly value: R;
}

interface Envelope {
  readonly block: BlockKey;
  /** The sender's node id; the driver checks it against the TLS peer before stepping. */
  readonly from: NodeId;
}

// Proposer → acceptor.

export interface PrepareMessage extends Envelope {
  readonly kind: 'prepare';
  readonly ballot: Ballot;
  /** The chosen version the proposer holds: the acceptor sends its chosen value only if newer. */
  readonly knownVersion: number;
}

export interface AcceptMessage<R> extends Envelope {
  readonly kind: 'accept';
  readonly ballot: Ballot;
  readonly origin: Ballot;
  readonly value: R;
  /** The chosen predecessor (version − 1): a confirm piggybacked on the next accept, with the value for a lagging acceptor. */
  readonly previous?: ChosenInfo<R>;
}

export interface ConfirmMessage<R> extends Envelope {
  readonly kind: 'confirm';
  readonly chosen: ChosenInfo<R>;
}

export interface ReadMessage extends Envelope {
  readonly kind: 'read';
  /** Echoed in the reply, so that a reply to an earlier read round is not counted in this one. */
  readonly readId: number;
  readonly knownVersion: number;
}

// Acceptor → proposer.

export interface PromiseMessage<R> extends Envelope {
  readonly kind: 'promise';
  readonly ballot: Ballot;
  readonly chosen?: ChosenInfo<R>;
  /** Only ever for version chosen + 1. */
  readonly accepted?: AcceptedInfo<R>;
  /** How a proposer learns whether its value won a version it did not see decided. */
  readonly origins: OriginLog;
}

export interface AcceptedMessage extends Envelope {
  readonly kind: 'accepted';
  readonly ballot: Ballot;
  readonly version: number;
  readonly origin: Ballot;
}

export interface ReadReplyMessage<R> extends Envelope {
  readonly kind: 'read-reply';
  readonly readId: number;
  readonly chosen?: ChosenInfo<R>;
  readonly accepted?: AcceptedInfo<R>;
  readonly origins: OriginLog;
}

/**
 * A refused prepare or accept. `ballot`: promised a higher ballot (`highest`). `ahead`: the instance is already
 * decided here (see `chosen`). `behind`: this acceptor lacks the chosen predecessor; resend with `previous.value`.
 * `invalid`: validate refused the value (`error`).
 */
export type NackReason = 'ballot' | 'ahead' | 'behind' | 'invalid';
export const NACK_REASONS: readonly NackReason[] = ['ballot', 'ahead', 'behind', 'invalid'];

export interface NackMessage<R> extends Envelope {
  readonly kind: 'nack';
  readonly ballot: Ballot;
  /**
   * The value an accept proposed (absent for a prepare). A leader keeps one ballot across versions, so the ballot
   * alone cannot tell a refusal of the value in flight from a late one of its predecessor.
   */
  readonly refused?: ValueRef;
  readonly reason: NackReason;
  readonly highest: Ballot;
  readonly chosen?: ChosenInfo<R>;
  readonly origins: OriginLog;
  readonly error?: { readonly kind: ErrorKind; readonly message: string };
}

/** From a node that knows a chosen value whose quorum leaves it out: go to `quorum` (and learn `chosen`). */
export interface WrongQuorumMessage<R> extends Envelope {
  readonly kind: 'wrong-quorum';
  readonly quorum: Quorum;
  readonly chosen: ChosenInfo<R>;
  readonly origins: OriginLog;
}

export type AcceptorRequest<R> = PrepareMessage | AcceptMessage<R> | ConfirmMessage<R> | ReadMessage;
export type AcceptorReply<R> = PromiseMessage<R> | AcceptedMessage | ReadReplyMessage<R> | NackMessage<R> | WrongQuorumMessage<R>;
export type ConsensusMessage<R> = AcceptorRequest<R> | AcceptorReply<R>;

export function isAcceptorRequest<R>(message: ConsensusMessage<R>): message is AcceptorRequest<R> {
  return message.kind === 'prepare' || message.kind === 'accept' || message.kind === 'confirm' || message.kind === 'read';
}

export function refOf(info: ValueRef): ValueRef {
  return { version: info.version, origin: info.origin };
}

export function isVersionNumber(value: unknown): value is number {
  return typeof value === 'number' && Number.isSafeInteger(value) && value >= 0;
}

/** A value's consensus fields are sane; the block kind's validate checks everything else. */
export function isVersioned(value: unknown): value is Versioned {
  if (typeof value !== 'object' || value === null) return false;
  const v = value as Record<string, unknown>;
  return isVersionNumber(v['version']) && (v['version'] as number) >= 1 && isQuorum(v['quorum']);
}

// The shape check: a peer is never trusted to send what the types say. Each accepted message is rebuilt from its
// checked fields, so unknown fields are dropped and a msgpack nil never stands in for an absent optional field.

/** Checks a received value's own shape (the block kind's parser); undefined when it is not one. */
export type ValueParser<R> = (raw: unknown) => R | undefined;

function invalid(what: string): ShoalError {
  return new ShoalError('Invalid', `consensus message: ${what}`, { subject: 'frame' });
}

function field<T>(m: Record<string, unknown>, key: string, check: (v: unknown) => v is T): T {
  const value = m[key];
  if (!check(value)) throw invalid(`bad or missing ${key}`);
  return value;
}

function optional<T>(m: Record<string, unknown>, key: string, parse: (v: unknown) => T): { [k: string]: T } {
  const value = m[key];
  return value === undefined || value === null ? {} : { [key]: parse(value) };
}

function parseValueWith<R extends Versioned>(raw: unknown, parseValue: ValueParser<R>): R {
  const value = parseValue(raw);
  if (value === undefined || !isVersioned(value)) throw invalid('bad value');
  return value;
}

function parseRecord(raw: unknown): Record<string, unknown> {
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) throw invalid('not a map');
  return raw as Record<string, unknown>;
}

function parseRef(raw: unknown): ValueRef {
  const m = parseRecord(raw);
  return { version: field(m, 'version', isVersionNumber), origin: field(m, 'origin', isBallot) };
}

function parseChosen<R extends Versioned>(raw: unknown, parseValue: ValueParser<R>): ChosenInfo<R> {
  const m = parseRecord(raw);
  const chosen = { ...parseRef(m), ...optional(m, 'value', (v) => parseValueWith(v, parseValue)) } as ChosenInfo<R>;
  if (chosen.value !== undefined && chosen.value.version !== chosen.version) throw invalid('chosen value and version differ');
  return chosen;
}

function parseAccepted<R extends Versioned>(raw: unknown, parseValue: ValueParser<R>): AcceptedInfo<R> {
  const m = parseRecord(raw);
  return { ballot: field(m, 'ballot', isBallot), origin: field(m, 'origin', isBallot), value: parseValueWith(m['value'], parseValue) };
}

function parseOrigins(raw: unknown): OriginLog {
  const m = parseRecord(raw);
  const latest = m['latest'];
  if (!Array.isArray(latest) || latest.length > ORIGINS_MAX) throw invalid('bad origins');
  return { completeFrom: field(m, 'completeFrom', isVersionNumber), latest: latest.map(parseRef) };
}

function parseError(raw: unknown): { kind: ErrorKind; message: string } {
  const m = parseRecord(raw);
  const message = m['message'];
  return { kind: field(m, 'kind', isErrorKind), message: typeof message === 'string' ? message.slice(0, 1024) : '' };
}

const isBlockKey = (v: unknown): v is BlockKey => typeof v === 'string' && v.length > 0 && v.length <= BLOCK_KEY_LENGTH_MAX;
const isNackReason = (v: unknown): v is NackReason => (NACK_REASONS as readonly unknown[]).includes(v);

/** Checks and rebuilds a received message; throws ShoalError('Invalid') for anything that is not one. */
export function parseConsensusMessage<R extends Versioned>(raw: unknown, parseValue: ValueParser<R>): ConsensusMessage<R> {
  const m = parseRecord(raw);
  const envelope = { block: field(m, 'block', isBlockKey), from: field(m, 'from', isNodeId) };
  const chosen = (key: string) => optional(m, key, (v) => parseChosen(v, parseValue));
  const accepted = () => optional(m, 'accepted', (v) => parseAccepted(v, parseValue));
  switch (m['kind']) {
    case 'prepare':
      return { kind: 'prepare', ...envelope, ballot: field(m, 'ballot', isBallot), knownVersion: field(m, 'knownVersion', isVersionNumber) };
    case 'accept': {
      const message = { kind: 'accept', ...envelope, ballot: field(m, 'ballot', isBallot), origin: field(m, 'origin', isBallot),
        value: parseValueWith(m['value'], parseValue), ...chosen('previous') } as AcceptMessage<R>;
      if (message.previous !== undefined && message.previous.version !== message.value.version - 1) throw invalid('previous is not version - 1');
      return message;
    }
    case 'confirm':
      return { kind: 'confirm', ...envelope, chosen: parseChosen(m['chosen'], parseValue) };
    case 'read':
      return { kind: 'read', ...envelope, readId: field(m, 'readId', isVersionNumber), knownVersion: field(m, 'knownVersion', isVersionNumber) };
    case 'promise':
      return { kind: 'promise', ...envelope, ballot: field(m, 'ballot', isBallot), ...chosen('chosen'), ...accepted(), origins: parseOrigins(m['origins']) } as PromiseMessage<R>;
    case 'accepted':
      return { kind: 'accepted', ...envelope, ballot: field(m, 'ballot', isBallot), version: field(m, 'version', isVersionNumber), origin: field(m, 'origin', isBallot) };
    case 'read-reply':
      return { kind: 'read-reply', ...envelope, readId: field(m, 'readId', isVersionNumber), ...chosen('chosen'), ...accepted(), origins: parseOrigins(m['origins']) } as ReadReplyMessage<R>;
    case 'nack':
      return { kind: 'nack', ...envelope, ballot: field(m, 'ballot', isBallot), ...optional(m, 'refused', parseRef), reason: field(m, 'reason', isNackReason),
        highest: field(m, 'highest', isBallot), ...chosen('chosen'), origins: parseOrigins(m['origins']), ...optional(m, 'error', parseError) } as NackMessage<R>;
    case 'wrong-quorum':
      return { kind: 'wrong-quorum', ...envelope, quorum: field(m, 'quorum', isQuorum), chosen: parseChosen(m['chosen'], parseValue), origins: parseOrigins(m['origins']) };
    default:
      throw invalid('unknown kind');
  }
}
