// Enforces STYLE.md §B (which folder may import which) over every relative import, as TigerBeetle's src/tidy.zig does.
// Method: parse each source's imports, resolve the relative ones to repo paths, and look each up in RULES.
import test from 'ava';
import { posix } from 'node:path';
import { listSourceFiles, parseImports, readSource } from './source-files.js';

/** A path ending in `/` is a folder (prefix); anything else is one file. */
type Allow = string | { readonly path: string; readonly typeOnly: true };

interface Rule {
  readonly zone: string;
  readonly files: readonly string[];
  /** Besides the zone's own files, which a zone may always import. */
  readonly allow: readonly Allow[];
}

const BASE = 'storage-node/base/';
const BLOCKS = 'storage-node/blocks/';
const MEMBERSHIP = 'storage-node/overlay/membership.ts';
const PURE_OVERLAY = [
  MEMBERSHIP, 'storage-node/overlay/failure-detector.ts', 'storage-node/overlay/gossip-plan.ts',
  'storage-node/overlay/member-table.ts', 'storage-node/overlay/overlay-messages.ts',
  'storage-node/overlay/overlay-config.ts', 'storage-node/overlay/overlay-core.ts', 'storage-node/overlay/overlay-state.ts',
];
const CLIENT = 'storage-node/client/';
const GATEWAY_FS = 'gateway/fs/';

// The most specific `files` entry wins, so the pure overlay files and the composition-root files
// are matched before their folders.
export const RULES: readonly Rule[] = [
  { zone: 'storage-node/base', files: [BASE], allow: [] },
  { zone: 'storage-node/blocks', files: [BLOCKS], allow: [BASE] },
  // Placement reads membership through types only (STYLE §B).
  { zone: 'storage-node/placement', files: ['storage-node/placement/'], allow: [BASE, { path: MEMBERSHIP, typeOnly: true }] },
  // Consensus gets a validate() callback instead of importing blocks (gryadka).
  { zone: 'storage-node/consensus', files: ['storage-node/consensus/'], allow: [BASE] },
  { zone: 'storage-node/overlay (pure)', files: PURE_OVERLAY, allow: [BASE] },
  // Not in STYLE §B: the overlay driver runs the pure files over the transport.
  { zone: 'storage-node/overlay (driver)', files: ['storage-node/overlay/'], allow: [BASE, 'storage-node/wire/'] },
  { zone: 'storage-node/store', files: ['storage-node/store/'], allow: [BASE, BLOCKS] },
  { zone: 'storage-node/wire', files: ['storage-node/wire/'], allow: [BASE, BLOCKS, 'storage-node/consensus/messages.ts', { path: MEMBERSHIP, typeOnly: true }] },
  // Everything in the node except client; not the roots (main.ts, system.ts, cli/) that build it.
  {
    zone: 'storage-node/server',
    files: ['storage-node/server/'],
    allow: [BASE, BLOCKS, 'storage-node/placement/', 'storage-node/consensus/', 'storage-node/overlay/',
      'storage-node/store/', 'storage-node/wire/', 'storage-node/config.ts'],
  },
  // The proposer runs in the client (Infinit).
  {
    zone: 'storage-node/client',
    files: [CLIENT],
    allow: [BASE, BLOCKS, 'storage-node/wire/', 'storage-node/placement/', 'storage-node/consensus/', MEMBERSHIP],
  },
  { zone: 'storage-node/cli', files: ['storage-node/cli/'], allow: ['storage-node/'] },
  {
    zone: 'storage-node composition root',
    files: ['storage-node/main.ts', 'storage-node/config.ts', 'storage-node/system.ts'],
    allow: ['storage-node/'],
  },
  { zone: 'gateway/fs', files: [GATEWAY_FS], allow: [CLIENT, BLOCKS, BASE] },
  { zone: 'gateway/rpc', files: ['gateway/rpc/'], allow: [BASE] },
  // One zone: mount hands out NFS file handles and the programs register with portmap.
  {
    zone: 'gateway/{nfs,mount,portmap}',
    files: ['gateway/nfs/', 'gateway/mount/', 'gateway/portmap/'],
    allow: ['gateway/rpc/', GATEWAY_FS, BASE],
  },
  { zone: 'gateway/s3', files: ['gateway/s3/'], allow: [GATEWAY_FS, BASE] },
  { zone: 'gateway/admin', files: ['gateway/admin/'], allow: [GATEWAY_FS, CLIENT, BASE] },
  {
    zone: 'gateway composition root',
    files: ['gateway/main.ts', 'gateway/config.ts', 'gateway/cli/'],
    allow: ['storage-node/', 'gateway/', 'web/'],
  },
  // The console shares the admin API's types and nothing at runtime.
  { zone: 'web', files: ['web/'], allow: [{ path: 'gateway/admin/dto.ts', typeOnly: true }] },
  { zone: 'test', files: ['test/'], allow: ['storage-node/', 'gateway/', 'web/'] },
];

