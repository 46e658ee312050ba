#!/usr/bin/env node
// Compiles native/innsikt_fts.c (an FTS5 ranking function, see indexes/embedded/native.ts)
// against the SQLite headers better-sqlite3 ships. Runs at `npm ci` / `npm install`
// (postinstall) and as `npm run build:native`. A missing compiler is not fatal: the store
// then ranks with FTS5's built-in bm25() (same ranking, slower at scale) and says so.
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const src = path.join(root, 'native', 'innsikt_fts.c');
const ext = process.platform === 'darwin' ? 'dylib' : process.platform === 'win32' ? 'dll' : 'so';
const out = path.join(root, 'native', 'build', `innsikt_fts.${ext}`);
const strict = process.argv.includes('--strict');

function fail(msg) {
  console.error(`[build-native] ${msg}`);
  console.error("[build-native] the store will rank with FTS5's bm25() instead (slower on large indexes)");
  process.exit(strict ? 1 : 0);
}

let include;
try {
  const require = createRequire(import.meta.url);
  include = path.join(path.dirname(require.resolve('better-sqlite3/package.json')), 'deps', 'sqlite3');
} catch {
  fail('better-sqlite3 is not installed yet');
}
if (!fs.existsSync(path.join(include, 'sqlite3ext.h'))) fail(`no sqlite3ext.h in ${include}`);
if (process.platform === 'win32') fail('building on Windows is not set up');
fs.mkdirSync(path.dirname(out), { recursive: true });
const cc = process.env.CC || 'cc';
const args = ['-O2', '-fPIC', '-shared', '-I', include, src, '-o', out, '-lm'];
if (process.platform === 'darwin') args.splice(2, 1, '-dynamiclib', '-undefined', 'dynamic_lookup');
try {
  execFileSync(cc, args, { stdio: 'inherit' });
  console.log(`[build-native] built ${path.relative(root, out)}`);
} catch (err) {
  fail(`${cc} failed: ${err.message}`);
}
