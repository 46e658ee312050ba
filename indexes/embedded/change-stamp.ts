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
 *
 * With `revoke`, the same triggers write which documents it was about to `revoke_log`, and
 * whether readers may have changed (an access or groups change): a cache can then drop just
 * the entries that show those documents (revokedSince()). The writer keeps the newest
 * REVOKE_LOG_KEEP entries; a reader that fell further behind sees `complete: false`.
 */
import type Database from 'better-sqlite3';

export interface ChangeStamp {
  add: number;
  revoke: number;
}

const bump = (kind: 'add' | 'revoke') => `UPDATE change_stamp SET n = n + 1 WHERE kind = '${kind}'`;
const log = (doc: string, readers: string) => `INSERT INTO revoke_log (document_id, readers) VALUES (${doc}, ${readers})`;

export const CHANGE_STAMP_SCHEMA = `
CREATE TABLE IF NOT EXISTS change_stamp (kind TEXT PRIMARY KEY, n INTEGER NOT NULL) WITHOUT ROWID;
INSERT OR IGNORE INTO change_stamp (kind, n) VALUES ('add', 0), ('revoke', 0);
CREATE TABLE IF NOT EXISTS revoke_log (seq INTEGER PRIMARY KEY AUTOINCREMENT, document_id TEXT NOT NULL, readers INTEGER NOT NULL);
-- Replaced on every open: files from before the revocation log have these triggers without it.
DROP TRIGGER IF EXISTS change_stamp_chunk_delete;
DROP TRIGGER IF EXISTS change_stamp_chunk_update;
DROP TRIGGER IF EXISTS change_stamp_document_delete;
DROP TRIGGER IF EXISTS change_stamp_document_update;
CREATE TRIGGER IF NOT EXISTS change_stamp_chunk_insert AFTER INSERT ON chunks BEGIN ${bump('add')}; END;
CREATE TRIGGER IF NOT EXISTS change_stamp_chunk_delete AFTER DELETE ON chunks BEGIN ${bump('revoke')}; ${log('old.document_id', '0')}; END;
CREATE TRIGGER IF NOT EXISTS change_stamp_chunk_update AFTER UPDATE ON chunks BEGIN ${bump('revoke')}; ${log('old.document_id', '0')}; ${log('new.document_id', '0')}; END;
CREATE TRIGGER IF NOT EXISTS change_stamp_document_delete AFTER DELETE ON documents BEGIN ${bump('revoke')}; ${log('old.id', '0')}; END;
CREATE TRIGGER IF NOT EXISTS change_stamp_document_update AFTER UPDATE ON documents BEGIN ${bump('revoke')};
  ${log('old.id', '(old.access IS NOT new.access OR old.groups IS NOT new.groups OR old.id IS NOT new.id)')}; END;
`;

/** Revocation log entries the writer keeps (older ones are pruned by SqliteStore's writes). */
export const REVOKE_LOG_KEEP = 20_000;

const statements = new WeakMap<Database.Database, Database.Statement>();

/**
 * The current counters, or null when the database has no change_stamp table (an older file
 * opened read-only): then nothing can tell a cache about changes, and it must not be used.
 */
export function changeStamp(db: Database.Database): ChangeStamp | null {
  let stmt = statements.get(db);
  if (!stmt) {
    try {
      stmt = db.prepare(`SELECT (SELECT n FROM change_stamp WHERE kind = 'add') AS "add", (SELECT n FROM change_stamp WHERE kind = 'revoke') AS revoke`);
    } catch {
      return null;
    }
    statements.set(db, stmt);
  }
  const r = stmt.get() as { add: number | null; revoke: number | null };
  if (r.add === null || r.revoke === null) return null;
  return { add: r.add, revoke: r.revoke };
}

export interface Revocations {
  /** The log position read up to (pass it as `since` next time). */
  to: number;
  /** False when entries after `since` were pruned, or there were too many to list. */
  complete: boolean;
  /** Some document's access or groups changed: who may read what changed. */
  readers: boolean;
  /** Documents deleted, replaced or changed. */
  documents: Set<string>;
}

/** At most this many log entries are read per call; more means `complete: false`. */
const REVOCATIONS_MAX = 5_000;

/**
 * What was revoked after log position `since` (-1: from now on, nothing listed). Null when the
 * database has no revoke_log (an older file opened read-only).
 */
export function revokedSince(db: Database.Database, since: number): Revocations | null {
  let head: number;
  try {
    head = (db.prepare(`SELECT coalesce(max(seq), 0) FROM revoke_log`).pluck().get() as number) ?? 0;
  } catch {
    return null;
  }
  if (since < 0 || since >= head) return { to: head, complete: since >= 0, readers: false, documents: new Set() };
  const oldest = db.prepare(`SELECT coalesce(min(seq), 0) FROM revoke_log`).pluck().get() as number;
  const rows = db.prepare(`SELECT document_id AS doc, readers FROM revoke_log WHERE seq > ? AND seq <= ? LIMIT ${REVOCATIONS_MAX + 1}`).all(since, head) as {
    doc: string;
    readers: number;
  }[];
  return {
    to: head,
    complete: oldest <= since + 1 && rows.length <= REVOCATIONS_MAX,
    readers: rows.some((r) => r.readers),
    documents: new Set(rows.map((r) => r.doc)),
  };
}
