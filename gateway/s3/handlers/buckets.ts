// Bucket operations: a bucket is a volume (DESIGN §7), so these are the Volumes catalogue seen through S3.
import type { Volumes } from '../../fs/volume.js';

export async function listBuckets(volumes: Volumes, owner: string): Promise<Record<string, unknown>> {
  const all = await volumes.list();
  return {
    Owner: { ID: owner, DisplayName: owner },
    Buckets: { Bucket: all.map((v) => ({ Name: v.name, CreationDate: new Date(v.createdMs).toISOString() })) },
  };
}
