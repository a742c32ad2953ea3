// The storage node's operations: names and body shapes, checked on arrival (a peer is never trusted to send
// what the types say).
import { ShoalError } from '../base/errors.js';
import { BATCH_ITEMS_MAX } from '../base/limits.js';
import type { Member } from '../overlay/membership.js';

export const OP = {
  info: 'node.info',
  members: 'node.members',
  leave: 'node.leave',
  putContent: 'content.put-many',
  getContent: 'content.get-many',
  hasContent: 'content.has-many',
  removeContent: 'content.remove',
  consensus: 'consensus.batch',
  repairStatus: 'node.repair-status',
  drain: 'node.drain',
  trustNodeKey: 'node.trust-key',
  quorumOf: 'consensus.quorum-of',
} as const;

/** In a get-many reply: this block was not included (the reply was full); ask for it again. */
export const NOT_SENT = 0;

export interface NodeInfo {
  readonly id: string;
  readonly address: string;
  readonly zone: string;
  readonly rack: string;
  readonly capacityBytes: number;
  readonly usedBytes: number;
  readonly blocks: number;
  readonly version: string;
}

export interface WireContentBlock {
  readonly owner: Buffer;
  readonly salt: Buffer;
  readonly data: Buffer;
}

export interface PutContentItem {
  readonly address: Buffer;
  readonly block: WireContentBlock;
  /** The copies the writer asked for (its volume's R): kept with the block, so repair keeps that many. */
  readonly replicas?: number;
}

/** The most copies a block may ask for. */
export const BLOCK_REPLICAS_MAX = 16;

export type PutContentOutcome = { ok: true } | { ok: false; kind: string; message: string };

export interface RemoveContentBody {
  readonly address: Buffer;
  readonly signature: Buffer;
}

function invalid(message: string): ShoalError {
  return new ShoalError('Invalid', message, { subject: 'frame' });
}

function record(value: unknown, what: string): Record<string, unknown> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw invalid(`${what} must be a map`);
  return value as Record<string, unknown>;
}

function bytes(value: unknown, what: string): Buffer {
  if (!Buffer.isBuffer(value)) throw invalid(`${what} must be bytes`);
  return value;
}

function list(value: unknown, what: string): unknown[] {
  if (!Array.isArray(value)) throw invalid(`${what} must be a list`);
  if (value.length > BATCH_ITEMS_MAX) throw new ShoalError('TooLarge', `${what} holds at most ${BATCH_ITEMS_MAX} items`, { subject: 'frame' });
  return value;
}

export function parsePutContent(body: unknown): PutContentItem[] {
  return list(record(body, 'put body')['items'], 'items').map((raw, i) => {
    const item = record(raw, `items[${i}]`);
    const block = record(item['block'], `items[${i}].block`);
    const replicas = item['replicas'];
    if (replicas !== undefined && (!Number.isInteger(replicas) || (replicas as number) < 1 || (replicas as number) > BLOCK_REPLICAS_MAX)) {
      throw new ShoalError('Invalid', `items[${i}].replicas must be a whole number from 1 to ${BLOCK_REPLICAS_MAX}`, { subject: 'frame' });
    }
    return {
      ...(replicas === undefined ? {} : { replicas: replicas as number }),
      address: bytes(item['address'], `items[${i}].address`),
      block: {
        owner: bytes(block['owner'], 'owner'),
        salt: bytes(block['salt'], 'salt'),
        data: bytes(block['data'], 'data'),
      },
    };
  });
}

export function parseAddresses(body: unknown): Buffer[] {
  return list(record(body, 'body')['addresses'], 'addresses').map((a, i) => bytes(a, `addresses[${i}]`));
}

export function parseRemoveContent(body: unknown): RemoveContentBody {
  const fields = record(body, 'remove body');
  return { address: bytes(fields['address'], 'address'), signature: bytes(fields['signature'], 'signature') };
}

