// ONC RPC v2 messages (RFC 5531 §9): decoding a call's header, encoding and decoding replies, with the RFC's names.
import { isXdrError } from './rpc-errors.js';
import { OPAQUE_AUTH_BODY_BYTES_MAX } from './rpc-limits.js';
import { XdrReader } from './xdr-reader.js';
import type { XdrWriter } from './xdr-writer.js';

/** RFC 5531 §9: "rpcvers ... MUST be equal to 2". */
export const RPC_VERSION = 2;

export const msg_type = { CALL: 0, REPLY: 1 } as const;
export type msg_type = (typeof msg_type)[keyof typeof msg_type];

export const reply_stat = { MSG_ACCEPTED: 0, MSG_DENIED: 1 } as const;
export type reply_stat = (typeof reply_stat)[keyof typeof reply_stat];

export const accept_stat = {
  SUCCESS: 0, // RPC executed successfully
  PROG_UNAVAIL: 1, // remote hasn't exported program
  PROG_MISMATCH: 2, // remote can't support version #
  PROC_UNAVAIL: 3, // program can't support procedure
  GARBAGE_ARGS: 4, // procedure can't decode params
  SYSTEM_ERR: 5, // e.g. memory allocation failure
} as const;
export type accept_stat = (typeof accept_stat)[keyof typeof accept_stat];

export const reject_stat = { RPC_MISMATCH: 0, AUTH_ERROR: 1 } as const;
export type reject_stat = (typeof reject_stat)[keyof typeof reject_stat];

/** RFC 5531 §8.2; AUTH_SYS is also called AUTH_UNIX. */
export const auth_flavor = { AUTH_NONE: 0, AUTH_SYS: 1, AUTH_SHORT: 2, AUTH_DH: 3, RPCSEC_GSS: 6 } as const;
export type auth_flavor = (typeof auth_flavor)[keyof typeof auth_flavor];

/** RFC 5531 §9: why authentication failed. */
export const auth_stat = {
  AUTH_OK: 0,
  AUTH_BADCRED: 1, // bad credential (seal broken)
  AUTH_REJECTEDCRED: 2, // client must begin new session
  AUTH_BADVERF: 3, // bad verifier (seal broken)
  AUTH_REJECTEDVERF: 4, // verifier expired or replayed
  AUTH_TOOWEAK: 5, // rejected for security reasons
  AUTH_INVALIDRESP: 6, // bogus response verifier
  AUTH_FAILED: 7, // reason unknown
  AUTH_KERB_GENERIC: 8,
  AUTH_TIMEEXPIRE: 9,
  AUTH_TKT_FILE: 10,
  AUTH_DECODE: 11,
  AUTH_NET_ADDR: 12,
  RPCSEC_GSS_CREDPROBLEM: 13,
  RPCSEC_GSS_CTXPROBLEM: 14,
} as const;
export type auth_stat = (typeof auth_stat)[keyof typeof auth_stat];

const valuesOf = <T extends Record<string, number>>(o: T): ReadonlySet<T[keyof T]> => new Set(Object.values(o) as T[keyof T][]);
const REPLY_STATS = valuesOf(reply_stat);
const ACCEPT_STATS = valuesOf(accept_stat);
const REJECT_STATS = valuesOf(reject_stat);
const AUTH_STATS = valuesOf(auth_stat);

/** RFC 5531 §8.2: `struct opaque_auth { auth_flavor flavor; opaque body<400>; }`; the flavor is kept as sent. */
export interface opaque_auth {
  readonly flavor: number;
  readonly body: Buffer;
}

export const AUTH_NONE_VERF: opaque_auth = { flavor: auth_flavor.AUTH_NONE, body: Buffer.alloc(0) };

/** RFC 5531 §9: `struct call_body`. */
export interface call_body {
  readonly rpcvers: number;
  readonly prog: number;
  readonly vers: number;
  readonly proc: number;
  readonly cred: opaque_auth;
  readonly verf: opaque_auth;
}

export interface mismatch_info {
  readonly low: number;
  readonly high: number;
}

/** RFC 5531 §9 `accepted_reply`, its `reply_data` union flattened; SUCCESS results follow the header. */
export type accepted_reply =
  | { readonly verf: opaque_auth; readonly stat: typeof accept_stat.SUCCESS }
  | { readonly verf: opaque_auth; readonly stat: typeof accept_stat.PROG_MISMATCH; readonly mismatch_info: mismatch_info }
  | {
      readonly verf: opaque_auth;
      readonly stat: Exclude<accept_stat, typeof accept_stat.SUCCESS | typeof accept_stat.PROG_MISMATCH>;
    };

/** RFC 5531 §9 `rejected_reply`. */
export type rejected_reply =
  | { readonly stat: typeof reject_stat.RPC_MISMATCH; readonly mismatch_info: mismatch_info }
  | { readonly stat: typeof reject_stat.AUTH_ERROR; readonly auth_stat: auth_stat };

/** RFC 5531 §9 `reply_body`. */
export type reply_body =
  | { readonly stat: typeof reply_stat.MSG_ACCEPTED; readonly areply: accepted_reply }
  | { readonly stat: typeof reply_stat.MSG_DENIED; readonly rreply: rejected_reply };

