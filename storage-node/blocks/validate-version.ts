// What an acceptor checks before it accepts or adopts a version: shape, address, signature, the writer's right, order.
//
// Refusals are typed: Invalid (shape, address, a block changing its identity), Forbidden (a forged signature, a
// writer without the right, an ACL change by anyone but the owner), Conflict (not the next version: replayed, old,
// or skipping ahead), Unavailable (a quorum-only change signed by a key this node does not trust yet: the one
// answer that depends on the node, so the one a proposer must not take as every acceptor's). A non-owner writer of an ACL block must carry the current lists unchanged, byte for byte, so a
// change is refused even when it reuses an older list that the owner once signed.
import { isShoalError, ShoalError } from '../base/errors.js';
import { addressHex, type Address } from './address.js';
import { mayWriteAcl, verifyAclSignature } from './acl.js';
import { ownerBlockAddress, verifyVersionSignature } from './mutable.js';
import { namedAddress } from './named.js';
import { aclSigningBytes } from './version-codec.js';
import { checkVersionShape, type AclList, type VersionRecord } from './version-record.js';

export interface ValidateOptions {
  /**
   * Keys that may sign a version changing nothing but the quorum: the storage nodes' keys (certified by the
   * cluster CA), so that repair can move a block whose owner is away. Default: nobody but the block's writers.
   */
  readonly mayReconfigure?: (writer: Buffer) => boolean;
}

const forbidden = (message: string): ShoalError => new ShoalError('Forbidden', message, { subject: 'block' });
const conflict = (message: string): ShoalError => new ShoalError('Conflict', message, { subject: 'block' });
const invalid = (message: string): ShoalError => new ShoalError('Invalid', message, { subject: 'block' });

export function addressOf(record: VersionRecord): Address {
  return record.kind === 'named' ? namedAddress(record.owner, record.name) : ownerBlockAddress(record.owner, record.salt);
}

/** The strict check of the next version: `next.version` must be `current.version + 1` (1 for a new block). */
export function validateVersion(current: VersionRecord | undefined, next: VersionRecord, options: ValidateOptions = {}): void {
  checkStandalone(next);
  if (current === undefined) {
    if (next.version !== 1) throw conflict(`version ${next.version} of a block with no version yet (the first is 1)`);
    return checkWriter(next, undefined, options);
  }
  checkSameBlock(current, next);
  if (next.version !== current.version + 1) {
    throw conflict(`block ${addressHex(next.address)}: version ${next.version} does not follow ${current.version} (replayed, old or ahead)`);
  }
  checkWriter(next, current, options);
}

/**
 * A lagging acceptor adopting a chosen version over a gap (current.version + 1 < next.version): everything that
 * can be checked without the versions in between. The ACL epoch must not go back.
 */
export function validateCatchUp(current: VersionRecord | undefined, next: VersionRecord, options: ValidateOptions = {}): void {
  checkStandalone(next);
  if (current === undefined) return checkWriter(next, undefined, options, true);
  checkSameBlock(current, next);
  if (next.version <= current.version) throw conflict(`version ${next.version} is not newer than ${current.version}`);
  if (current.kind === 'acl' && next.kind === 'acl' && next.acl.epoch < current.acl.epoch) {
    throw forbidden(`ACL epoch ${next.acl.epoch} is older than ${current.acl.epoch}`);
  }
  checkWriter(next, undefined, options, true);
}

/**
 * The consensus acceptor's `validate` callback: the version must belong to `block` (its address in hex), then the
 * strict check for the next version or the catch-up check over a gap; a refusal is returned (typed), never thrown.
 */
export function versionValidator(options: ValidateOptions = {}): (block: string, current: VersionRecord | undefined, next: VersionRecord) => ShoalError | undefined {
  return (block, current, next) => {
    try {
      if (!Buffer.isBuffer(next.address) || addressHex(next.address) !== block) throw invalid(`a version of block ${addressHex(next.address)} filed under ${block}`);
      if (next.version > (current?.version ?? 0) + 1) validateCatchUp(current, next, options);
      else validateVersion(current, next, options);
      return undefined;
    } catch (err) {
      if (isShoalError(err)) return err;
      throw err;
    }
  };
}

function checkStandalone(next: VersionRecord): void {
  checkVersionShape(next);
  if (!addressOf(next).equals(next.address)) throw invalid(`the version does not belong to block ${addressHex(next.address)}`);
  if (!verifyVersionSignature(next)) throw forbidden(`block ${addressHex(next.address)}: the signature does not match the version (forged or altered)`);
  if (next.kind === 'acl' && !verifyAclSignature(next)) throw forbidden(`block ${addressHex(next.address)}: the ACL is not signed by the owner`);
  if (next.kind === 'named' && next.payload.length !== 32) throw invalid('a named block points at a 32-byte address');
}

function checkSameBlock(current: VersionRecord, next: VersionRecord): void {
  if (!current.address.equals(next.address) || current.kind !== next.kind || !current.owner.equals(next.owner)) {
    throw invalid(`block ${addressHex(current.address)}: a version cannot change the block's address, kind or owner`);
  }
}

/** The writer's right: the owner; a listed writer (ACL); a trusted key for a quorum-only change (repair). */
function checkWriter(next: VersionRecord, current: VersionRecord | undefined, options: ValidateOptions, catchUp = false): void {
  const byOwner = next.writer.equals(next.owner);
  if (next.kind === 'acl' && !byOwner && current?.kind === 'acl' && !sameAcl(current.acl, next.acl, next.address)) {
    throw forbidden(`block ${addressHex(next.address)}: only the owner changes the writers and readers`);
  }
  if (byOwner) return checkEpoch(next, current);
  if (next.kind === 'acl' && mayWriteAcl(next, next.writer)) return;
  const quorumOnly = catchUp || (current !== undefined && onlyQuorumChanged(current, next));
  const reconfigurer = options.mayReconfigure?.(next.writer);
  if (reconfigurer === true && quorumOnly) return;
  if (reconfigurer === false && quorumOnly) {
    // Perhaps a node key whose certificate has not reached this node yet (it restarted, or joined, since the
    // last announcement): other nodes may take the version, so the answer is "not now", never a definite no.
    throw new ShoalError('Unavailable', `block ${addressHex(next.address)}: the version is signed by a key this node does not trust (yet)`, { subject: 'block' });
  }
  throw forbidden(`block ${addressHex(next.address)}: the signer may not write this block`);
}

function checkEpoch(next: VersionRecord, current: VersionRecord | undefined): void {
  if (next.kind !== 'acl' || current?.kind !== 'acl') return;
  if (next.acl.epoch < current.acl.epoch) throw conflict(`ACL epoch ${next.acl.epoch} is older than ${current.acl.epoch}`);
  if (next.acl.epoch === current.acl.epoch && !sameAcl(current.acl, next.acl, next.address)) {
    throw conflict('a changed ACL needs a new epoch');
  }
}

function sameAcl(a: AclList, b: AclList, address: Address): boolean {
  return a.epoch === b.epoch && aclSigningBytes(address, a).equals(aclSigningBytes(address, b)) && a.signature.equals(b.signature);
}

function onlyQuorumChanged(current: VersionRecord, next: VersionRecord): boolean {
  if (!current.payload.equals(next.payload)) return false;
  return current.kind !== 'acl' || next.kind !== 'acl' || sameAcl(current.acl, next.acl, next.address);
}
