// What a program registers with the RPC server: its number, versions and one-line procedure tables, and the call context a handler gets.
import type { Logger } from '../../storage-node/base/log.js';
import type { RpcAuth } from './auth-sys.js';
import type { XdrReader } from './xdr-reader.js';
import type { XdrWriter } from './xdr-writer.js';

/** Everything a procedure knows about its call besides the arguments. */
export interface RpcCallContext {
  readonly xid: number;
  readonly prog: number;
  readonly vers: number;
  readonly proc: number;
  readonly auth: RpcAuth;
  readonly remoteAddress: string;
  readonly remotePort: number;
  /** A child logger carrying xid, prog, vers and proc. */
  readonly log: Logger;
  /** Aborted when the connection closes: nobody is left to read the reply. */
  readonly signal: AbortSignal;
}

/** Writes a procedure's results after the SUCCESS reply header (RFC 5531 §9: `opaque results[0]`). */
export type RpcResults = (writer: XdrWriter) => void;

/**
 * Decodes its arguments from `args` (an XDR error becomes GARBAGE_ARGS), does the work, and returns
 * the function that writes the results. A ShoalError from rpcAuthError becomes AUTH_ERROR; any other
 * exception SYSTEM_ERR. Protocol-level failures (nfsstat3) are results, not exceptions.
 */
export type RpcHandler = (args: XdrReader, call: RpcCallContext) => Promise<RpcResults>;

export interface RpcProcedure {
  /** The RFC's name (`NFSPROC3_GETATTR`, `PMAPPROC_GETPORT`), for logs. */
  readonly name: string;
  readonly handler: RpcHandler;
}

/** Procedure number → procedure, written as one line per procedure (go-nfs nfs.go). */
export type RpcProcedureTable = Readonly<Record<number, RpcProcedure>>;

export interface RpcProgram {
  readonly prog: number;
  readonly name: string;
  /** Version number → its procedures. */
  readonly versions: Readonly<Record<number, RpcProcedureTable>>;
}

export const VOID_RESULTS: RpcResults = () => {};

/** RFC 5531 §12.1 convention: procedure 0 of every program takes no arguments and returns none. */
export function nullProcedure(name: string): RpcProcedure {
  return { name, handler: async () => VOID_RESULTS };
}

/** The procedure with that number, if the table has one of its own (not from Object.prototype). */
export function procedureOf(table: RpcProcedureTable, proc: number): RpcProcedure | undefined {
  return Object.hasOwn(table, proc) ? table[proc] : undefined;
}

/** The version numbers of a program, ascending. */
export function versionsOf(program: RpcProgram): number[] {
  return Object.keys(program.versions).map(Number).sort((a, b) => a - b);
}
