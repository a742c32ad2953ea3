// Goal: every ShoalError kind has an nfsstat3, the subject decides STALE vs NOENT (DESIGN §6), and a bug is
// NFS3ERR_SERVERFAULT logged once. Method: map each kind and subject; count log lines.
import test from 'ava';
import { ERROR_KINDS, ShoalError } from '../../../../storage-node/base/errors.js';
import type { Logger } from '../../../../storage-node/base/log.js';
import { nfsError, nfsstatOf, NFSSTAT_BY_KIND } from '../../../../gateway/nfs/errors.js';
import { decodeFileHandle, encodeFileHandle, FILE_HANDLE_BYTES } from '../../../../gateway/nfs/file-handle.js';
import { cookieOfName } from '../../../../gateway/nfs/dir-cookies.js';
import { nfsstat3 } from '../../../../gateway/nfs/types.js';

function recording(): { log: Logger; lines: string[] } {
  const lines: string[] = [];
  const at = (level: string) => (_f: Record<string, unknown>, event: string) => void lines.push(`${level} ${event}`);
  const log: Logger = { info: at('info'), warn: at('warn'), error: at('error'), debug: () => {}, child: () => log };
  return { log, lines };
}

test('every error kind maps to a status, and none to NFS3_OK', (t) => {
  for (const kind of ERROR_KINDS) t.not(NFSSTAT_BY_KIND[kind], nfsstat3.NFS3_OK, kind);
});

test('NotFound of a name is NOENT; of an inode or a handle STALE; Unavailable is JUKEBOX', (t) => {
  const { log } = recording();
  t.is(nfsstatOf(new ShoalError('NotFound', 'x', { subject: 'entry' }), log), nfsstat3.NFS3ERR_NOENT);
  t.is(nfsstatOf(new ShoalError('NotFound', 'x', { subject: 'inode' }), log), nfsstat3.NFS3ERR_STALE);
  t.is(nfsstatOf(new ShoalError('NotFound', 'x', { subject: 'handle' }), log), nfsstat3.NFS3ERR_STALE);
  t.is(nfsstatOf(new ShoalError('Unavailable', 'x'), log), nfsstat3.NFS3ERR_JUKEBOX);
  t.is(nfsstatOf(new ShoalError('Invalid', 'x', { subject: 'handle' }), log), nfsstat3.NFS3ERR_BADHANDLE);
  t.is(nfsstatOf(nfsError('Invalid', nfsstat3.NFS3ERR_TOOSMALL, 'x'), log), nfsstat3.NFS3ERR_TOOSMALL);
});

test('an error that is not a ShoalError is SERVERFAULT, logged once at error', (t) => {
  const { log, lines } = recording();
  t.is(nfsstatOf(new TypeError('a bug'), log), nfsstat3.NFS3ERR_SERVERFAULT);
  t.deepEqual(lines, ['error nfs.serverfault']);
});

test('a file handle is 41 bytes with no boot time; a foreign one is BADHANDLE', (t) => {
  const handle = { volumeId: Buffer.alloc(8, 1), address: Buffer.alloc(32, 2) };
  const fh = encodeFileHandle(handle);
  t.is(fh.length, FILE_HANDLE_BYTES);
  t.true(fh.length <= 64);
  t.deepEqual(decodeFileHandle(fh), handle);
  const { log } = recording();
  const bad = t.throws(() => decodeFileHandle(Buffer.alloc(16)));
  t.is(nfsstatOf(bad, log), nfsstat3.NFS3ERR_BADHANDLE);
});

test('a READDIR cookie is stable, never 0, 1 or 2', (t) => {
  t.is(cookieOfName('a'), cookieOfName('a'));
  t.not(cookieOfName('a'), cookieOfName('b'));
  for (const name of ['a', 'b', 'c', '.x']) t.true(cookieOfName(name) >= 3n);
});
