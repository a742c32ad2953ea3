// The ONC RPC server over TCP: a registry of programs, and the dispatch of each call to its procedure or to the RPC-level reply of RFC 5531 §9.
import { createServer, type AddressInfo, type Server, type Socket } from 'node:net';
import { assert, unreachable } from '../../storage-node/base/assert.js';
import type { Logger } from '../../storage-node/base/log.js';
import { authenticate } from './auth-sys.js';
import { RpcConnection } from './rpc-connection.js';
import { authStatOf, isXdrError } from './rpc-errors.js';
import { RPC_CALLS_IN_FLIGHT_MAX, RPC_RECORD_BYTES_MAX } from './rpc-limits.js';
import {
  accept_stat,
  AUTH_NONE_VERF,
  decodeCall,
  reject_stat,
  reply_stat,
  RPC_VERSION,
  writeReplyHeader,
  type auth_stat,
  type call_body,
  type reply_body,
} from './rpc-message.js';
import { procedureOf, versionsOf, type RpcCallContext, type RpcProcedure, type RpcProgram, type RpcResults } from './rpc-program.js';
import { beginRecord, endRecord } from './record-marking.js';
import type { XdrReader } from './xdr-reader.js';
import { XdrWriter } from './xdr-writer.js';

export interface RpcServerOptions {
  readonly log: Logger;
  readonly recordBytesMax?: number;
  readonly callsInFlightMax?: number;
}

export interface RpcPeer {
  readonly remoteAddress: string;
  readonly remotePort: number;
  readonly log: Logger;
}

/** A registered program as the portmapper lists it. */
export interface RpcProgramEntry {
  readonly prog: number;
  readonly name: string;
  readonly versions: readonly number[];
}

/** The RPC reply that a record gets, or `close` when it is not a call we can answer (the connection is closed). */
export type RpcDispatchResult = Buffer | 'close';

export class RpcServer {
  readonly #log: Logger;
  readonly #recordBytesMax: number;
  readonly #callsInFlightMax: number;
  readonly #programs = new Map<number, { program: RpcProgram; versions: number[] }>();
  readonly #connections = new Set<RpcConnection>();
  #server: Server | undefined;

