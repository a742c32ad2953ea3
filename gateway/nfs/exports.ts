// Exports (DESIGN §7): per-volume options — read-only, the client addresses allowed, root or all squash to an anonymous
// uid/gid — kept in one mutable block named `exports`, read by every gateway (cached a few seconds) and written by
// `shoal export set`. Applied before a procedure runs: a refused call never reaches the filesystem.
import { BlockList, isIP } from 'node:net';
import type { Clock } from '../../storage-node/base/clock.js';
import { ShoalError } from '../../storage-node/base/errors.js';
import type { FsBlocks } from '../fs/fs-blocks.js';
import { namedBlock, NamedRecordCache } from '../fs/named-record.js';
import type { VolumeSettings } from '../fs/volume.js';
import type { RpcAuth } from '../rpc/auth-sys.js';
import { auth_flavor } from '../rpc/rpc-message.js';
import type { RpcCallContext, RpcResults } from '../rpc/rpc-program.js';
import { XdrReader, xdrPadding } from '../rpc/xdr-reader.js';
import { readFh, writeStatus } from './codec.js';
import { decodeFileHandle } from './file-handle.js';
import type { NfsContext, NfsHandler } from './nfs-context.js';
import { NFSPROC3, nfsstat3 } from './types.js';

export const EXPORTS_BLOCK_NAME = 'exports';
const EXPORTS_FORMAT_VERSION = 1;
/** RFC 1813 §4.4 leaves the anonymous user to the server; 65534 is "nobody" on Linux. */
const NOBODY = 65534;
const ID_MAX = 0xffff_ffff;
const ALLOW_ENTRIES_MAX = 64;

/** none: ids as the client sends them; root: uid/gid 0 become the anonymous ids; all: every caller does. */
export type ExportSquash = 'none' | 'root' | 'all';

export interface ExportOptions {
  readonly readOnly: boolean;
  /** CIDRs (or single addresses); empty: every client. */
  readonly allow: readonly string[];
  readonly squash: ExportSquash;
  readonly anonUid: number;
  readonly anonGid: number;
}

/** A volume with no entry is exported read-write to every client without squashing, as `peer-ganesha.sh` serves. */
export const EXPORT_DEFAULTS: ExportOptions = { readOnly: false, allow: [], squash: 'none', anonUid: NOBODY, anonGid: NOBODY };

/** One volume's entry: keyed by the volume id (a volume deleted and made again under its name starts from the defaults). */
export interface ExportEntry {
  readonly volumeId: string;
  readonly volume: string;
  readonly options: ExportOptions;
}

/** Checks options, with the fix in the message; returns them with the allow list in canonical form. */
export function validateExportOptions(options: ExportOptions): ExportOptions {
  const fail = (message: string): never => {
    throw new ShoalError('Invalid', message, { subject: 'config' });
  };
  if (options.allow.length > ALLOW_ENTRIES_MAX) fail(`at most ${ALLOW_ENTRIES_MAX} --allow entries per volume`);
  const allow = options.allow.map((cidr) => canonicalCidr(cidr) ?? fail(`--allow "${cidr}": give an address or a CIDR such as 10.0.0.0/8, 192.168.1.7 or fd00::/8`));
  for (const [flag, id] of [['--anon-uid', options.anonUid], ['--anon-gid', options.anonGid]] as const) {
    if (!Number.isInteger(id) || id < 0 || id > ID_MAX) fail(`${flag} ${id}: give a whole number from 0 to ${ID_MAX}`);
  }
  if (!['none', 'root', 'all'].includes(options.squash)) fail(`squash "${options.squash}": use --no-squash, --root-squash or --all-squash`);
  return { ...options, allow };
}

/** "10.1.2.3/8" → "10.1.2.3/8" checked; "10.1.2.3" → "10.1.2.3/32"; undefined when not an address or CIDR. */
function canonicalCidr(text: string): string | undefined {
  const [address = '', prefixText, extra] = text.trim().split('/');
  if (extra !== undefined) return undefined;
  const family = isIP(address);
  if (family === 0) return undefined;
  const bits = family === 4 ? 32 : 128;
  const prefix = prefixText === undefined ? bits : Number(prefixText);
  if (prefixText !== undefined && !/^\d{1,3}$/.test(prefixText)) return undefined;
  if (!Number.isInteger(prefix) || prefix < 0 || prefix > bits) return undefined;
  return `${address}/${prefix}`;
}

/** An IPv4 client reaching a dual-stack socket shows as ::ffff:a.b.c.d; rules are written for a.b.c.d. */
function plainAddress(address: string): string {
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(address);
  return mapped?.[1] ?? address;
}

const allowListCache = new WeakMap<readonly string[], BlockList>();

