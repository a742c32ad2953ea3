// Bans determinism hazards (time, randomness, timers, I/O) in the pure folders, per STYLE.md §C.10.
// Method: strip comments, search the code for banned calls, and check every import against banned modules.
import test from 'ava';
import { lineAt, listSourceFiles, parseImports, readSource, stripComments } from './source-files.js';

const PURE_FOLDERS = ['storage-node/base/', 'storage-node/blocks/', 'storage-node/placement/', 'storage-node/consensus/'];
const PURE_FILES = new Set([
  'storage-node/overlay/membership.ts',
  'storage-node/overlay/failure-detector.ts',
  'storage-node/overlay/gossip-plan.ts',
  'storage-node/overlay/member-table.ts',
  'storage-node/overlay/overlay-messages.ts',
  'storage-node/overlay/overlay-config.ts',
  'storage-node/overlay/overlay-core.ts',
  'storage-node/overlay/overlay-state.ts',
]);
// SystemClock is the one place the real clock and timers live; the composition roots pick it.
const EXEMPT_FILES = new Set(['storage-node/base/clock.ts']);

export function isPure(file: string): boolean {
  if (EXEMPT_FILES.has(file)) return false;
  return PURE_FILES.has(file) || PURE_FOLDERS.some((folder) => file.startsWith(folder));
}

// Each hazard goes through a seam instead: Clock for time and timers, Random for choices,
// Entropy for secrets. Random names are banned as identifiers, not only as calls, so that an
// aliased import (`randomBytes as rb`) is caught too.
const BANNED_CODE: readonly { pattern: RegExp; why: string }[] = [
  { pattern: /\bDate\s*\.\s*now\s*\(/g, why: 'time comes from Clock.wallMs()' },
  { pattern: /\bnew\s+Date\s*\(\s*\)/g, why: 'time comes from Clock.wallMs()' },
  { pattern: /\bnew\s+Date\b(?!\s*\()/g, why: 'time comes from Clock.wallMs()' },
  { pattern: /(?<![.\w$]|\bnew\s+)Date\s*\(/g, why: 'Date() is the current time as a string; use Clock.wallMs()' },
  { pattern: /\bperformance\s*\.\s*now\s*\(/g, why: 'time comes from Clock.now()' },
  { pattern: /\bprocess\s*\.\s*hrtime\b/g, why: 'time comes from Clock.now()' },
  { pattern: /\bset(Timeout|Interval|Immediate)\s*\(/g, why: 'timers go through Clock.setTimer()' },
  { pattern: /\bMath\s*\.\s*random\s*\(/g, why: 'choices come from a seeded Random' },
  { pattern: /\bcrypto\s*\.\s*(random\w*|getRandomValues)\b/g, why: 'secrets come from Entropy' },
  { pattern: /\b(randomBytes|randomUUID|randomInt|randomFill|randomFillSync|getRandomValues)\b/g, why: 'secrets come from Entropy' },
];

// Bare names and `node:` names are the same module. Timers and perf_hooks are listed because they
// re-export setTimeout and performance under names the patterns above would not see.
const BANNED_MODULES = new Set([
  'net', 'tls', 'fs', 'fs/promises', 'http', 'https', 'http2', 'dgram', 'child_process',
  'timers', 'timers/promises', 'perf_hooks', 'lmdb',
]);
const moduleName = (specifier: string): string => {
  const bare = specifier.replace(/^node:/, '');
  return bare.startsWith('lmdb/') ? 'lmdb' : bare;
};

/** Every hazard in one pure source, as `file:line: uses X (why)`. */
export function findBannedApis(file: string, source: string): string[] {
  const code = stripComments(source);
  const found: { line: number; text: string }[] = [];
  for (const { pattern, why } of BANNED_CODE) {
    for (const m of code.matchAll(pattern)) {
      found.push({ line: lineAt(code, m.index), text: `uses ${m[0].replace(/\s+/g, ' ')} (${why})` });
    }
  }
  for (const { specifier, line } of parseImports(source)) {
    if (BANNED_MODULES.has(moduleName(specifier))) {
      found.push({ line, text: `imports ${specifier} (pure code does no I/O; the driver or store does)` });
    }
  }
  return found.sort((a, b) => a.line - b.line).map(({ line, text }) => `${file}:${line}: ${text}`);
}

test('the pure folders use no clock, randomness, timers or I/O directly', (t) => {
  const files = listSourceFiles().filter(isPure);
  t.true(files.length > 0, 'no pure sources found: run from the repo root');
  t.deepEqual(files.flatMap((file) => findBannedApis(file, readSource(file))), []);
});

test('the scan reports banned calls and imports, and ignores comments (it can fail)', (t) => {
  const source = [
    "import { createHash } from 'node:crypto';",
    "import { readFile } from 'node:fs';",
    "import { randomBytes as rb } from 'crypto';",
    "// Date.now() in a line comment is fine",
    "/* Math.random() in a block comment",
    "   is fine */ const url = 'http://example.com';",
    'export const t = Date.now();',
    'export const d = new Date();',
    'export const e = new Date(0);',
    "setTimeout(() => {}, 10); const s = { setTimer() {} };",
  ].join('\n');
  t.deepEqual(findBannedApis('storage-node/blocks/x.ts', source), [
    'storage-node/blocks/x.ts:2: imports node:fs (pure code does no I/O; the driver or store does)',
    'storage-node/blocks/x.ts:3: uses randomBytes (secrets come from Entropy)',
    'storage-node/blocks/x.ts:7: uses Date.now( (time comes from Clock.wallMs())',
    'storage-node/blocks/x.ts:8: uses new Date() (time comes from Clock.wallMs())',
    'storage-node/blocks/x.ts:10: uses setTimeout( (timers go through Clock.setTimer())',
  ]);
  t.true(isPure('storage-node/overlay/gossip-plan.ts'));
  t.false(isPure('storage-node/overlay/overlay-driver.ts'));
  t.false(isPure('storage-node/base/clock.ts'));
});
