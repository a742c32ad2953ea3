// A plain in-memory model of the filesystem's semantics and a seeded workload that runs random operations against
// gateway/fs and the model side by side, comparing outcomes (result or error kind) and state after every step.
//
// Writes are gathered in the gateway: the filesystem under test must show them at once (read-your-writes), and an
// observer (a second FileSystem on the same blocks, as a second gateway) must see a file's data after its commit, and
// the whole tree after the final commit of everything.
import { isShoalError } from '../../../storage-node/base/errors.js';
import { Random } from '../../../storage-node/base/random.js';
import type { Address } from '../../../storage-node/blocks/address.js';
import type { FileSystem } from '../../../gateway/fs/filesystem.js';
import { ROOT_CALLER } from '../../../gateway/fs/permissions.js';

type MFile = { type: 'file'; data: Buffer; nlink: number };
const newFile = (): MFile => ({ type: 'file', data: Buffer.alloc(0), nlink: 1 });
type MDir = { type: 'dir'; entries: Map<string, MNode> };
type MLink = { type: 'symlink'; target: string; nlink: number };
type MNode = MFile | MDir | MLink;

/** The outcome both sides must agree on: 'ok' (plus read bytes) or an error kind. */
type Outcome = string;

const NAMES = ['a', 'b', 'c', 'd', 'e', 'f', 'g', 'h', 'i', 'j', 'k', 'l', 'm', 'n', 'o', 'p', 'q', 'r', 's', 't', 'long-name-0123456789'];

export class FsModel {
  readonly root: MDir = { type: 'dir', entries: new Map() };

  dirAt(path: readonly string[]): MDir | undefined {
    let at: MNode = this.root;
    for (const name of path) {
      if (at.type !== 'dir') return undefined;
      const next = at.entries.get(name);
      if (next === undefined) return undefined;
      at = next;
    }
    return at.type === 'dir' ? at : undefined;
  }

  /** Every directory path, root first. */
  dirs(): string[][] {
    const out: string[][] = [];
    const walk = (dir: MDir, path: string[]): void => {
      out.push(path);
      for (const [name, node] of [...dir.entries].sort(([a], [b]) => (a < b ? -1 : 1))) if (node.type === 'dir') walk(node, [...path, name]);
    };
    walk(this.root, []);
    return out;
  }

  files(): string[][] {
    const out: string[][] = [];
    for (const path of this.dirs()) {
      for (const [name, node] of [...(this.dirAt(path) as MDir).entries].sort(([a], [b]) => (a < b ? -1 : 1))) if (node.type === 'file') out.push([...path, name]);
    }
    return out;
  }

  create(dir: MDir, name: string, exclusive: boolean): Outcome {
    const existing = dir.entries.get(name);
    if (existing !== undefined) return exclusive ? 'Exists' : existing.type === 'dir' ? 'IsDir' : 'ok';
    dir.entries.set(name, newFile());
    return 'ok';
  }

  mkdir(dir: MDir, name: string): Outcome {
    if (dir.entries.has(name)) return 'Exists';
    dir.entries.set(name, { type: 'dir', entries: new Map() });
    return 'ok';
  }

  symlink(dir: MDir, name: string, target: string): Outcome {
    if (dir.entries.has(name)) return 'Exists';
    dir.entries.set(name, { type: 'symlink', target, nlink: 1 });
    return 'ok';
  }

  link(file: MFile, dir: MDir, name: string): Outcome {
    if (dir.entries.has(name)) return 'Exists';
    file.nlink++;
    dir.entries.set(name, file);
    return 'ok';
  }

  remove(dir: MDir, name: string): Outcome {
    const node = dir.entries.get(name);
    if (node === undefined) return 'NotFound';
    if (node.type === 'dir') return 'IsDir';
    node.nlink--;
    dir.entries.delete(name);
    return 'ok';
  }

  rmdir(dir: MDir, name: string): Outcome {
    const node = dir.entries.get(name);
    if (node === undefined) return 'NotFound';
    if (node.type !== 'dir') return 'NotDir';
    if (node.entries.size > 0) return 'NotEmpty';
    dir.entries.delete(name);
    return 'ok';
  }

