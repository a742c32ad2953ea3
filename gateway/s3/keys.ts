// Access keys: the KeyStore contract the S3 gateway asks for secrets, and the static store a composition root fills.
//
// Keys kept in the cluster (`shoal key create --user U`) are in cluster-keys.ts. A key with a uid acts as that uid in the
// filesystem's permission checks (the same mode bits NFS clients meet); a key without one is an admin key and acts as
// root (the bootstrap key `shoal cluster up` prints). Missing: bucket ACLs and policies.
import { ROOT_CALLER, type Caller } from '../fs/permissions.js';

export interface AccessKey {
  readonly id: string;
  readonly secret: string;
  /** Who the key belongs to (shown in logs and listings). */
  readonly user: string;
  /** The filesystem identity requests signed with this key act as; absent: root (an admin key). */
  readonly uid?: number;
  /** The primary group (defaults to the uid). */
  readonly gid?: number;
}

/** The filesystem caller a key's requests act as. */
export function callerOf(key: AccessKey): Caller {
  return key.uid === undefined ? ROOT_CALLER : { uid: key.uid, gid: key.gid ?? key.uid, gids: [] };
}

/** uids and gids as NFSv3 carries them (uint32), without 0 (root is an admin key) and the 'nobody' 2^32-1. */
export function isUserId(id: number): boolean {
  return Number.isInteger(id) && id > 0 && id < 0xffff_ffff;
}

export interface KeyStore {
  /** The key with this id, or undefined when there is none. */
  get(id: string): Promise<AccessKey | undefined>;
}

export class StaticKeyStore implements KeyStore {
  readonly #keys: ReadonlyMap<string, AccessKey>;

  constructor(keys: readonly AccessKey[]) {
    this.#keys = new Map(keys.map((k) => [k.id, k]));
  }

  get(id: string): Promise<AccessKey | undefined> {
    return Promise.resolve(this.#keys.get(id));
  }
}
