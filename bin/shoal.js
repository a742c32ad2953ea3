#!/usr/bin/env node
// The installed `shoal` command: runs the compiled CLI (built by `npm run build`, which `npm install` runs).
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const entry = new URL('../dist/gateway/cli/shoal.js', import.meta.url);
if (!existsSync(fileURLToPath(entry))) {
  process.stderr.write('shoal: the CLI is not built yet; run `npm run build` in the Shoal checkout first.\n');
  process.exit(1);
}
await import(entry.href);