export interface ImportEdge {
  readonly file: string;
  readonly specifier: string;
  readonly typeOnly: boolean;
}

const pathOf = (allow: Allow): string => (typeof allow === 'string' ? allow : allow.path);
const covers = (pattern: string, path: string): boolean =>
  pattern.endsWith('/') ? path.startsWith(pattern) : path === pattern;

/** The rule of the most specific `files` entry covering the file, if any. */
export function ruleFor(file: string): Rule | undefined {
  let best: { rule: Rule; length: number } | undefined;
  for (const rule of RULES) {
    for (const pattern of rule.files) {
      if (covers(pattern, file) && (best === undefined || pattern.length > best.length)) {
        best = { rule, length: pattern.length };
      }
    }
  }
  return best?.rule;
}

const TS_EXTENSION_OF: Record<string, string> = { '.js': '.ts', '.jsx': '.tsx', '.mjs': '.mts', '.cjs': '.cts' };

/** Repo path of a relative specifier; NodeNext writes `.js` for a `.ts` source. */
export function resolveSpecifier(file: string, specifier: string): string {
  const joined = posix.normalize(posix.join(posix.dirname(file), specifier));
  const extension = posix.extname(joined);
  if (extension === '') return `${joined}.ts`; // bundler-style specifier (web/)
  const tsExtension = TS_EXTENSION_OF[extension];
  return tsExtension === undefined ? joined : joined.slice(0, -extension.length) + tsExtension;
}

function describe(rule: Rule): string {
  if (rule.allow.length === 0) return `${rule.zone} imports nothing of ours`;
  const names = rule.allow.map((a) => (typeof a === 'string' ? a.replace(/\/$/, '') : `type-only ${a.path}`));
  return `${rule.zone} may import only ${names.join(', ')}`;
}

/** Every violation among the edges, as `file: imports X (rule)`; empty when the tree is tidy. */
export function checkImports(edges: readonly ImportEdge[]): string[] {
  const violations: string[] = [];
  for (const { file, specifier, typeOnly } of edges) {
    if (!specifier.startsWith('./') && !specifier.startsWith('../')) continue; // packages, node:
    const target = resolveSpecifier(file, specifier);
    const report = (why: string): void => void violations.push(`${file}: imports ${target} (${why})`);
    if (target.startsWith('../')) { report('outside the project'); continue; }
    if (target.startsWith('test/') && !file.startsWith('test/')) { report('nothing outside test/ imports test/'); continue; }
    if (file.startsWith('storage-node/') && target.startsWith('gateway/')) { report('storage-node/ never imports gateway/'); continue; }
    const rule = ruleFor(file);
    if (rule === undefined) { report(`no rule covers ${file}: add its folder to RULES in test/tidy/imports.test.ts`); continue; }
    if (rule.files.some((pattern) => covers(pattern, target))) continue; // a zone may import itself
    const matches = rule.allow.filter((allow) => covers(pathOf(allow), target));
    if (matches.some((allow) => typeof allow === 'string' || typeOnly)) continue;
    report(matches.length > 0 ? `${rule.zone} may import ${target} only with \`import type\`` : describe(rule));
  }
  return violations;
}

// Violations found in the tree and not yet resolved, listed so that they stay visible in review
// rather than silently allowed by a looser rule. An entry that no longer occurs fails the test, so
// that the list only shrinks.
const KNOWN_VIOLATIONS: readonly string[] = [];