  rename(source: MDir, sourceName: string, target: MDir, targetName: string): Outcome {
    const node = source.entries.get(sourceName);
    if (node === undefined) return 'NotFound';
    if (source === target && sourceName === targetName) return 'ok';
    if (node.type === 'dir' && (node === target || contains(node, target))) return 'Invalid';
    const replaced = target.entries.get(targetName);
    if (replaced === node) return 'ok';
    if (replaced !== undefined) {
      if (node.type === 'dir' && replaced.type !== 'dir') return 'NotDir';
      if (node.type !== 'dir' && replaced.type === 'dir') return 'IsDir';
      if (replaced.type === 'dir' && replaced.entries.size > 0) return 'NotEmpty';
      if (replaced.type !== 'dir') replaced.nlink--;
    }
    source.entries.delete(sourceName);
    target.entries.set(targetName, node);
    return 'ok';
  }

  write(file: MFile, offset: number, data: Buffer): Outcome {
    const next = Buffer.alloc(Math.max(file.data.length, offset + data.length));
    file.data.copy(next);
    data.copy(next, offset);
    file.data = next;
    return 'ok';
  }

  truncate(file: MFile, size: number): Outcome {
    const next = Buffer.alloc(size);
    file.data.copy(next, 0, 0, Math.min(size, file.data.length));
    file.data = next;
    return 'ok';
  }
}

function contains(dir: MDir, wanted: MDir): boolean {
  for (const node of dir.entries.values()) if (node === wanted || (node.type === 'dir' && contains(node, wanted))) return true;
  return false;
}

async function outcomeOf(run: () => Promise<unknown>): Promise<Outcome> {
  try {
    const result = await run();
    return Buffer.isBuffer(result) ? `ok:${result.toString('hex')}` : 'ok';
  } catch (err) {
    if (isShoalError(err)) return err.kind;
    throw err;
  }
}

export interface WorkloadOptions {
  readonly seed: string;
  readonly steps: number;
  /** Largest write, in bytes (a few chunks of the test chunk size). */
  readonly writeBytesMax: number;
  /** Every this many steps, the whole tree is compared (the touched directories and file always are). */
  readonly fullCheckEvery: number;
  /** A second FileSystem on the same blocks (another gateway): it must see each file's data after its commit. */
  readonly observer?: FileSystem;
  readonly log?: (line: string) => void;
}

/** Runs the workload; on a mismatch throws an error that names the seed, the step and the recent history. */
export async function runWorkload(fs: FileSystem, options: WorkloadOptions): Promise<{ steps: number; counts: Record<string, number> }> {
  const random = new Random(options.seed);
  const model = new FsModel();
  const history: string[] = [];
  const counts: Record<string, number> = {};
  const fail = (message: string): never => {
    throw new Error(`${message}\nSHOAL_SEED=${options.seed}\nlast steps:\n${history.slice(-15).join('\n')}`);
  };
  for (let step = 1; step <= options.steps; step++) {
    const op = await oneStep(fs, model, random, options);
    counts[op.kind] = (counts[op.kind] ?? 0) + 1;
    history.push(`#${step} ${op.description}: model ${op.expected}, fs ${op.actual}`);
    if (op.expected !== op.actual) fail(`step ${step}: ${op.description}: the model says ${op.expected}, gateway/fs says ${op.actual}`);
    const problems = [];
    for (const path of op.touchedDirs) problems.push(...await compareDir(fs, model, path, random));
    if (op.committed !== undefined && options.observer !== undefined) problems.push(...await compareFile(options.observer, op.committed.path, op.committed.file, 'the observer'));
    if (step % options.fullCheckEvery === 0 || step === options.steps) problems.push(...await compareTree(fs, model, random));
    if (problems.length > 0) fail(`after step ${step} (${op.description}):\n  ${problems.slice(0, 10).join('\n  ')}`);
  }
  await fs.commitAll();
  if (options.observer !== undefined) {
    const problems = await compareTree(options.observer, model, random);
    if (problems.length > 0) fail(`after committing everything, the observer sees:\n  ${problems.slice(0, 10).join('\n  ')}`);
  }
  return { steps: options.steps, counts };
}

/** A file's size and content through `fs` (resolved by path) against the model. */
async function compareFile(fs: FileSystem, path: readonly string[], file: MFile, who: string): Promise<string[]> {
  const address = await resolve(fs, path).catch(() => undefined);
  if (address === undefined) return [`${who}: /${path.join('/')} cannot be resolved`];
  const attrs = await fs.getattr(address);
  const { data } = await fs.read(ROOT_CALLER, address, 0, file.data.length + 10);
  if (attrs.size !== file.data.length || !data.equals(file.data)) return [`${who}: /${path.join('/')} has ${attrs.size} bytes (${data.length} read), the model ${file.data.length}${attrs.size === file.data.length ? ', and they differ' : ''}`];
  return [];
}

