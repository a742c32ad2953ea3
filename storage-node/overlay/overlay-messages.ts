// The overlay's messages as plain msgpack-able values, and the checks that turn an untrusted received value into one.
import { MEMBER_STATES, STATE_RANK, type Member } from './membership.js';

/**
 * A member record on the wire: a tuple, not an object, because records are most of the gossip bytes and
 * field names would double them. The state travels as its rank (membership.STATE_RANK).
 */
export type RecordTuple = readonly [
  id: string, address: string, zone: string, rack: string,
  capacityBytes: number, usedBytes: number, state: number, incarnation: number,
];

/** SWIM §3.1 ping: `target` is the id the sender means, so a node now at that address does not answer for another. */
export interface PingMessage {
  readonly kind: 'ping';
  readonly src: string;
  readonly seq: number;
  readonly target: string;
  readonly updates: readonly RecordTuple[];
}

/** Answers a ping. `src` is the member that answered, also when a helper relays the ack of an indirect probe. */
export interface AckMessage {
  readonly kind: 'ack';
  readonly src: string;
  readonly seq: number;
  readonly updates: readonly RecordTuple[];
}

/** SWIM §3.1 ping-req: asks a helper to probe `target` and relay its ack. */
export interface PingReqMessage {
  readonly kind: 'ping-req';
  readonly src: string;
  readonly seq: number;
  readonly target: string;
  readonly targetAddress: string;
  readonly updates: readonly RecordTuple[];
}

/** Infection-style dissemination (SWIM §4.1) on its own, and the push half of an anti-entropy exchange. */
export interface GossipMessage {
  readonly kind: 'gossip';
  readonly src: string;
  readonly updates: readonly RecordTuple[];
}

/** Anti-entropy digest: one hash per bucket of the member list (see gossip-plan.ts). */
export interface SyncMessage {
  readonly kind: 'sync';
  readonly src: string;
  readonly hashes: readonly number[];
}

/** The records of the buckets that differed (all of each bucket listed); `more` when buckets were left out. */
export interface SyncReplyMessage {
  readonly kind: 'sync-reply';
  readonly src: string;
  readonly buckets: readonly number[];
  readonly records: readonly RecordTuple[];
  readonly more: boolean;
}

/** Sent to a seed's address by a node that knows nothing else; answered with a sync-reply. */
export interface JoinMessage {
  readonly kind: 'join';
  readonly record: RecordTuple;
}

export type OverlayMessage =
  | PingMessage | AckMessage | PingReqMessage | GossipMessage | SyncMessage | SyncReplyMessage | JoinMessage;

export const OVERLAY_MESSAGE_KINDS = ['ping', 'ack', 'ping-req', 'gossip', 'sync', 'sync-reply', 'join'] as const;

/** Bounds on what a peer may send: a bigger list is refused as a whole, before it is looked at. */
export const OVERLAY_TEXT_CHARS_MAX = 256;
export const OVERLAY_RECORDS_PER_MESSAGE_MAX = 4096;
export const OVERLAY_BUCKETS_MAX = 65536;

const STATE_BY_RANK = [...MEMBER_STATES].sort((a, b) => STATE_RANK[a] - STATE_RANK[b]);

export function toTuple(m: Member): RecordTuple {
  return [m.id, m.address, m.zone, m.rack, m.capacityBytes, m.usedBytes, STATE_RANK[m.state], m.incarnation];
}

/** The tuple was checked by parseOverlayMessage, so its state rank is valid. */
export function fromTuple(t: RecordTuple): Member {
  const state = STATE_BY_RANK[t[6]] ?? 'dead';
  return { id: t[0], address: t[1], zone: t[2], rack: t[3], capacityBytes: t[4], usedBytes: t[5], state, incarnation: t[7] };
}

type Fields = Readonly<Record<string, unknown>>;

const isText = (v: unknown): v is string => typeof v === 'string' && v.length > 0 && v.length <= OVERLAY_TEXT_CHARS_MAX;
const isCount = (v: unknown): v is number => typeof v === 'number' && Number.isSafeInteger(v) && v >= 0;

function isTuple(v: unknown): v is RecordTuple {
  if (!Array.isArray(v) || v.length !== 8) return false;
  const rank = v[6];
  return isText(v[0]) && isText(v[1]) && isText(v[2]) && isText(v[3]) && isCount(v[4]) && isCount(v[5])
    && isCount(rank) && rank < STATE_BY_RANK.length && isCount(v[7]);
}

function tuples(v: unknown): readonly RecordTuple[] | undefined {
  if (!Array.isArray(v) || v.length > OVERLAY_RECORDS_PER_MESSAGE_MAX) return undefined;
  return v.every(isTuple) ? (v as RecordTuple[]) : undefined;
}

function counts(v: unknown, max: number, below: number): readonly number[] | undefined {
  if (!Array.isArray(v) || v.length > max) return undefined;
  return v.every((n) => isCount(n) && n < below) ? (v as number[]) : undefined;
}

/**
 * A received value as an OverlayMessage, or undefined when it is not one: a peer is not trusted, and a
 * bad message is dropped, never a crash. Unknown fields are ignored (a newer peer may add some).
 */
export function parseOverlayMessage(value: unknown): OverlayMessage | undefined {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return undefined;
  const f = value as Fields;
  const kind = f['kind'];
  if (kind === 'join') return isTuple(f['record']) ? { kind, record: f['record'] } : undefined;
  const src = f['src'];
  if (!isText(src)) return undefined;
  switch (kind) {
    case 'ping':
    case 'ack':
    case 'ping-req':
      return parseProbe(kind, src, f);
    case 'gossip': {
      const updates = tuples(f['updates']);
      return updates ? { kind, src, updates } : undefined;
    }
    case 'sync': {
      const hashes = counts(f['hashes'], OVERLAY_BUCKETS_MAX, 4294967296);
      return hashes && hashes.length > 0 ? { kind, src, hashes } : undefined;
    }
    case 'sync-reply': {
      const buckets = counts(f['buckets'], OVERLAY_BUCKETS_MAX, OVERLAY_BUCKETS_MAX);
      const records = tuples(f['records']);
      const more = f['more'];
      return buckets && records && typeof more === 'boolean' ? { kind, src, buckets, records, more } : undefined;
    }
    default:
      return undefined;
  }
}

function parseProbe(kind: 'ping' | 'ack' | 'ping-req', src: string, f: Fields): OverlayMessage | undefined {
  const seq = f['seq'];
  const updates = tuples(f['updates']);
  if (!isCount(seq) || updates === undefined) return undefined;
  if (kind === 'ack') return { kind, src, seq, updates };
  const target = f['target'];
  if (!isText(target)) return undefined;
  if (kind === 'ping') return { kind, src, seq, target, updates };
  const targetAddress = f['targetAddress'];
  return isText(targetAddress) ? { kind, src, seq, target, targetAddress, updates } : undefined;
}
