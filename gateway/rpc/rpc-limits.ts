// Limits of the RPC layer with their units; relations between them are checked when the module loads.
import { assert } from '../../storage-node/base/assert.js';
import { MiB } from '../../storage-node/base/limits.js';

/** NFS advertises 1 MiB transfers (FSINFO); a WRITE call is that plus its arguments and the call header. */
export const NFS_TRANSFER_BYTES_MAX = 1 * MiB;
/**
 * One reassembled RPC record (RFC 5531 §11). A fragment header that would take a record past it closes
 * the connection before anything is allocated: a header claiming 2 GiB costs us four bytes.
 */
export const RPC_RECORD_BYTES_MAX = NFS_TRANSFER_BYTES_MAX + 8 * 1024;
/** Calls one connection runs at once; past it the server stops reading from that socket. */
export const RPC_CALLS_IN_FLIGHT_MAX = 64;

/** How long a closing connection waits for its peer to take the last replies before it is destroyed. */
export const RPC_CLOSE_LINGER_MS = 5_000;

/** RFC 5531 §8.2: `opaque body<400>` in opaque_auth. */
export const OPAQUE_AUTH_BODY_BYTES_MAX = 400;
/** RFC 5531 Appendix A: `string machinename<255>` in authsys_parms. */
export const AUTHSYS_MACHINENAME_BYTES_MAX = 255;
/** RFC 5531 Appendix A: `unsigned int gids<16>` in authsys_parms. */
export const AUTHSYS_GIDS_MAX = 16;

// rpc_msg header: xid, mtype, rpcvers, prog, vers, proc, and two opaque_auth (flavor, length, body).
const CALL_HEADER_BYTES_MAX = 6 * 4 + 2 * (8 + OPAQUE_AUTH_BODY_BYTES_MAX);
// WRITE3args: a file handle (≤ 64 bytes + length), offset, count, stable_how, data length.
const WRITE3_ARGS_OVERHEAD_BYTES_MAX = 4 + 64 + 8 + 4 + 4 + 4;
assert(
  NFS_TRANSFER_BYTES_MAX + WRITE3_ARGS_OVERHEAD_BYTES_MAX + CALL_HEADER_BYTES_MAX <= RPC_RECORD_BYTES_MAX,
  'a 1 MiB NFS WRITE call must fit one RPC record',
);
assert(RPC_RECORD_BYTES_MAX < 2 ** 31, 'a record must fit the 31-bit fragment length of RFC 5531 §11');
