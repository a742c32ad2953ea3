// DeleteObject and DeleteObjects: remove the file (or a marker's flag), then prune the parent directories a PUT made
// that are now empty and no marker, so that a prefix disappears with its last key as it does in S3.
import { isShoalError } from '../../../storage-node/base/errors.js';
import type { FileSystem } from '../../fs/filesystem.js';
import { ETAG_XATTR } from '../../fs/inode.js';
import { ROOT_CALLER, type Caller } from '../../fs/permissions.js';
import { s3ErrorFor, s3Errors } from '../errors.js';
import { HEADERS_XATTR, MARKER_XATTR, parseKey } from '../key-path.js';
import type { Address } from '../key-path.js';
import { parseXml } from '../xml.js';

const DELETE_OBJECTS_KEYS_MAX = 1000;

/** Deleting a key that does not exist succeeds, as in S3. `caller`: whose write permission is checked (default root). */
export async function deleteObject(fs: FileSystem, key: string, caller: Caller = ROOT_CALLER): Promise<void> {
  const path = parseKey(key);
  const chain: Address[] = [fs.root];
  for (const name of path.dirs) {
    const attrs = await fs.lookup(caller, chain[chain.length - 1] as Address, name).catch((err: unknown) => {
      if (isShoalError(err, 'NotFound')) return undefined;
      throw err;
    });
    if (attrs === undefined || attrs.type !== 'dir') return;
    chain.push(attrs.address);
  }
  if (path.name === undefined) {
    const dir = chain[chain.length - 1] as Address;
    if (!(await fs.getattr(dir)).xattrs.has(MARKER_XATTR)) return;
    await fs.setattr(caller, dir, { xattrs: new Map([[MARKER_XATTR, null], [ETAG_XATTR, null], [HEADERS_XATTR, null]]) });
  } else {
    const parent = chain[chain.length - 1] as Address;
    const attrs = await fs.lookup(caller, parent, path.name).catch((err: unknown) => {
      if (isShoalError(err, 'NotFound')) return undefined;
      throw err;
    });
    if (attrs === undefined || attrs.type === 'dir') return;
    await fs.remove(caller, parent, path.name).catch((err: unknown) => {
      if (!isShoalError(err, 'NotFound')) throw err;
    });
  }
  await pruneEmpty(fs, chain, path.dirs);
}

async function pruneEmpty(fs: FileSystem, chain: readonly Address[], dirs: readonly string[]): Promise<void> {
  for (let i = dirs.length - 1; i >= 0; i--) {
    const dir = chain[i + 1] as Address;
    const attrs = await fs.getattr(dir).catch(() => undefined);
    if (attrs === undefined || attrs.size > 0 || attrs.xattrs.has(MARKER_XATTR)) return;
    try {
      await fs.rmdir(ROOT_CALLER, chain[i] as Address, dirs[i] as string);
    } catch {
      return; // a PUT put something in it meanwhile, or another delete pruned it: either way, stop here
    }
  }
}

export interface DeleteObjectsResult {
  readonly Deleted: Array<{ Key: string }>;
  readonly Error: Array<{ Key: string; Code: string; Message: string }>;
}

export async function deleteObjects(fs: FileSystem, body: Buffer, caller: Caller = ROOT_CALLER): Promise<DeleteObjectsResult> {
  let parsed: Record<string, unknown>;
  try {
    parsed = parseXml(body.toString('utf8'), ['Object']);
  } catch {
    throw s3Errors.malformedXml();
  }
  const root = parsed['Delete'] as { Object?: Array<{ Key?: unknown }>; Quiet?: unknown } | undefined;
  const objects = root?.Object;
  if (root === undefined || objects === undefined || objects.length === 0) throw s3Errors.malformedXml();
  if (objects.length > DELETE_OBJECTS_KEYS_MAX) throw s3Errors.malformedXml();
  const quiet = String(root.Quiet ?? '').trim() === 'true';
  const result: DeleteObjectsResult = { Deleted: [], Error: [] };
  for (const object of objects) {
    const key = typeof object.Key === 'string' ? object.Key : String(object.Key ?? '');
    try {
      await deleteObject(fs, key, caller);
      if (!quiet) result.Deleted.push({ Key: key });
    } catch (err) {
      const e = s3ErrorFor(err);
      result.Error.push({ Key: key, Code: e.code, Message: e.message });
    }
  }
  return result;
}