export function addressAllowed(options: ExportOptions, remoteAddress: string): boolean {
  if (options.allow.length === 0) return true;
  let list = allowListCache.get(options.allow);
  if (list === undefined) {
    list = new BlockList();
    for (const cidr of options.allow) {
      const [address = '', prefix = ''] = cidr.split('/');
      list.addSubnet(address, Number(prefix), isIP(address) === 6 ? 'ipv6' : 'ipv4');
    }
    allowListCache.set(options.allow, list);
  }
  const address = plainAddress(remoteAddress);
  const family = isIP(address);
  if (family === 0) return false;
  return list.check(address, family === 6 ? 'ipv6' : 'ipv4');
}

/** The caller as the export sees it: squashed ids are the anonymous ones (as knfsd, gid 0 is squashed with uid 0). */
export function squashAuth(options: ExportOptions, auth: RpcAuth): RpcAuth {
  const anonymous: RpcAuth = {
    flavor: auth_flavor.AUTH_SYS,
    parms: { stamp: 0, machinename: '', uid: options.anonUid, gid: options.anonGid, gids: [] },
  };
  if (auth.flavor !== auth_flavor.AUTH_SYS) return anonymous;
  if (options.squash === 'all') return anonymous;
  if (options.squash === 'none') return auth;
  const { uid, gid, gids } = auth.parms;
  if (uid !== 0 && gid !== 0 && !gids.includes(0)) return auth;
  return {
    flavor: auth_flavor.AUTH_SYS,
    parms: {
      ...auth.parms,
      uid: uid === 0 ? options.anonUid : uid,
      gid: gid === 0 ? options.anonGid : gid,
      gids: gids.map((g) => (g === 0 ? options.anonGid : g)),
    },
  };
}

/** The procedures that change the filesystem: NFS3ERR_ROFS on a read-only export (RFC 1813 §2.6). */
export const MODIFYING_PROCEDURES: ReadonlySet<number> = new Set([
  NFSPROC3.SETATTR, NFSPROC3.WRITE, NFSPROC3.CREATE, NFSPROC3.MKDIR, NFSPROC3.SYMLINK, NFSPROC3.MKNOD,
  NFSPROC3.REMOVE, NFSPROC3.RMDIR, NFSPROC3.RENAME, NFSPROC3.LINK,
]);

/**
 * Each procedure's resfail body with no attributes (RFC 1813 §3.3): the number of FALSE booleans it is made of —
 * post_op_attr is one, wcc_data two (pre_op_attr, post_op_attr). STYLE §D: every error carries its failure body.
 */
export const EMPTY_FAILURE_BODY_WORDS: Readonly<Record<number, number>> = {
  [NFSPROC3.GETATTR]: 0, [NFSPROC3.SETATTR]: 2, [NFSPROC3.LOOKUP]: 1, [NFSPROC3.ACCESS]: 1, [NFSPROC3.READLINK]: 1,
  [NFSPROC3.READ]: 1, [NFSPROC3.WRITE]: 2, [NFSPROC3.CREATE]: 2, [NFSPROC3.MKDIR]: 2, [NFSPROC3.SYMLINK]: 2,
  [NFSPROC3.MKNOD]: 2, [NFSPROC3.REMOVE]: 2, [NFSPROC3.RMDIR]: 2, [NFSPROC3.RENAME]: 4, [NFSPROC3.LINK]: 3,
  [NFSPROC3.READDIR]: 1, [NFSPROC3.READDIRPLUS]: 1, [NFSPROC3.FSSTAT]: 1, [NFSPROC3.FSINFO]: 1,
  [NFSPROC3.PATHCONF]: 1, [NFSPROC3.COMMIT]: 2,
};

function refusal(proc: number, status: nfsstat3): RpcResults {
  const words = EMPTY_FAILURE_BODY_WORDS[proc] ?? 0;
  return (w) => {
    writeStatus(w, status);
    for (let i = 0; i < words; i++) w.writeBool(false);
  };
}

/** Where a gateway finds a volume's export options. */
export interface ExportSource {
  optionsOf(volumeId: string): Promise<ExportOptions>;
}

/**
 * Wraps an NFS procedure (every one but NULL takes a file handle first): reads the handle, finds the volume's export,
 * refuses a client outside `allow` (NFS3ERR_ACCES) and a change to a read-only export (NFS3ERR_ROFS), squashes the
 * caller, then runs the procedure on the unread arguments. A handle that does not decode is left to the procedure.
 */
