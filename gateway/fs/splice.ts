// Splice: an empty file takes over the chunks of several files, in order, without a byte being copied (an S3
// multipart upload completed from its parts). Possible when every source but the last is a whole number of chunks of
// one size; otherwise the caller copies.
//
// Chunks are freed when the last file referencing them lets them go, so a chunk must never be referenced by two files:
// each source first gives up its content (checked unchanged since it was read, its ETag dropped so that nothing can
// take it for the part it was), and only then does the target reference the chunks. A crash between the two leaks the
// chunks (the collector's), never frees a chunk a file still uses; a failure that is not a crash puts the content back.
import { isShoalError, ShoalError } from '../../storage-node/base/errors.js';
import type { Address } from '../../storage-node/blocks/address.js';
import { allBlocks, chunksIn, emptyFat, fatIdentity, newFatGarbage, updateFat } from './fat.js';
import type { ChunkRef, Fat } from './fat-record.js';
import { asFile, type Attributes, type FsContext } from './fs-context.js';
import { ETAG_XATTR, type FileInode } from './inode.js';
import { ACCESS_READ, ACCESS_WRITE, checkAccess, type Caller } from './permissions.js';

interface Given {
  readonly address: Address;
  readonly file: FileInode;
  readonly fat: Fat;
}

/** The target's new attributes, or undefined when the sources cannot be spliced (unaligned, inline, mixed chunk sizes). */
export async function splice(cx: FsContext, caller: Caller, target: Address, sources: readonly Address[]): Promise<Attributes | undefined> {
  await Promise.all([target, ...sources].map((address) => cx.writes.commit(address)));
  const targetFile = asFile(target, (await cx.inodes.read(target)).inode);
  checkAccess(targetFile, caller, ACCESS_WRITE, `file ${target.toString('hex')}`);
  if (targetFile.size !== 0) return undefined;
  const files = await Promise.all(sources.map(async (address) => {
    const file = asFile(address, (await cx.inodes.read(address)).inode);
    checkAccess(file, caller, ACCESS_READ, `file ${address.toString('hex')}`);
    return { address, file };
  }));
  const first = files[0]?.file.data;
  if (first === undefined || first.kind !== 'fat') return undefined;
  const chunkBytes = first.fat.chunkBytes;
  const aligned = files.every(({ file }, i) => file.data.kind === 'fat' && file.data.fat.chunkBytes === chunkBytes && (i === files.length - 1 || file.size % chunkBytes === 0));
  if (!aligned) return undefined;

  const given: Given[] = [];
  try {
    for (const { address, file } of files) given.push(await giveUp(cx, address, file));
    const set = new Map<number, ChunkRef | null>();
    let size = 0;
    for (const { file, fat } of given) {
      const shift = size / chunkBytes;
      const count = Math.ceil(file.size / chunkBytes);
      const chunks = count === 0 ? [] : await chunksIn(cx.chunks, cx.limits, fat, 0, count - 1);
      for (const chunk of chunks) set.set(chunk.index + shift, { ...chunk, index: chunk.index + shift });
      size += file.size;
    }
    const built = newFatGarbage();
    const fat = await updateFat(cx.chunks, cx.limits, emptyFat(chunkBytes), { set }, built);
    const now = cx.nowMs();
    let done;
    try {
      done = await cx.inodes.update(target, (inode) => {
        const current = asFile(target, inode);
        if (current.size !== 0 || current.data.kind !== 'inline') return new ShoalError('Conflict', `file ${target.toString('hex')} was written during the splice`, { subject: 'inode' });
        return { ...current, data: { kind: 'fat', fat }, size, mtimeMs: now, ctimeMs: now };
      });
    } catch (err) {
      await cx.free(built.created);
      throw err;
    }
    // The sources' index blocks (not their chunks, which the target holds now) are nobody's any more.
    const oldIndexBlocks = (await Promise.all(given.map(async ({ fat: old }) => {
      const kept = new Set((await chunksIn(cx.chunks, cx.limits, old, 0, Number.MAX_SAFE_INTEGER)).map((c) => c.address.toString('hex')));
      return (await allBlocks(cx.chunks, cx.limits, old)).filter((ref) => !kept.has(ref.address.toString('hex')));
    }))).flat();
    await cx.afterPublish(target, { done, garbage: oldIndexBlocks });
    return cx.attributes(target, done.version, done.inode);
  } catch (err) {
    await Promise.all(given.map((g) => giveBack(cx, g).catch(() => undefined)));
    throw err;
  }
}

/** The source's content, taken from it in one version that checks it is still what was read. */
async function giveUp(cx: FsContext, address: Address, read: FileInode): Promise<Given> {
  const fat = (read.data as { kind: 'fat'; fat: Fat }).fat;
  const identity = fatIdentity(fat);
  await cx.inodes.update(address, (inode) => {
    const current = asFile(address, inode);
    if (current.data.kind !== 'fat' || fatIdentity(current.data.fat) !== identity || current.size !== read.size) {
      return new ShoalError('Conflict', `file ${address.toString('hex')} changed during the splice`, { subject: 'inode' });
    }
    const xattrs = new Map(current.xattrs);
    xattrs.delete(ETAG_XATTR);
    return { ...current, data: { kind: 'inline', bytes: Buffer.alloc(0) }, size: 0, xattrs };
  });
  return { address, file: read, fat };
}

/** Undoes giveUp after a failed splice, if the source is still as giveUp left it. */
async function giveBack(cx: FsContext, { address, file, fat }: Given): Promise<void> {
  await cx.inodes.update(address, (inode) => {
    const current = asFile(address, inode);
    if (current.size !== 0 || current.data.kind !== 'inline') return new ShoalError('Conflict', 'written since');
    return { ...current, data: { kind: 'fat', fat }, size: file.size, xattrs: file.xattrs };
  }).catch((err: unknown) => {
    if (!isShoalError(err, 'Conflict')) throw err;
  });
}
