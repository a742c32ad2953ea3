// NFSPROC3_RENAME (RFC 1813 §3.3.14): within a directory or across two; handles never go stale (no paths in them).
import { readDiropargs, writeWcc } from '../codec.js';
import { failed, ok, type NfsHandler } from '../nfs-context.js';

export const rename: NfsHandler = async (args, call, nfs) => {
  const source = readDiropargs(args);
  const target = readDiropargs(args);
  try {
    const [sourceDir, targetDir] = await Promise.all([nfs.resolve(source.dir), nfs.resolve(target.dir)]);
    await sourceDir.fs.rename(nfs.callerOf(call), sourceDir.address, source.name, targetDir.address, target.name);
    const [sourceWcc, targetWcc] = await Promise.all([nfs.wcc(sourceDir), nfs.wcc(targetDir)]);
    return ok((w) => {
      writeWcc(w, sourceWcc);
      writeWcc(w, targetWcc);
    });
  } catch (err) {
    const status = nfs.status(err, call);
    const [sourceWcc, targetWcc] = await Promise.all([nfs.wccOf(source.dir), nfs.wccOf(target.dir)]);
    return failed(status, (w) => {
      writeWcc(w, sourceWcc);
      writeWcc(w, targetWcc);
    });
  }
};