export function withExports(proc: number, handler: NfsHandler, source: ExportSource): NfsHandler {
  return async (args, call, nfs) => {
    const fh = readFh(args);
    // The handle is a view of the record: the arguments, handle included, are the bytes from its length word on.
    const whole = new XdrReader(Buffer.from(fh.buffer, fh.byteOffset - 4, 4 + fh.length + xdrPadding(fh.length) + args.remaining));
    let volumeId: string;
    try {
      volumeId = decodeFileHandle(fh).volumeId.toString('hex');
    } catch {
      return handler(whole, call, nfs);
    }
    let options: ExportOptions;
    try {
      options = await source.optionsOf(volumeId);
    } catch (err) {
      return refusal(proc, nfs.status(err, call));
    }
    if (!addressAllowed(options, call.remoteAddress)) {
      call.log.info({ remote: call.remoteAddress, volumeId }, 'nfs.export_refused');
      return refusal(proc, nfsstat3.NFS3ERR_ACCES);
    }
    if (options.readOnly && MODIFYING_PROCEDURES.has(proc)) return refusal(proc, nfsstat3.NFS3ERR_ROFS);
    const squashed: RpcCallContext = options.squash === 'none' && call.auth.flavor === auth_flavor.AUTH_SYS ? call : { ...call, auth: squashAuth(options, call.auth) };
    return handler(whole, squashed, nfs);
  };
}

/** Whether MNT may hand this client the volume's root handle (MNT3ERR_ACCES otherwise). */
export async function mountAllowed(nfs: NfsContext, settings: VolumeSettings, remoteAddress: string): Promise<boolean> {
  if (nfs.exports === undefined) return true;
  return addressAllowed(await nfs.exports.optionsOf(settings.id), remoteAddress);
}

/** The `exports` block: every volume's options, read by gateways and written by `shoal export set`. */
export class ExportsCatalogue implements ExportSource {
  readonly #blocks: FsBlocks;
  readonly #record: NamedRecordCache<Map<string, ExportEntry>>;

  /** `refreshMs`: how long a gateway uses what it read before reading again (a change applies within that). */
  constructor(options: { blocks: FsBlocks; clock: Clock; refreshMs: number }) {
    this.#blocks = options.blocks;
    this.#record = new NamedRecordCache({
      ...options, name: EXPORTS_BLOCK_NAME, empty: new Map(),
      decode: (content) => new Map(decodeExports(content).map((e) => [e.volumeId, e])),
    });
  }

  async optionsOf(volumeId: string): Promise<ExportOptions> {
    return (await this.#record.get()).get(volumeId)?.options ?? EXPORT_DEFAULTS;
  }

  async list(): Promise<ExportEntry[]> {
    return [...(await this.#record.get(true)).values()];
  }

  /** Replaces a volume's options (one consensus write; concurrent setters of other volumes are replayed, not lost). */
  async set(volume: VolumeSettings, options: ExportOptions): Promise<ExportEntry> {
    const entry: ExportEntry = { volumeId: volume.id, volume: volume.name, options: validateExportOptions(options) };
    const address = await namedBlock(this.#blocks, EXPORTS_BLOCK_NAME, encodeExports([]));
    await this.#blocks.updateMutable(address, (content) => {
      const entries = decodeExports(content).filter((e) => e.volumeId !== volume.id);
      return encodeExports([...entries, entry].sort((a, b) => (a.volume < b.volume ? -1 : 1)));
    });
    this.#record.invalidate();
    return entry;
  }
}

function encodeExports(entries: readonly ExportEntry[]): Buffer {
  return Buffer.from(JSON.stringify({ v: EXPORTS_FORMAT_VERSION, exports: entries }));
}

/** Strict: a malformed block is an error, not an open export. */
function decodeExports(bytes: Buffer): ExportEntry[] {
  const fail = (why: string): never => {
    throw new ShoalError('Invalid', `the exports block is malformed: ${why}`, { subject: 'block' });
  };
  let parsed: unknown;
  try {
    parsed = JSON.parse(bytes.toString('utf8'));
  } catch {
    return fail('not JSON');
  }
  const record = parsed as { v?: unknown; exports?: unknown };
  if (record.v !== EXPORTS_FORMAT_VERSION) fail(`format version ${String(record.v)}, this gateway reads ${EXPORTS_FORMAT_VERSION}`);
  if (!Array.isArray(record.exports)) fail('no exports list');
  return (record.exports as unknown[]).map((item) => {
    const e = item as Partial<ExportEntry> & { options?: Partial<ExportOptions> };
    if (typeof e.volumeId !== 'string' || typeof e.volume !== 'string' || typeof e.options !== 'object' || e.options === null) fail('an entry without volume or options');
    const o = e.options as Partial<ExportOptions>;
    if (typeof o.readOnly !== 'boolean' || !Array.isArray(o.allow) || !o.allow.every((a) => typeof a === 'string')) fail(`bad options for ${String(e.volume)}`);
    const options = validateExportOptions({
      readOnly: o.readOnly as boolean, allow: o.allow as string[], squash: o.squash as ExportSquash,
      anonUid: o.anonUid as number, anonGid: o.anonGid as number,
    });
    return { volumeId: e.volumeId as string, volume: e.volume as string, options };
  });
}
