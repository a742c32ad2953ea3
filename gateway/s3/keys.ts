// Access keys: the KeyStore contract the S3 gateway asks for secrets, and the static store a composition root fills.
//
// Keys kept in the cluster (`shoal key create --user U`) are in cluster-keys.ts. Missing (issue 7): a key's user mapped to a uid/gid for the filesystem's permission checks (today every S3 request acts as root), and bucket ACLs.

export interface AccessKey {
  readonly id: string;
  readonly secret: string;
  /** Who the key belongs to (shown in logs; later the filesystem caller). */
  readonly user: string;
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
