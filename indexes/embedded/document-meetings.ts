/**
 * The meetings of one protocol document (for the document page's "Møte: …" links), read with
 * the caller's access applied inside the SQL like every other read of the embedded store.
 */
import type Database from 'better-sqlite3';
import type { DocumentMeeting, Principal } from '../types.ts';
import { accessClause } from './access.ts';

/** The document's meetings in document order; empty when it has none or is not readable. */
export function meetingsOfDocument(db: Database.Database, documentId: string, principal: Principal): DocumentMeeting[] {
  const acl = accessClause(principal);
  return db
    .prepare(
      `SELECT m.idx AS "index", m.body AS body, m.date AS date,
              (SELECT count(*) FROM agenda_items ai WHERE ai.document_id = m.document_id AND ai.meeting_idx = m.idx) AS items
       FROM meetings m JOIN documents d ON d.id = m.document_id
       WHERE m.document_id = @doc AND ${acl.sql}
       ORDER BY m.idx`,
    )
    .all({ doc: documentId, ...acl.params }) as DocumentMeeting[];
}
