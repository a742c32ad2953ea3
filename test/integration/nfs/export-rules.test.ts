// Goal: the export rules applied by every gateway call (gateway/nfs/exports.ts) are exact: CIDR checks for IPv4, IPv6
// and IPv4-mapped addresses, root and all squash (gid 0 and supplementary gid 0 too), AUTH_NONE as the anonymous ids,
// and refused input named with its fix. Method: the pure functions, no cluster.
import test from 'ava';
import { addressAllowed, EXPORT_DEFAULTS, squashAuth, validateExportOptions, type ExportOptions } from '../../../gateway/nfs/exports.js';
import { auth_flavor } from '../../../gateway/rpc/rpc-message.js';

const options = (over: Partial<ExportOptions>): ExportOptions => validateExportOptions({ ...EXPORT_DEFAULTS, ...over });
const sys = (uid: number, gid: number, gids: number[] = []) => ({ flavor: auth_flavor.AUTH_SYS, parms: { stamp: 1, machinename: 'm', uid, gid, gids } });

test('allowed addresses: CIDRs, single addresses, IPv4-mapped IPv6, empty = everyone', (t) => {
  const o = options({ allow: ['10.0.0.0/8', '192.168.1.7', 'fd00::/8'] });
  t.deepEqual(o.allow, ['10.0.0.0/8', '192.168.1.7/32', 'fd00::/8']);
  t.true(addressAllowed(o, '10.20.30.40'));
  t.true(addressAllowed(o, '::ffff:10.1.2.3'));
  t.true(addressAllowed(o, '192.168.1.7'));
  t.false(addressAllowed(o, '192.168.1.8'));
  t.true(addressAllowed(o, 'fd12::1'));
  t.false(addressAllowed(o, '127.0.0.1'));
  t.false(addressAllowed(o, ''));
  t.true(addressAllowed(options({}), '203.0.113.9'));
});

test('squash: none keeps ids; root maps uid 0, gid 0 and supplementary 0; all maps everyone; AUTH_NONE is anonymous', (t) => {
  const root = options({ squash: 'root', anonUid: 4242, anonGid: 4343 });
  t.deepEqual(squashAuth(root, sys(0, 0, [0, 5])), sys(4242, 4343, [4343, 5]) as never);
  t.deepEqual(squashAuth(root, sys(1000, 1000, [27])), sys(1000, 1000, [27]) as never);
  t.deepEqual(squashAuth(root, sys(1000, 0)), sys(1000, 4343) as never);
  const all = options({ squash: 'all', anonUid: 7, anonGid: 8 });
  const squashed = squashAuth(all, sys(1000, 1000, [27]));
  t.true(squashed.flavor === auth_flavor.AUTH_SYS && squashed.parms.uid === 7 && squashed.parms.gid === 8 && squashed.parms.gids.length === 0);
  t.deepEqual(squashAuth(options({}), sys(0, 0)), sys(0, 0) as never);
  const none = squashAuth(options({}), { flavor: auth_flavor.AUTH_NONE });
  t.true(none.flavor === auth_flavor.AUTH_SYS && none.parms.uid === 65534 && none.parms.gid === 65534);
});

test('bad options are refused with the fix', (t) => {
  t.throws(() => options({ allow: ['10.0.0.0/33'] }), { message: /--allow "10\.0\.0\.0\/33": give an address or a CIDR/ });
  t.throws(() => options({ allow: ['example.com'] }), { message: /give an address or a CIDR/ });
  t.throws(() => options({ allow: ['10.0.0.1/8/2'] }), { message: /give an address or a CIDR/ });
  t.throws(() => options({ anonUid: -1 }), { message: /--anon-uid -1: give a whole number/ });
  t.throws(() => options({ squash: 'some' as never }), { message: /use --no-squash, --root-squash or --all-squash/ });
});