export function readOpaqueAuth(reader: XdrReader): opaque_auth {
  const flavor = reader.readUint();
  return { flavor, body: reader.readOpaque(OPAQUE_AUTH_BODY_BYTES_MAX) };
}

export function writeOpaqueAuth(writer: XdrWriter, auth: opaque_auth): void {
  writer.writeUint(auth.flavor).writeOpaque(auth.body, OPAQUE_AUTH_BODY_BYTES_MAX);
}

/** What a received record is, as far as the RPC layer can tell before authentication. */
export type DecodedCall =
  /** Not a decodable CALL: the connection is closed (there is no reliable xid to answer). */
  | { readonly kind: 'malformed'; readonly reason: string }
  /** RFC 5531 §9: rpcvers ≠ 2 is answered MSG_DENIED / RPC_MISMATCH. */
  | { readonly kind: 'rpc-mismatch'; readonly xid: number; readonly rpcvers: number }
  /** The cred or verf does not decode as opaque_auth: answered AUTH_ERROR with this stat. */
  | { readonly kind: 'bad-auth'; readonly xid: number; readonly auth_stat: auth_stat; readonly prog: number; readonly proc: number }
  | { readonly kind: 'call'; readonly xid: number; readonly body: call_body; readonly args: XdrReader };

/** Decodes `rpc_msg` with a CALL body; the procedure's arguments are what is left of the reader. */
export function decodeCall(record: Buffer): DecodedCall {
  const reader = new XdrReader(record);
  let xid: number, rpcvers: number, prog: number, vers: number, proc: number;
  try {
    xid = reader.readUint();
    const mtype = reader.readUint();
    if (mtype !== msg_type.CALL) return { kind: 'malformed', reason: `msg_type ${mtype} where a CALL was expected` };
    rpcvers = reader.readUint();
    if (rpcvers !== RPC_VERSION) return { kind: 'rpc-mismatch', xid, rpcvers };
    prog = reader.readUint();
    vers = reader.readUint();
    proc = reader.readUint();
  } catch (err) {
    if (isXdrError(err)) return { kind: 'malformed', reason: `call header: ${err.message}` };
    throw err;
  }
  const cred = readAuthOrUndefined(reader);
  if (cred === undefined) return { kind: 'bad-auth', xid, auth_stat: auth_stat.AUTH_BADCRED, prog, proc };
  const verf = readAuthOrUndefined(reader);
  if (verf === undefined) return { kind: 'bad-auth', xid, auth_stat: auth_stat.AUTH_BADVERF, prog, proc };
  return { kind: 'call', xid, body: { rpcvers, prog, vers, proc, cred, verf }, args: reader };
}

function readAuthOrUndefined(reader: XdrReader): opaque_auth | undefined {
  try {
    return readOpaqueAuth(reader);
  } catch (err) {
    if (isXdrError(err)) return undefined;
    throw err;
  }
}

/** Writes `rpc_msg` with a REPLY body; after MSG_ACCEPTED / SUCCESS the caller writes the procedure's results. */
export function writeReplyHeader(writer: XdrWriter, xid: number, body: reply_body): void {
  writer.writeUint(xid).writeEnum(msg_type.REPLY).writeEnum(body.stat);
  if (body.stat === reply_stat.MSG_ACCEPTED) {
    const areply = body.areply;
    writeOpaqueAuth(writer, areply.verf);
    writer.writeEnum(areply.stat);
    if (areply.stat === accept_stat.PROG_MISMATCH) writer.writeUint(areply.mismatch_info.low).writeUint(areply.mismatch_info.high);
    return;
  }
  const rreply = body.rreply;
  writer.writeEnum(rreply.stat);
  if (rreply.stat === reject_stat.RPC_MISMATCH) writer.writeUint(rreply.mismatch_info.low).writeUint(rreply.mismatch_info.high);
  else writer.writeEnum(rreply.auth_stat);
}

/** A decoded reply: its xid, its body and, after SUCCESS, a reader over the results. For clients and tests. */
export interface DecodedReply {
  readonly xid: number;
  readonly body: reply_body;
  readonly results: XdrReader;
}

/** Decodes `rpc_msg` with a REPLY body; throws the XDR error on anything else. */
export function decodeReply(record: Buffer): DecodedReply {
  const reader = new XdrReader(record);
  const xid = reader.readUint();
  reader.readEnum(new Set([msg_type.REPLY]), 'msg_type');
  const stat = reader.readEnum(REPLY_STATS, 'reply_stat');
  if (stat === reply_stat.MSG_DENIED) {
    const rstat = reader.readEnum(REJECT_STATS, 'reject_stat');
    const rreply: rejected_reply =
      rstat === reject_stat.RPC_MISMATCH
        ? { stat: rstat, mismatch_info: { low: reader.readUint(), high: reader.readUint() } }
        : { stat: rstat, auth_stat: reader.readEnum(AUTH_STATS, 'auth_stat') };
    return { xid, body: { stat, rreply }, results: reader };
  }
  const verf = readOpaqueAuth(reader);
  const astat = reader.readEnum(ACCEPT_STATS, 'accept_stat');
  const areply: accepted_reply =
    astat === accept_stat.PROG_MISMATCH
      ? { verf, stat: astat, mismatch_info: { low: reader.readUint(), high: reader.readUint() } }
      : { verf, stat: astat };
  return { xid, body: { stat, areply }, results: reader };
}