  constructor(options: RpcServerOptions) {
    this.#log = options.log;
    this.#recordBytesMax = options.recordBytesMax ?? RPC_RECORD_BYTES_MAX;
    this.#callsInFlightMax = options.callsInFlightMax ?? RPC_CALLS_IN_FLIGHT_MAX;
    assert(this.#callsInFlightMax >= 1, 'at least one call in flight per connection');
  }

  /** Adds a program with all its versions; a program number is registered once. */
  register(program: RpcProgram): this {
    assert(!this.#programs.has(program.prog), `program ${program.prog} is already registered`);
    const versions = versionsOf(program);
    assert(versions.length > 0, `program ${program.prog} has no versions`);
    this.#programs.set(program.prog, { program, versions });
    return this;
  }

  programs(): RpcProgramEntry[] {
    return [...this.#programs.values()].map(({ program, versions }) => ({ prog: program.prog, name: program.name, versions }));
  }

  /** The bound address once listening. */
  address(): AddressInfo | undefined {
    const address = this.#server?.address();
    return address !== null && typeof address === 'object' ? address : undefined;
  }

  /** Binds and serves; rejects with the bind error (EACCES for port 111 without root, EADDRINUSE). */
  listen(options: { host: string; port: number }): Promise<AddressInfo> {
    assert(this.#server === undefined, 'listen once');
    // allowHalfOpen: a client that shuts down its sending side still gets the replies to its calls.
    const server = createServer({ allowHalfOpen: true }, (socket) => this.#accept(socket));
    this.#server = server;
    return new Promise((resolve, reject) => {
      server.once('error', reject);
      server.listen(options.port, options.host, () => {
        server.off('error', reject);
        server.on('error', (err) => this.#log.error({ err: err.message }, 'rpc.server_error'));
        const address = server.address() as AddressInfo;
        this.#log.info({ host: address.address, port: address.port, programs: this.programs() }, 'rpc.listening');
        resolve(address);
      });
    });
  }

  close(): Promise<void> {
    for (const connection of this.#connections) connection.destroy();
    const server = this.#server;
    if (server === undefined || !server.listening) return Promise.resolve();
    return new Promise((resolve) => server.close(() => resolve()));
  }

  #accept(socket: Socket): void {
    const remoteAddress = socket.remoteAddress ?? '';
    const remotePort = socket.remotePort ?? 0;
    const log = this.#log.child({ remote: `${remoteAddress}:${remotePort}` });
    const peer: RpcPeer = { remoteAddress, remotePort, log };
    const connection = new RpcConnection(socket, {
      log,
      recordBytesMax: this.#recordBytesMax,
      callsInFlightMax: this.#callsInFlightMax,
      dispatch: (record, signal) => this.dispatch(record, peer, signal),
      onClose: () => this.#connections.delete(connection),
    });
    this.#connections.add(connection);
  }

  /**
   * Answers one record. Order of checks as in the reference implementations: rpcvers, then
   * authentication, then program, version and procedure; then the procedure runs.
   */
  async dispatch(record: Buffer, peer: RpcPeer, signal: AbortSignal): Promise<RpcDispatchResult> {
    const call = decodeCall(record);
    switch (call.kind) {
      case 'malformed':
        peer.log.warn({ reason: call.reason, bytes: record.length }, 'rpc.malformed_record');
        return 'close';
      case 'rpc-mismatch':
        // RFC 5531 §9: RPC_MISMATCH carries the lowest and highest versions of RPC supported.
        return replyRecord(call.xid, {
          stat: reply_stat.MSG_DENIED,
          rreply: { stat: reject_stat.RPC_MISMATCH, mismatch_info: { low: RPC_VERSION, high: RPC_VERSION } },
        });
      case 'bad-auth':
        peer.log.debug({ xid: call.xid, prog: call.prog, proc: call.proc, auth_stat: call.auth_stat }, 'rpc.auth_refused');
        return denied(call.xid, call.auth_stat);
      case 'call':
        return this.#dispatchCall(call.xid, call.body, call.args, peer, signal);
      default:
        return unreachable(call);
    }
  }

  async #dispatchCall(xid: number, body: call_body, args: XdrReader, peer: RpcPeer, signal: AbortSignal): Promise<Buffer> {
    const { prog, vers, proc } = body;
    const authResult = authenticate(body.cred, body.verf);
    if (!authResult.ok) {
      peer.log.debug({ xid, prog, proc, flavor: body.cred.flavor, auth_stat: authResult.auth_stat }, 'rpc.auth_refused');
      return denied(xid, authResult.auth_stat);
    }
    const registered = this.#programs.get(prog);
    if (registered === undefined) return accepted(xid, accept_stat.PROG_UNAVAIL);
    const table = Object.hasOwn(registered.program.versions, vers) ? registered.program.versions[vers] : undefined;
    if (table === undefined) {
      // RFC 5531 §9: PROG_MISMATCH carries the lowest and highest versions of the program supported.
      const low = registered.versions[0] as number;
      const high = registered.versions[registered.versions.length - 1] as number;
      return replyRecord(xid, { stat: reply_stat.MSG_ACCEPTED, areply: { verf: AUTH_NONE_VERF, stat: accept_stat.PROG_MISMATCH, mismatch_info: { low, high } } });
    }
    const procedure = procedureOf(table, proc);
    if (procedure === undefined) return accepted(xid, accept_stat.PROC_UNAVAIL);
    const log = peer.log.child({ xid, prog, vers, proc: procedure.name });
    const context: RpcCallContext = {
      xid, prog, vers, proc, auth: authResult.auth, remoteAddress: peer.remoteAddress, remotePort: peer.remotePort, log, signal,
    };
    return runProcedure(procedure, args, context);
  }
}

/** Runs a procedure and frames its reply; its failures become GARBAGE_ARGS, AUTH_ERROR or SYSTEM_ERR. */
async function runProcedure(procedure: RpcProcedure, args: XdrReader, call: RpcCallContext): Promise<Buffer> {
  let results: RpcResults;
  try {
    results = await procedure.handler(args, call);
  } catch (err) {
    if (isXdrError(err)) {
      call.log.debug({ err: err.message }, 'rpc.garbage_args');
      return accepted(call.xid, accept_stat.GARBAGE_ARGS);
    }
    const stat = authStatOf(err);
    if (stat !== undefined) {
      call.log.debug({ auth_stat: stat, err: (err as Error).message }, 'rpc.auth_refused');
      return denied(call.xid, stat);
    }
    return systemError(call, err);
  }
  try {
    const writer = new XdrWriter();
    beginRecord(writer);
    writeReplyHeader(writer, call.xid, { stat: reply_stat.MSG_ACCEPTED, areply: { verf: AUTH_NONE_VERF, stat: accept_stat.SUCCESS } });
    results(writer);
    return endRecord(writer);
  } catch (err) {
    return systemError(call, err);
  }
}

function systemError(call: RpcCallContext, err: unknown): Buffer {
  const error = err instanceof Error ? { err: err.message, stack: err.stack } : { err: String(err) };
  call.log.error(error, 'rpc.system_err');
  return accepted(call.xid, accept_stat.SYSTEM_ERR);
}

/** A whole reply record with no results. */
export function replyRecord(xid: number, body: reply_body): Buffer {
  const writer = new XdrWriter(64);
  beginRecord(writer);
  writeReplyHeader(writer, xid, body);
  return endRecord(writer);
}

function accepted(
  xid: number,
  stat: typeof accept_stat.PROG_UNAVAIL | typeof accept_stat.PROC_UNAVAIL | typeof accept_stat.GARBAGE_ARGS | typeof accept_stat.SYSTEM_ERR,
): Buffer {
  return replyRecord(xid, { stat: reply_stat.MSG_ACCEPTED, areply: { verf: AUTH_NONE_VERF, stat } });
}

function denied(xid: number, stat: auth_stat): Buffer {
  return replyRecord(xid, { stat: reply_stat.MSG_DENIED, rreply: { stat: reject_stat.AUTH_ERROR, auth_stat: stat } });
}
