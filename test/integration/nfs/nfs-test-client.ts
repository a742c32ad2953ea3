// A small NFSv3/MOUNT client for tests: calls over the raw RPC client with AUTH_SYS, replies parsed to the results.
import { XdrReader } from '../../../gateway/rpc/xdr-reader.js';
import { XdrWriter } from '../../../gateway/rpc/xdr-writer.js';
import { callBody, frame, RawRpcClient, words } from '../rpc/raw-rpc-client.js';

export class NfsTestClient {
  readonly #rpc: RawRpcClient;
  #xid = 1;

  private constructor(rpc: RawRpcClient) {
    this.#rpc = rpc;
  }

  static async connect(port: number): Promise<NfsTestClient> {
    return new NfsTestClient(await RawRpcClient.connect(port));
  }

  close(): void {
    this.#rpc.destroy();
  }

  /** One call as uid/gid 0 (AUTH_SYS); resolves to a reader at the results, after checking MSG_ACCEPTED / SUCCESS. */
  async call(prog: number, vers: number, proc: number, args: (w: XdrWriter) => void = () => {}): Promise<XdrReader> {
    const xid = this.#xid++;
    const w = new XdrWriter();
    args(w);
    const parms = new XdrWriter();
    parms.writeUint(0).writeString('test').writeUint(0).writeUint(0).writeArray([], () => {});
    const body = Buffer.from(parms.finish());
    const cred = Buffer.concat([words(1, body.length), body]);
    const count = this.#rpc.records.length + 1;
    this.#rpc.send(frame(callBody({ xid, prog, vers, proc, cred, args: Buffer.from(w.finish()) })));
    const record = (await this.#rpc.waitForRecords(count, 30_000))[count - 1] as Buffer;
    const r = new XdrReader(record.subarray(4));
    if (r.readUint() !== xid) throw new Error('reply xid differs');
    const head = [r.readUint(), r.readUint(), r.readUint(), r.readUint(), r.readUint()];
    if (head.join() !== '1,0,0,0,0') throw new Error(`not an accepted success: ${head.join()}`);
    return r;
  }
}

/** Skips a post_op_attr; returns whether attributes followed and the fattr3 type and size when they did. */
export function readPostOpAttr(r: XdrReader): { type: number; size: bigint; fileid: bigint } | undefined {
  if (!r.readBool()) return undefined;
  const type = r.readUint();
  r.readUint(); r.readUint(); r.readUint(); r.readUint();
  const size = r.readUhyper();
  r.readUhyper(); r.readUint(); r.readUint(); r.readUhyper();
  const fileid = r.readUhyper();
  for (let i = 0; i < 6; i++) r.readUint();
  return { type, size, fileid };
}

export function readWcc(r: XdrReader): void {
  if (r.readBool()) { r.readUhyper(); r.readUint(); r.readUint(); r.readUint(); r.readUint(); }
  readPostOpAttr(r);
}
