// NFS writes for fault runs: one client of the gateway's NFS server creating files and writing each with FILE_SYNC
// (RFC 1813: the reply promises the bytes are stable), recording every acknowledged file and its MD5. The check is
// the caller's (through S3, the same volume): an acknowledged NFS write must read back over the other protocol.
import { createHash } from 'node:crypto';
import { writeFh } from '../../../gateway/nfs/codec.js';
import { NFS_PROGRAM, NFSPROC3, nfsstat3, stable_how } from '../../../gateway/nfs/types.js';
import type { XdrWriter } from '../../../gateway/rpc/xdr-writer.js';
import { Random, SeededEntropy } from '../../../storage-node/base/random.js';
import { NfsTestClient } from '../nfs/nfs-test-client.js';

const MOUNT_PROGRAM = 100005;
const MOUNTPROC3_MNT = 1;

export class NfsWriter {
  readonly #port: number;
  readonly #export: string;
  readonly #random: Random;
  readonly #entropy: SeededEntropy;
  /** Acknowledged files: name → MD5 (hex). */
  readonly written = new Map<string, string>();
  failures = 0;

  constructor(port: number, exportPath: string, seed: string) {
    this.#port = port;
    this.#export = exportPath;
    this.#random = new Random(`nfs/${seed}`);
    this.#entropy = new SeededEntropy(this.#random.fork('entropy'));
  }

  /** Writes files until `running()` turns false; a failed call (no acknowledgement) reconnects and goes on. */
  async run(running: () => boolean): Promise<void> {
    for (let i = 0; running(); i++) {
      let client: NfsTestClient | undefined;
      try {
        client = await NfsTestClient.connect(this.#port);
        await this.#writeOne(client, `nfs-${i}`);
      } catch {
        this.failures++;
        await new Promise((resolve) => setTimeout(resolve, 100));
      } finally {
        client?.close();
      }
    }
  }

  async #writeOne(client: NfsTestClient, name: string): Promise<void> {
    const call = (proc: number, args: (w: XdrWriter) => void) => client.call(NFS_PROGRAM, 3, proc, args);
    let r = await client.call(MOUNT_PROGRAM, 3, MOUNTPROC3_MNT, (w) => w.writeString(this.#export));
    if (r.readUint() !== 0) throw new Error('MNT refused');
    const root = Buffer.from(r.readOpaque(64));
    // CREATE GUARDED, mode 0644 (createhow3, then sattr3: mode set, uid, gid, size, atime, mtime not set).
    r = await call(NFSPROC3.CREATE, (w) => { writeFh(w, root); w.writeString(name); w.writeUint(1); w.writeBool(true).writeUint(0o644); for (let i = 0; i < 5; i++) w.writeUint(0); });
    if (r.readUint() !== nfsstat3.NFS3_OK || !r.readBool()) throw new Error(`CREATE ${name} failed`);
    const file = Buffer.from(r.readOpaque(64));
    const data = this.#entropy.bytes(1024 + this.#random.int(48 * 1024));
    r = await call(NFSPROC3.WRITE, (w) => { writeFh(w, file); w.writeUhyper(0n).writeUint(data.length).writeUint(stable_how.FILE_SYNC).writeOpaque(data); });
    if (r.readUint() !== nfsstat3.NFS3_OK) throw new Error(`WRITE ${name} failed`);
    this.written.set(name, createHash('md5').update(data).digest('hex'));
  }
}