interface Step {
  readonly kind: string;
  readonly description: string;
  readonly expected: Outcome;
  readonly actual: Outcome;
  readonly touchedDirs: readonly string[][];
  /** A file just committed: the observer must see the model's data. */
  readonly committed?: { readonly path: readonly string[]; readonly file: MFile };
}

async function resolve(fs: FileSystem, path: readonly string[]): Promise<Address> {
  let at = fs.root;
  for (const name of path) at = (await fs.lookup(ROOT_CALLER, at, name)).address;
  return at;
}

async function oneStep(fs: FileSystem, model: FsModel, random: Random, options: WorkloadOptions): Promise<Step> {
  const dirs = model.dirs();
  // Favour the root and shallow directories so that some directory grows past the page threshold.
  const dirPath = random.bool(0.4) ? [] : random.pick(dirs);
  const dir = model.dirAt(dirPath) as MDir;
  const name = random.pick(NAMES);
  const files = model.files();
  const kinds = ['create', 'create', 'create', 'mkdir', 'write', 'write', 'write', 'commit', 'truncate', 'read', 'remove', 'rmdir', 'rename', 'rename', 'link', 'symlink'];
  const kind = random.pick(kinds);
  const at = dirPath.join('/') || '/';
  const dirAddress = await resolve(fs, dirPath);
  const step = (description: string, expected: Outcome, actual: Outcome, touchedDirs: string[][] = [dirPath]): Step => ({ kind, description, expected, actual, touchedDirs });
  switch (kind) {
    case 'create': {
      const exclusive = random.bool(0.3);
      const expected = model.create(dir, name, exclusive);
      return step(`create ${at} ${name}${exclusive ? ' exclusive' : ''}`, expected, await outcomeOf(() => fs.create(ROOT_CALLER, dirAddress, name, { mode: 0o644, exclusive })));
    }
    case 'mkdir':
      return step(`mkdir ${at} ${name}`, model.mkdir(dir, name), await outcomeOf(() => fs.mkdir(ROOT_CALLER, dirAddress, name, 0o755)));
    case 'symlink':
      return step(`symlink ${at} ${name}`, model.symlink(dir, name, `target-${name}`), await outcomeOf(() => fs.symlink(ROOT_CALLER, dirAddress, name, `target-${name}`)));
    case 'remove':
      return step(`remove ${at} ${name}`, model.remove(dir, name), await outcomeOf(() => fs.remove(ROOT_CALLER, dirAddress, name)));
    case 'rmdir':
      return step(`rmdir ${at} ${name}`, model.rmdir(dir, name), await outcomeOf(() => fs.rmdir(ROOT_CALLER, dirAddress, name)));
    case 'rename': {
      const targetPath = random.pick(dirs);
      const targetName = random.bool(0.2) ? name : random.pick(NAMES);
      const target = model.dirAt(targetPath) as MDir;
      const targetAddress = await resolve(fs, targetPath);
      const expected = model.rename(dir, name, target, targetName);
      const actual = await outcomeOf(() => fs.rename(ROOT_CALLER, dirAddress, name, targetAddress, targetName));
      return step(`rename ${at} ${name} → ${targetPath.join('/') || '/'} ${targetName}`, expected, actual, [dirPath, targetPath]);
    }
    default:
      return fileStep(fs, model, random, options, kind, files, step, dirPath, dirAddress, name);
  }
}