test('every relative import follows STYLE.md §B', (t) => {
  const files = listSourceFiles();
  t.true(files.some((f) => f.startsWith('storage-node/')), 'no sources found: run from the repo root');
  const edges = files.flatMap((file) =>
    parseImports(readSource(file)).map(({ specifier, typeOnly }) => ({ file, specifier, typeOnly })));
  const uncovered = files.filter((f) => !f.startsWith('test/') && ruleFor(f) === undefined)
    .map((f) => `${f}: no rule covers this file (add its folder to RULES in test/tidy/imports.test.ts)`);
  const violations = [...uncovered, ...checkImports(edges)];
  for (const known of KNOWN_VIOLATIONS) t.log(`known violation: ${known}`);
  t.deepEqual(violations.filter((v) => !KNOWN_VIOLATIONS.includes(v)), [], 'new violations');
  t.deepEqual(KNOWN_VIOLATIONS.filter((v) => !violations.includes(v)), [], 'fixed: remove from KNOWN_VIOLATIONS');
});

test('the checker reports violations (it can fail)', (t) => {
  const edges: ImportEdge[] = [
    { file: 'storage-node/blocks/a.ts', specifier: '../base/errors.js', typeOnly: false },
    { file: 'storage-node/blocks/a.ts', specifier: '../client/cluster-client.js', typeOnly: true },
    { file: 'storage-node/placement/p.ts', specifier: '../overlay/membership.js', typeOnly: true },
    { file: 'storage-node/placement/p.ts', specifier: '../overlay/membership.js', typeOnly: false },
    { file: 'storage-node/base/b.ts', specifier: '../../gateway/fs/volume.js', typeOnly: true },
    { file: 'gateway/s3/app.ts', specifier: '../../test/sim/harness/cluster.js', typeOnly: false },
    { file: 'gateway/s3/app.ts', specifier: 'node:http', typeOnly: false },
    { file: 'gateway/nfs/x.ts', specifier: '../mount/types.js', typeOnly: false },
    { file: 'web/src/api-client.ts', specifier: '../../gateway/admin/dto.js', typeOnly: false },
    { file: 'storage-node/overlay/gossip-plan.ts', specifier: './overlay-driver.js', typeOnly: false },
    { file: 'storage-node/stray/x.ts', specifier: '../base/errors.js', typeOnly: false },
  ];
  t.deepEqual(checkImports(edges), [
    'storage-node/blocks/a.ts: imports storage-node/client/cluster-client.ts (storage-node/blocks may import only storage-node/base)',
    'storage-node/placement/p.ts: imports storage-node/overlay/membership.ts (storage-node/placement may import storage-node/overlay/membership.ts only with `import type`)',
    'storage-node/base/b.ts: imports gateway/fs/volume.ts (storage-node/ never imports gateway/)',
    'gateway/s3/app.ts: imports test/sim/harness/cluster.ts (nothing outside test/ imports test/)',
    'web/src/api-client.ts: imports gateway/admin/dto.ts (web may import gateway/admin/dto.ts only with `import type`)',
    'storage-node/overlay/gossip-plan.ts: imports storage-node/overlay/overlay-driver.ts (storage-node/overlay (pure) may import only storage-node/base)',
    'storage-node/stray/x.ts: imports storage-node/base/errors.ts (no rule covers storage-node/stray/x.ts: add its folder to RULES in test/tidy/imports.test.ts)',
  ]);
});

test('the parser finds every import form and tells type-only ones apart', (t) => {
  const source = [
    "import { a } from './a.js';",
    "import type { B } from './b.js';",
    "import { type C } from './c.js'; // still loads ./c.js under verbatimModuleSyntax",
    "export * from './d.js';",
    "export type { E } from './e.js';",
    "import './f.js';",
    "const g = await import('./g.js');",
    "type H = import('./h.js').H;",
    "// import { x } from './commented.js';",
    "/* import './commented-too.js'; */",
    "import def, * as ns from './i.js';",
    "const url = 'http://example.com/'; import type from './j.js';",
  ].join('\n');
  const found = parseImports(source).map((i) => `${i.line} ${i.kind} ${i.typeOnly ? 'type' : 'value'} ${i.specifier}`);
  t.deepEqual(found, [
    '1 import value ./a.js',
    '2 import type ./b.js',
    '3 import value ./c.js',
    '4 export-from value ./d.js',
    '5 export-from type ./e.js',
    '6 side-effect value ./f.js',
    '7 dynamic value ./g.js',
    '8 dynamic type ./h.js',
    '11 import value ./i.js',
    '12 import value ./j.js',
  ]);
});
