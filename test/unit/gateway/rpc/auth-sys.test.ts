// Goal: AUTH_NONE and AUTH_SYS are accepted exactly as RFC 5531 §10 and Appendix A describe them and every
// malformed or unsupported credential is refused with the right auth_stat. Method: golden bytes and hand-made refusals.
import test from 'ava';
import { authenticate, decodeAuthsysParms, encodeAuthsysParms, type authsys_parms } from '../../../../gateway/rpc/auth-sys.js';
import { isXdrError } from '../../../../gateway/rpc/rpc-errors.js';
import { auth_flavor, auth_stat, AUTH_NONE_VERF, type opaque_auth } from '../../../../gateway/rpc/rpc-message.js';

const hex = (s: string): Buffer => Buffer.from(s.replace(/\s+/g, ''), 'hex');
const PARMS: authsys_parms = { stamp: 0x01020304, machinename: 'host', uid: 1000, gid: 100, gids: [100, 27] };
// stamp, machinename<255> "host", uid, gid, gids<16> [100, 27]
const PARMS_BYTES = hex('01020304 00000004 686f7374 000003e8 00000064 00000002 00000064 0000001b');
const sys = (body: Buffer): opaque_auth => ({ flavor: auth_flavor.AUTH_SYS, body });

test('golden: authsys_parms encodes and decodes as Appendix A lays it out', (t) => {
  t.deepEqual(encodeAuthsysParms(PARMS), PARMS_BYTES);
  t.deepEqual(decodeAuthsysParms(PARMS_BYTES), PARMS);
});

test('AUTH_NONE and AUTH_SYS with an AUTH_NONE verifier are accepted', (t) => {
  t.deepEqual(authenticate(AUTH_NONE_VERF, AUTH_NONE_VERF), { ok: true, auth: { flavor: auth_flavor.AUTH_NONE } });
  t.deepEqual(authenticate(sys(PARMS_BYTES), AUTH_NONE_VERF), { ok: true, auth: { flavor: auth_flavor.AUTH_SYS, parms: PARMS } });
  const limits: authsys_parms = { ...PARMS, machinename: 'm'.repeat(255), gids: Array.from({ length: 16 }, (_, i) => i) };
  t.deepEqual(authenticate(sys(encodeAuthsysParms(limits)), AUTH_NONE_VERF), { ok: true, auth: { flavor: auth_flavor.AUTH_SYS, parms: limits } });
});

test('malformed AUTH_SYS credentials are AUTH_BADCRED', (t) => {
  const badcred = { ok: false, auth_stat: auth_stat.AUTH_BADCRED };
  const longName = hex('00000000 00000100'); // machinename of 256 bytes
  const cases: Record<string, Buffer> = {
    'machinename over 255 bytes': Buffer.concat([longName, Buffer.alloc(256), hex('00000000 00000000 00000000')]),
    '17 gids': Buffer.concat([hex('00000000 00000000 00000000 00000000 00000011'), Buffer.alloc(17 * 4)]),
    'a byte left over': Buffer.concat([PARMS_BYTES, hex('00000000')]),
    'truncated': PARMS_BYTES.subarray(0, PARMS_BYTES.length - 4),
    'empty': Buffer.alloc(0),
  };
  for (const [name, body] of Object.entries(cases)) {
    t.deepEqual(authenticate(sys(body), AUTH_NONE_VERF), badcred, name);
    t.true(isXdrError(t.throws(() => decodeAuthsysParms(body))), name);
  }
});

test('unsupported flavors and a non-empty AUTH_NONE credential are AUTH_BADCRED', (t) => {
  for (const flavor of [auth_flavor.AUTH_SHORT, auth_flavor.AUTH_DH, auth_flavor.RPCSEC_GSS, 0xffffffff]) {
    t.deepEqual(authenticate({ flavor, body: Buffer.alloc(8) }, AUTH_NONE_VERF), { ok: false, auth_stat: auth_stat.AUTH_BADCRED });
  }
  t.deepEqual(authenticate({ flavor: auth_flavor.AUTH_NONE, body: Buffer.alloc(4) }, AUTH_NONE_VERF), { ok: false, auth_stat: auth_stat.AUTH_BADCRED });
});

test('a verifier other than an empty AUTH_NONE is AUTH_BADVERF', (t) => {
  const badverf = { ok: false, auth_stat: auth_stat.AUTH_BADVERF };
  t.deepEqual(authenticate(sys(PARMS_BYTES), sys(PARMS_BYTES)), badverf);
  t.deepEqual(authenticate(sys(PARMS_BYTES), { flavor: auth_flavor.AUTH_NONE, body: Buffer.alloc(4) }), badverf);
  t.deepEqual(authenticate(AUTH_NONE_VERF, { flavor: auth_flavor.RPCSEC_GSS, body: Buffer.alloc(0) }), badverf);
});
