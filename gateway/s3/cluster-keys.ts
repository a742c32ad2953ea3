// Access keys kept in the cluster: one mutable block named `s3-keys` holding every key (id, secret, user), written by
// `shoal key create` and read by every gateway, which keeps what it read for `refreshMs` and reads again at once when a
// request names a key id it does not know (a key made a moment ago works on its first request).
//
// The secrets are sealed: the block is owner-keyed, so its content is encrypted with the admin identity's data key
// (storage-node/client/mutable-blocks.ts) and only a process holding the admin identity — `shoal key`, a gateway
// started with the cluster directory — can read or change it. Storage nodes hold ciphertext only.
import type { Clock } from '../../storage-node/base/clock.js';
import { ShoalError } from '../../storage-node/base/errors.js';
import type { FsBlocks } from '../fs/fs-blocks.js';
import { namedBlock, NamedRecordCache } from '../fs/named-record.js';
import { isUserId, type AccessKey, type KeyStore } from './keys.js';

export const KEYS_BLOCK_NAME = 's3-keys';
const KEYS_FORMAT_VERSION = 1;
const USER = /^[A-Za-z0-9][A-Za-z0-9._@+=-]{0,63}$/;
/** Key ids as AWS shapes them: 20 upper-case letters and digits. */
const KEY_ID_ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';

export interface StoredKey extends AccessKey {
  readonly createdMs: number;
}

export class ClusterKeyStore implements KeyStore {
  readonly #blocks: FsBlocks;
  readonly #clock: Clock;
  readonly #record: NamedRecordCache<Map<string, StoredKey>>;

  /** `refreshMs`: how long a gateway uses what it read before reading again (a removed key stops working within that). */
  constructor(options: { blocks: FsBlocks; clock: Clock; refreshMs: number }) {
    this.#blocks = options.blocks;
    this.#clock = options.clock;
    this.#record = new NamedRecordCache({
      ...options, name: KEYS_BLOCK_NAME, empty: new Map(),
      decode: (content) => new Map(decodeKeys(content).map((k) => [k.id, k])),
    });
  }

  async get(id: string): Promise<AccessKey | undefined> {
    const known = (await this.#record.get()).get(id);
    if (known !== undefined) return known;
    // An unknown id: read the block once more before the request is refused with InvalidAccessKeyId.
    return (await this.#record.get(true)).get(id);
  }

  async list(): Promise<StoredKey[]> {
    return [...(await this.#record.get(true)).values()].sort((a, b) => a.createdMs - b.createdMs);
  }

  /**
   * A new key for `user` (one consensus write; concurrent creators are replayed, not lost). With `identity` its requests
   * act as that uid/gid in the filesystem; without, it is an admin key (root).
   */
  async create(user: string, identity?: { readonly uid: number; readonly gid?: number }): Promise<StoredKey> {
    if (!USER.test(user)) throw new ShoalError('Invalid', `--user "${user}": use 1 to 64 letters, digits or . _ @ + = -`, { subject: 'config' });
    if (identity !== undefined && (!isUserId(identity.uid) || (identity.gid !== undefined && !isUserId(identity.gid)))) {
      throw new ShoalError('Invalid', '--uid and --gid are whole numbers from 1 to 4294967294 (leave --uid out for an admin key)', { subject: 'config' });
    }
    const bytes = this.#blocks.entropy.bytes(20 + 30);
    const id = `SK${[...bytes.subarray(0, 18)].map((b) => KEY_ID_ALPHABET[b & 31]).join('')}`;
    const key: StoredKey = {
      id, secret: bytes.subarray(20).toString('base64url'), user, createdMs: this.#clock.wallMs(),
      ...(identity === undefined ? {} : { uid: identity.uid, gid: identity.gid ?? identity.uid }),
    };
    const address = await namedBlock(this.#blocks, KEYS_BLOCK_NAME, encodeKeys([]));
    await this.#blocks.updateMutable(address, (content) => encodeKeys([...decodeKeys(content).filter((k) => k.id !== id), key]));
    this.#record.invalidate();
    return key;
  }

  /** The first admin key of `user`, made when there is none (`shoal cluster up` prints the same key at every start). */
  async ensure(user: string): Promise<StoredKey> {
    return (await this.list()).find((k) => k.user === user && k.uid === undefined) ?? this.create(user);
  }
}

function encodeKeys(keys: readonly StoredKey[]): Buffer {
  return Buffer.from(JSON.stringify({ v: KEYS_FORMAT_VERSION, keys }));
}

/** Strict: a malformed block is an error, not an empty key list. */
export function decodeKeys(bytes: Buffer): StoredKey[] {
  const fail = (why: string): never => {
    throw new ShoalError('Invalid', `the s3-keys block is malformed: ${why}`, { subject: 'block' });
  };
  let parsed: unknown;
  try {
    parsed = JSON.parse(bytes.toString('utf8'));
  } catch {
    return fail('not JSON');
  }
  const record = parsed as { v?: unknown; keys?: unknown };
  if (record.v !== KEYS_FORMAT_VERSION) fail(`format version ${String(record.v)}, this gateway reads ${KEYS_FORMAT_VERSION}`);
  if (!Array.isArray(record.keys)) fail('no key list');
  return (record.keys as unknown[]).map((item) => {
    const k = item as Partial<StoredKey>;
    if (typeof k.id !== 'string' || typeof k.secret !== 'string' || typeof k.user !== 'string' || typeof k.createdMs !== 'number') fail('a key without id, secret, user or date');
    if ((k.uid !== undefined && !isUserId(k.uid)) || (k.gid !== undefined && !isUserId(k.gid)) || (k.uid === undefined && k.gid !== undefined)) fail('a key with a bad uid or gid');
    return {
      id: k.id as string, secret: k.secret as string, user: k.user as string, createdMs: k.createdMs as number,
      ...(k.uid === undefined ? {} : { uid: k.uid, gid: k.gid ?? k.uid }),
    };
  });
}
