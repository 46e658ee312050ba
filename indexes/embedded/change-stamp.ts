/**
 * Change counters for caches over the embedded store (server/result-cache.ts). Triggers in the
 * database bump them in the same transaction as the change, so every connection and every
 * process writing the file (the server, `innsikt ingest`, `innsikt delete`) moves them:
 *
 * - `revoke`: a row that may have been visible is gone or changed (a chunk or document
 *   deleted, a document or chunk updated: access, groups, or anything else). A re-ingest
 *   deletes the document's old chunks first, so it moves `revoke` too.
 * - `add`: a chunk was inserted (a new document, or the new chunks of a re-ingested one).
 *
 * Reading both is one SELECT on a two-row table (its primary key).
 */
import type Database from 'better-sqlite3';

export interface ChangeStamp {
  add: number;
  revoke: number;
}

const bump = (kind: 'add' | 'revoke') => `UPDATE change_stamp SET n = n + 1 WHERE kind = '${kind}'`;

export const CHANGE_STAMP_SCHEMA = `
CREATE TABLE IF NOT EXISTS change_stamp (kind TEXT PRIMARY KEY, n INTEGER NOT NULL) WITHOUT ROWID;
INSERT OR IGNORE INTO change_stamp (kind, n) VALUES ('add', 0), ('revoke', 0);
CREATE TRIGGER IF NOT EXISTS change_stamp_chunk_insert AFTER INSERT ON chunks BEGIN ${bump('add')}; END;
CREATE TRIGGER IF NOT EXISTS change_stamp_chunk_delete AFTER DELETE ON chunks BEGIN ${bump('revoke')}; END;
CREATE TRIGGER IF NOT EXISTS change_stamp_chunk_update AFTER UPDATE ON chunks BEGIN ${bump('revoke')}; END;
CREATE TRIGGER IF NOT EXISTS change_stamp_document_delete AFTER DELETE ON documents BEGIN ${bump('revoke')}; END;
CREATE TRIGGER IF NOT EXISTS change_stamp_document_update AFTER UPDATE ON documents BEGIN ${bump('revoke')}; END;
`;

const statements = new WeakMap<Database.Database, Database.Statement>();

/**
 * The current counters, or null when the database has no change_stamp table (an older file
 * opened read-only): then nothing can tell a cache about changes, and it must not be used.
 */
export function changeStamp(db: Database.Database): ChangeStamp | null {
  let stmt = statements.get(db);
  if (!stmt) {
    try {
      stmt = db.prepare(
        `SELECT (SELECT n FROM change_stamp WHERE kind = 'add') AS "add", (SELECT n FROM change_stamp WHERE kind = 'revoke') AS revoke`,
      );
    } catch {
      return null;
    }
    statements.set(db, stmt);
  }
  const r = stmt.get() as { add: number | null; revoke: number | null };
  if (r.add === null || r.revoke === null) return null;
  return { add: r.add, revoke: r.revoke };
}
