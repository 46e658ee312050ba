/**
 * The store's one native piece: native/innsikt_fts.c, an FTS5 ranking function
 * (innsikt_bm25) compiled at `npm ci` by scripts/build-native.js into native/build/.
 * Without it (no C compiler at install, or INNSIKT_NATIVE=0) the store ranks with FTS5's
 * built-in bm25() over every match: the same ranking, slower on large indexes.
 */

import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type Database from 'better-sqlite3';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

export function nativeLibraryPath(): string {
  const ext = process.platform === 'darwin' ? 'dylib' : process.platform === 'win32' ? 'dll' : 'so';
  return path.join(ROOT, 'native', 'build', `innsikt_fts.${ext}`);
}

let warned = false;

/** Loads innsikt_bm25 into this connection; false (with one warning per process) when it cannot. */
export function loadNativeScorer(db: Database.Database): boolean {
  if (process.env.INNSIKT_NATIVE === '0') return false;
  const file = nativeLibraryPath();
  if (!fs.existsSync(file)) {
    if (!warned)
      console.error(
        `[innsikt] ${path.relative(process.cwd(), file) || file} is missing (run \`npm run build:native\`): ranking with FTS5's bm25(), slower on large indexes`,
      );
    warned = true;
    return false;
  }
  try {
    db.loadExtension(file); // entry point sqlite3_innsiktfts_init, from the file name
    return true;
  } catch (err) {
    if (!warned) console.error(`[innsikt] could not load ${file}: ${(err as Error).message}; ranking with FTS5's bm25()`);
    warned = true;
    return false;
  }
}
