// Lists Shoal's TypeScript sources and reads their import specifiers, for the tidy tests.
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';

/** Roots scanned, relative to the repo root; a root that does not exist yet is skipped. */
export const SOURCE_ROOTS = ['storage-node', 'gateway', 'web/src', 'test'] as const;

const SKIPPED_DIRECTORIES = new Set(['node_modules', 'dist']);
const SOURCE_EXTENSION = /\.(ts|tsx|mts|cts)$/;

/** Repo-relative POSIX paths of every source file under SOURCE_ROOTS, sorted so reports are stable. */
export function listSourceFiles(repoRoot: string = process.cwd()): string[] {
  const files: string[] = [];
  const walk = (relative: string): void => {
    for (const entry of readdirSync(join(repoRoot, relative), { withFileTypes: true })) {
      const child = `${relative}/${entry.name}`;
      if (entry.isDirectory()) {
        if (!entry.name.startsWith('.') && !SKIPPED_DIRECTORIES.has(entry.name)) walk(child);
      } else if (entry.isFile() && SOURCE_EXTENSION.test(entry.name)) {
        files.push(child);
      }
    }
  };
  for (const root of SOURCE_ROOTS) {
    if (isDirectory(join(repoRoot, root))) walk(root);
  }
  return files.sort();
}

export function readSource(file: string, repoRoot: string = process.cwd()): string {
  return readFileSync(join(repoRoot, file), 'utf8');
}

function isDirectory(path: string): boolean {
  try {
    return statSync(path).isDirectory();
  } catch {
    return false;
  }
}

/** 1-based line of a character offset; stripComments keeps offsets, so this works on its output. */
export function lineAt(source: string, offset: number): number {
  let line = 1;
  for (let i = 0; i < offset; i++) if (source.charCodeAt(i) === 10) line++;
  return line;
}

// Words after which a `/` starts a regex literal rather than a division.
const KEYWORDS_BEFORE_REGEX = new Set([
  'return', 'typeof', 'case', 'do', 'else', 'in', 'of', 'new', 'delete', 'void', 'throw',
  'instanceof', 'yield', 'await',
]);

/**
 * Blanks comments with spaces, keeping every offset and newline, so that a commented-out
 * `Date.now()` or `import` is not reported and line numbers still match the file. Strings,
 * template literals (with nested `${}`) and regex literals are skipped so that `'http://'` or
 * `/\/\//` does not open a comment. Strings end at a newline, which bounds the damage a stray
 * apostrophe in JSX text can do to one line.
 */
export function stripComments(source: string): string {
  const out = source.split('');
  const blank = (from: number, to: number): void => {
    for (let k = from; k < to; k++) if (out[k] !== '\n') out[k] = ' ';
  };
  const interpolationDepths: number[] = []; // brace depth at which each open `${` began
  let braceDepth = 0;
  let i = 0;
  const n = source.length;
  while (i < n) {
    const c = source[i];
    const next = source[i + 1];
    if (c === '/' && next === '/') {
      const end = source.indexOf('\n', i);
      const stop = end === -1 ? n : end;
      blank(i, stop);
      i = stop;
    } else if (c === '/' && next === '*') {
      const end = source.indexOf('*/', i + 2);
      const stop = end === -1 ? n : end + 2;
      blank(i, stop);
      i = stop;
    } else if (c === '"' || c === "'") {
      i = skipString(source, i + 1, c);
    } else if (c === '`') {
      i = enterTemplate(i + 1);
    } else if (c === '/' && startsRegex(out, i)) {
      i = skipRegex(source, i + 1);
    } else if (c === '{') {
      braceDepth++;
      i++;
    } else if (c === '}' && interpolationDepths.at(-1) === braceDepth) {
      interpolationDepths.pop();
      i = enterTemplate(i + 1);
    } else {
      if (c === '}') braceDepth--;
      i++;
    }
  }
  return out.join('');

  // Scans template text from `from`; returns the index after the closing backtick, or after a `${`.
  function enterTemplate(from: number): number {
    let k = from;
    while (k < n) {
      const t = source[k];
      if (t === '\\') k += 2;
      else if (t === '`') return k + 1;
      else if (t === '$' && source[k + 1] === '{') {
        interpolationDepths.push(braceDepth);
        return k + 2;
      } else k++;
    }
    return n;
  }
}

function skipString(source: string, from: number, quote: string): number {
  let k = from;
  while (k < source.length) {
    const t = source[k];
    if (t === '\\') k += 2;
    else if (t === quote) return k + 1;
    else if (t === '\n') return k;
    else k++;
  }
  return k;
}

