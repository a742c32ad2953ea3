// READDIR cookies (RFC 1813 §3.3.16): the filesystem resumes a listing after a name; NFS carries 8 bytes, so a cookie is
// a stable hash of the name, mapped back through a bounded table, or by listing until the hash matches after a restart.
import { createHash } from 'node:crypto';
import type { Address } from './file-handle.js';
import type { FileSystem } from '../fs/filesystem.js';
import type { Caller } from '../fs/permissions.js';

/** Cookie 0 starts a listing (RFC 1813 §3.3.16); 1 and 2 follow the "." and ".." entries. */
export const COOKIE_START = 0n;
export const COOKIE_AFTER_DOT = 1n;
export const COOKIE_AFTER_DOTDOT = 2n;
const COOKIE_RESERVED = 3n;

const COOKIES_REMEMBERED_MAX = 65_536;
const SCAN_PAGE_ENTRIES = 512;

/** Where a listing resumes: from the start of the names, or after one name. */
export type ResumePoint = { readonly kind: 'start' } | { readonly kind: 'after'; readonly name: string };

/** The cookie of a name: the same on every gateway and after every restart, never 0, 1 or 2. */
export function cookieOfName(name: string): bigint {
  const hash = createHash('sha256').update(name, 'utf8').digest().readBigUInt64BE(0);
  return hash < COOKIE_RESERVED ? hash + COOKIE_RESERVED : hash;
}

/**
 * The cookie verifier: the directory's fileid, constant for its life. Cookies stay valid while the directory changes,
 * so the verifier never has to change and is never checked (DESIGN §6: never NFS3ERR_BAD_COOKIE for a live directory).
 */
export function cookieverfOf(dir: Address): Buffer {
  return Buffer.from(dir.subarray(0, 8));
}

export class DirCookies {
  /** `dir hex:cookie` → name, in insertion order so the oldest goes first. */
  readonly #names = new Map<string, string>();
  readonly #entriesMax: number;

  constructor(entriesMax = COOKIES_REMEMBERED_MAX) {
    this.#entriesMax = entriesMax;
  }

  get size(): number {
    return this.#names.size;
  }

  /** The cookie of a name just listed, remembered so the next page resumes without a scan. */
  remember(dir: Address, name: string): bigint {
    const cookie = cookieOfName(name);
    const key = `${dir.toString('hex')}:${cookie}`;
    this.#names.delete(key);
    this.#names.set(key, name);
    while (this.#names.size > this.#entriesMax) {
      const oldest = this.#names.keys().next().value;
      if (oldest === undefined) break;
      this.#names.delete(oldest);
    }
    return cookie;
  }

  /**
   * The name a cookie stands for. Unknown here (another gateway gave it, or this one restarted): list the directory
   * until a name hashes to it. Not found either (that name was removed meanwhile): start again from the beginning,
   * which repeats entries rather than losing them; `rm -rf` then meets a name twice and skips it.
   */
  async resume(fs: FileSystem, caller: Caller, dir: Address, cookie: bigint): Promise<ResumePoint> {
    if (cookie < COOKIE_RESERVED) return { kind: 'start' };
    const known = this.#names.get(`${dir.toString('hex')}:${cookie}`);
    if (known !== undefined) return { kind: 'after', name: known };
    let after: string | undefined;
    for (;;) {
      const page = await fs.readdir(caller, dir, { count: SCAN_PAGE_ENTRIES, ...(after === undefined ? {} : { cookie: after }) });
      const found = page.entries.find((e) => cookieOfName(e.name) === cookie);
      if (found !== undefined) return { kind: 'after', name: this.#rememberName(dir, found.name) };
      if (page.eof || page.cookie === undefined) return { kind: 'start' };
      after = page.cookie;
    }
  }

  #rememberName(dir: Address, name: string): string {
    this.remember(dir, name);
    return name;
  }
}
