// Bucket operations: a bucket is a volume (DESIGN §7), so these are the Volumes catalogue seen through S3.
import { isShoalError } from '../../../storage-node/base/errors.js';
import type { FileSystem } from '../../fs/filesystem.js';
import { ROOT_CALLER } from '../../fs/permissions.js';
import type { Volumes } from '../../fs/volume.js';
import { UPLOADS_DIR } from '../key-path.js';

export async function listBuckets(volumes: Volumes, owner: string): Promise<Record<string, unknown>> {
  const all = await volumes.list();
  return {
    Owner: { ID: owner, DisplayName: owner },
    Buckets: { Bucket: all.map((v) => ({ Name: v.name, CreationDate: new Date(v.createdMs).toISOString() })) },
  };
}

/**
 * DeleteBucket. The first multipart upload leaves the (then empty) uploads directory behind, and S3 counts only
 * objects: remove that directory when it is empty, so that a bucket emptied of its objects can go. Uploads still in
 * progress keep it, and the bucket is then not empty (BucketNotEmpty), which keeps their parts from vanishing.
 */
export async function deleteBucket(volumes: Volumes, fs: FileSystem, name: string): Promise<void> {
  try {
    await fs.rmdir(ROOT_CALLER, fs.root, UPLOADS_DIR);
  } catch (err) {
    if (!isShoalError(err, 'NotFound') && !isShoalError(err, 'NotEmpty')) throw err;
  }
  await volumes.delete(name);
}