// A `/` starts a regex when the code before it cannot end an expression (an operator, an opening
// bracket, the start of the file, or a keyword such as `return`).
function startsRegex(out: readonly string[], at: number): boolean {
  let k = at - 1;
  while (k >= 0 && /\s/.test(out[k] ?? '')) k--;
  if (k < 0) return true;
  const before = out[k] ?? '';
  if (/[\w$]/.test(before)) {
    let start = k;
    while (start > 0 && /[\w$]/.test(out[start - 1] ?? '')) start--;
    return KEYWORDS_BEFORE_REGEX.has(out.slice(start, k + 1).join(''));
  }
  return !/[)\]}'"`]/.test(before);
}

function skipRegex(source: string, from: number): number {
  let inClass = false;
  let k = from;
  while (k < source.length) {
    const t = source[k];
    if (t === '\\') k += 2;
    else if (t === '\n') return k;
    else {
      if (t === '[') inClass = true;
      else if (t === ']') inClass = false;
      else if (t === '/' && !inClass) return k + 1;
      k++;
    }
  }
  return k;
}

export type ImportKind = 'import' | 'export-from' | 'side-effect' | 'dynamic';

export interface ImportSpecifier {
  readonly specifier: string;
  /** True only when the import vanishes at runtime (`import type`, `export type`, type positions). */
  readonly typeOnly: boolean;
  readonly kind: ImportKind;
  readonly line: number;
}

// `import|export [type] <clause> from '<specifier>'`, the clause spelled out (default, `* as ns`,
// `{ named }`) so that a match cannot run on from one statement into the next one's `from '...'`.
const CLAUSE = String.raw`(?:[\w$]+(?:\s*,\s*(?:\*(?:\s*as\s+[\w$]+)?|\{[^{}'";]*\}))?|\*(?:\s*as\s+[\w$]+)?|\{[^{}'";]*\})`;
const FROM_CLAUSE = new RegExp(String.raw`\b(import|export)\s+(type\s+)?(${CLAUSE})\s*from\s*(['"])([^'"\n]+)\4`, 'g');
const SIDE_EFFECT = /\bimport\s*(['"])([^'"\n]+)\1/g;
// Only literal specifiers can be checked; `import(name)` with a computed name is not reported.
const DYNAMIC = /\bimport\s*\(\s*(['"`])([^'"`\n$]+)\1\s*[,)]/g;
const TYPEOF_BEFORE = /\btypeof\s*$/;
// `import('x').Name` in a type position; `.then`/`.catch`/`.finally` are runtime uses.
const TYPE_MEMBER_AFTER = /^\s*\.\s*(?!then\b|catch\b|finally\b)[A-Za-z_$]/;

/**
 * Every import specifier of a source, comments ignored. `import { type A }` counts as a value
 * import on purpose: with verbatimModuleSyntax it compiles to `import {} from`, which still loads
 * the module.
 */
export function parseImports(source: string): ImportSpecifier[] {
  const code = stripComments(source);
  const found: { offset: number; spec: Omit<ImportSpecifier, 'line'> }[] = [];
  for (const m of code.matchAll(FROM_CLAUSE)) {
    // `import type from './x.js'` binds a default named `type`: the regex leaves m[2] empty then.
    const typeOnly = m[2] !== undefined;
    const kind: ImportKind = m[1] === 'export' ? 'export-from' : 'import';
    found.push({ offset: m.index, spec: { specifier: m[5] ?? '', typeOnly, kind } });
  }
  for (const m of code.matchAll(SIDE_EFFECT)) {
    found.push({ offset: m.index, spec: { specifier: m[2] ?? '', typeOnly: false, kind: 'side-effect' } });
  }
  for (const m of code.matchAll(DYNAMIC)) {
    const after = code.slice(m.index + m[0].length, m.index + m[0].length + 40);
    const typeOnly = TYPEOF_BEFORE.test(code.slice(Math.max(0, m.index - 20), m.index)) ||
      (m[0].endsWith(')') && TYPE_MEMBER_AFTER.test(after));
    found.push({ offset: m.index, spec: { specifier: m[2] ?? '', typeOnly, kind: 'dynamic' } });
  }
  return found
    .sort((a, b) => a.offset - b.offset)
    .map(({ offset, spec }) => ({ ...spec, line: lineAt(code, offset) }));
}
