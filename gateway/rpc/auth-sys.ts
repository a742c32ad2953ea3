// AUTH_NONE and AUTH_SYS (RFC 5531 §10 and Appendix A): turns a call's cred and verf into who is calling, or an auth_stat.
import { isXdrError } from './rpc-errors.js';
import { AUTHSYS_GIDS_MAX, AUTHSYS_MACHINENAME_BYTES_MAX } from './rpc-limits.js';
import { auth_flavor, auth_stat, type opaque_auth } from './rpc-message.js';
import { XdrReader } from './xdr-reader.js';
import { XdrWriter } from './xdr-writer.js';

/** RFC 5531 Appendix A: the AUTH_SYS credential body. */
export interface authsys_parms {
  readonly stamp: number;
  readonly machinename: string;
  readonly uid: number;
  readonly gid: number;
  readonly gids: readonly number[];
}

/** Who a call says it comes from; NFS applies export rules (squash, mode bits) to it. */
export type RpcAuth =
  | { readonly flavor: typeof auth_flavor.AUTH_NONE }
  | { readonly flavor: typeof auth_flavor.AUTH_SYS; readonly parms: authsys_parms };

export type AuthResult = { readonly ok: true; readonly auth: RpcAuth } | { readonly ok: false; readonly auth_stat: auth_stat };

/**
 * Decodes authsys_parms strictly: machinename ≤ 255 bytes, at most 16 gids, and no bytes left over.
 * Throws the XDR error otherwise.
 */
export function decodeAuthsysParms(body: Buffer): authsys_parms {
  const reader = new XdrReader(body);
  const parms: authsys_parms = {
    stamp: reader.readUint(),
    machinename: reader.readString(AUTHSYS_MACHINENAME_BYTES_MAX),
    uid: reader.readUint(),
    gid: reader.readUint(),
    gids: reader.readArray(AUTHSYS_GIDS_MAX, (r) => r.readUint()),
  };
  reader.finish();
  return parms;
}

export function encodeAuthsysParms(parms: authsys_parms): Buffer {
  const writer = new XdrWriter(64);
  writer.writeUint(parms.stamp).writeString(parms.machinename, AUTHSYS_MACHINENAME_BYTES_MAX);
  writer.writeUint(parms.uid).writeUint(parms.gid);
  writer.writeArray(parms.gids, (w, gid) => w.writeUint(gid), AUTHSYS_GIDS_MAX);
  return Buffer.from(writer.finish());
}

/**
 * Authenticates a call, strictly as the Linux server does. RFC 5531 §10.1 leaves AUTH_NONE's body
 * undefined but recommends it be empty; we require it (else AUTH_BADCRED). Appendix A: the verifier of
 * AUTH_SYS calls "should have AUTH_NONE flavor" (and §10.1 says the same of AUTH_NONE); another or a non-empty one is
 * AUTH_BADVERF. A credential that is not exactly one authsys_parms, and every flavor we do not
 * implement (AUTH_SHORT, AUTH_DH, RPCSEC_GSS), is AUTH_BADCRED.
 */
export function authenticate(cred: opaque_auth, verf: opaque_auth): AuthResult {
  let auth: RpcAuth;
  if (cred.flavor === auth_flavor.AUTH_NONE && cred.body.length === 0) {
    auth = { flavor: auth_flavor.AUTH_NONE };
  } else if (cred.flavor === auth_flavor.AUTH_SYS) {
    try {
      auth = { flavor: auth_flavor.AUTH_SYS, parms: decodeAuthsysParms(cred.body) };
    } catch (err) {
      if (isXdrError(err)) return { ok: false, auth_stat: auth_stat.AUTH_BADCRED };
      throw err;
    }
  } else {
    return { ok: false, auth_stat: auth_stat.AUTH_BADCRED };
  }
  if (verf.flavor !== auth_flavor.AUTH_NONE || verf.body.length !== 0) return { ok: false, auth_stat: auth_stat.AUTH_BADVERF };
  return { ok: true, auth };
}