async function fileStep(
  fs: FileSystem, model: FsModel, random: Random, options: WorkloadOptions, kind: string, files: string[][],
  step: (description: string, expected: Outcome, actual: Outcome, touched?: string[][]) => Step, dirPath: string[], dirAddress: Address, name: string,
): Promise<Step> {
  if (files.length === 0) return step('no file yet', 'ok', 'ok');
  const path = random.pick(files);
  const file = (model.dirAt(path.slice(0, -1)) as MDir).entries.get(path[path.length - 1] as string) as MFile;
  const address = await resolve(fs, path);
  const size = file.data.length;
  const where = path.join('/');
  const parent = path.slice(0, -1);
  switch (kind) {
    case 'write': {
      // Within, across and past the end, sometimes far past it (a hole).
      const offset = random.bool(0.15) ? size + random.int(options.writeBytesMax * 3) : random.int(size + 1);
      const data = Buffer.from(Array.from({ length: 1 + random.int(options.writeBytesMax) }, () => random.int(256)));
      return step(`write ${where} @${offset} +${data.length}`, model.write(file, offset, data), await outcomeOf(() => fs.write(ROOT_CALLER, address, offset, data)), [parent]);
    }
    case 'truncate': {
      const to = random.bool(0.5) ? random.int(size + 1) : size + random.int(options.writeBytesMax * 2);
      return step(`truncate ${where} to ${to} (from ${size})`, model.truncate(file, to), await outcomeOf(() => fs.setattr(ROOT_CALLER, address, { size: to })), [parent]);
    }
    case 'read': {
      const offset = random.int(size + 4);
      const length = 1 + random.int(options.writeBytesMax * 2);
      const expected = `ok:${file.data.subarray(offset, offset + length).toString('hex')}`;
      return step(`read ${where} @${offset} +${length}`, expected, await outcomeOf(async () => (await fs.read(ROOT_CALLER, address, offset, length)).data), []);
    }
    case 'commit': {
      const actual = await outcomeOf(() => fs.commit(address));
      return { ...step(`commit ${where} (${size} bytes)`, 'ok', actual, [parent]), committed: { path, file } };
    }
    case 'link':
      return step(`link ${where} as ${dirPath.join('/') || '/'} ${name}`, model.link(file, model.dirAt(dirPath) as MDir, name), await outcomeOf(() => fs.link(ROOT_CALLER, address, dirAddress, name)));
    default:
      throw new Error(`unknown step ${kind}`);
  }
}

/** Lists a directory a few entries at a time through cookies and compares names, types, sizes and content. */
async function compareDir(fs: FileSystem, model: FsModel, path: readonly string[], random: Random): Promise<string[]> {
  const dir = model.dirAt(path);
  if (dir === undefined) return [];
  const address = await resolve(fs, path).catch(() => undefined);
  if (address === undefined) return [`${path.join('/')}: cannot be resolved`];
  const listed: string[] = [];
  let cookie: string | undefined;
  for (let pages = 0; pages < 1000; pages++) {
    const page = await fs.readdir(ROOT_CALLER, address, { count: 1 + random.int(5), ...(cookie === undefined ? {} : { cookie }) });
    listed.push(...page.entries.map((e) => `${e.name}:${e.type}`));
    cookie = page.cookie;
    if (page.eof) break;
  }
  const expected = [...dir.entries].sort(([a], [b]) => (a < b ? -1 : 1)).map(([name, node]) => `${name}:${node.type}`);
  const problems: string[] = [];
  if (listed.join(' ') !== expected.join(' ')) problems.push(`/${path.join('/')}: listed [${listed.join(' ')}], model [${expected.join(' ')}]`);
  const attrs = await fs.getattr(address);
  const subdirs = [...dir.entries.values()].filter((n) => n.type === 'dir').length;
  if (attrs.nlink !== 2 + subdirs || attrs.size !== dir.entries.size) problems.push(`/${path.join('/')}: nlink ${attrs.nlink} size ${attrs.size}, model ${2 + subdirs} ${dir.entries.size}`);
  for (const [name, node] of dir.entries) {
    if (node.type === 'dir') continue;
    const got = await fs.lookup(ROOT_CALLER, address, name);
    const size = node.type === 'file' ? node.data.length : Buffer.byteLength(node.target);
    if (got.size !== size || got.nlink !== node.nlink || got.type !== node.type) problems.push(`/${[...path, name].join('/')}: ${got.type} size ${got.size} nlink ${got.nlink}, model ${node.type} ${size} ${node.nlink}`);
    if (node.type === 'symlink' && (await fs.readlink(got.address)) !== node.target) problems.push(`/${[...path, name].join('/')}: symlink target differs`);
    if (node.type === 'file') {
      const { data } = await fs.read(ROOT_CALLER, got.address, 0, size + 10);
      if (!data.equals(node.data)) problems.push(`/${[...path, name].join('/')}: content differs (${data.length} bytes read)`);
    }
  }
  return problems;
}

async function compareTree(fs: FileSystem, model: FsModel, random: Random): Promise<string[]> {
  const problems: string[] = [];
  for (const path of model.dirs()) problems.push(...await compareDir(fs, model, path, random));
  return problems;
}