/** A member as a node reports it: the record, and how long ago that node last heard from it. */
export type MemberView = Member & { readonly lastHeardAgoMs?: number };

const MEMBER_STATES = new Set(['alive', 'suspect', 'dead', 'draining', 'left']);

export function parseMember(value: unknown): Member {
  const m = record(value, 'member');
  const text = (key: string): string => {
    const v = m[key];
    if (typeof v !== 'string' || v.length === 0 || v.length > 256) throw invalid(`member.${key} must be a non-empty string`);
    return v;
  };
  const count = (key: string): number => {
    const v = m[key];
    if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < 0) throw invalid(`member.${key} must be a non-negative integer`);
    return v;
  };
  const state = text('state');
  if (!MEMBER_STATES.has(state)) throw invalid(`member.state "${state}" is not a member state`);
  return {
    id: text('id'), address: text('address'), zone: text('zone'), rack: text('rack'),
    capacityBytes: count('capacityBytes'), usedBytes: count('usedBytes'),
    state: state as Member['state'], incarnation: count('incarnation'),
  };
}

export function parseMembers(value: unknown): MemberView[] {
  if (!Array.isArray(value)) throw invalid('members must be a list');
  return value.map((raw) => {
    const member = parseMember(raw);
    const ago = (raw as Record<string, unknown>)['lastHeardAgoMs'];
    return typeof ago === 'number' && Number.isFinite(ago) && ago >= 0 ? { ...member, lastHeardAgoMs: ago } : member;
  });
}

/** Consensus messages for any number of blocks, checked one by one by the acceptor (consensus/messages.ts). */
export function parseConsensusBatch(body: unknown): unknown[] {
  return list(record(body, 'consensus body')['messages'], 'messages');
}

/** A node's repair progress, as `shoal status` shows it: what is left to move off or onto other nodes, and how fast. */
export interface RepairStatus {
  readonly heldBlocks: number;
  readonly heldBytes: number;
  /** Blocks (and their bytes) this node still has to copy elsewhere or drop once copied. */
  readonly pendingBlocks: number;
  readonly pendingBytes: number;
  /** Bytes copied to other nodes over the last few seconds, per second. */
  readonly bytesPerSecond: number;
  readonly copiedBytesTotal: number;
  readonly passes: number;
  /** The most bytes pending since the node last had nothing to move: the 100 % of its progress bar. */
  readonly episodeBytes: number;
  readonly draining: boolean;
}

export function parseRepairStatus(value: unknown): RepairStatus {
  const fields = record(value, 'repair status');
  const count = (key: string): number => {
    const v = fields[key];
    if (typeof v !== 'number' || !Number.isFinite(v) || v < 0) throw invalid(`repair status.${key} must be a non-negative number`);
    return v;
  };
  if (typeof fields['draining'] !== 'boolean') throw invalid('repair status.draining must be a boolean');
  return {
    heldBlocks: count('heldBlocks'), heldBytes: count('heldBytes'), pendingBlocks: count('pendingBlocks'), pendingBytes: count('pendingBytes'),
    bytesPerSecond: count('bytesPerSecond'), copiedBytesTotal: count('copiedBytesTotal'), passes: count('passes'), episodeBytes: count('episodeBytes'), draining: fields['draining'],
  };
}

/** A mutable block's chosen version and quorum as one acceptor holds them (what repair moved, for operators and tests). */
export interface QuorumOf {
  readonly version: number;
  readonly quorum: readonly string[];
}

export function parseQuorumOf(value: unknown): QuorumOf | null {
  if (value === null) return null;
  const fields = record(value, 'quorum-of reply');
  const version = fields['version'];
  const quorum = fields['quorum'];
  if (typeof version !== 'number' || !Number.isSafeInteger(version) || version < 1) throw invalid('quorum-of.version must be a positive integer');
  if (!Array.isArray(quorum) || !quorum.every((id) => typeof id === 'string')) throw invalid('quorum-of.quorum must be a list of node ids');
  return { version, quorum: quorum as string[] };
}
