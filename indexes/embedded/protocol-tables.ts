/**
 * The protocol structure of silver (meetings, agenda items) in the embedded store, for
 * browsing by meeting, case and body, and the protocol context of each chunk (its case, item
 * and whether it is the decision), for "only decisions" and for results that show the outcome.
 *
 * Written in the same transaction as the document (sqlite-store upsertDocument), deleted with
 * it (meetings and agenda_items cascade from documents; chunk_context is removed with chunks).
 * Every read joins documents and applies accessClause() inside its SQL.
 *
 * Glossary: møte = meeting; sak = agenda item / case; utvalg = body; vedtak = decision.
 */
import type Database from 'better-sqlite3';
import type { AgendaItem, Meeting } from '../protocol-types.ts';
import type { AccessLevel, BodyMeeting, CaseStep, Chunk, ItemAtAGlance, MeetingView, Principal, SilverDocument } from '../types.ts';
import { accessClause } from './access.ts';

export const PROTOCOL_SCHEMA = `
CREATE TABLE IF NOT EXISTS chunk_context (
  rowid INTEGER PRIMARY KEY,
  meeting_index INTEGER,
  item_index INTEGER,
  case_id TEXT,
  case_norm TEXT,
  item_title TEXT,
  is_decision INTEGER NOT NULL DEFAULT 0,
  meeting_date TEXT,
  meeting_body TEXT
);
CREATE TABLE IF NOT EXISTS meetings (
  document_id TEXT NOT NULL REFERENCES documents(id) ON DELETE CASCADE,
  idx INTEGER NOT NULL,
  body TEXT,
  date TEXT,
  data TEXT NOT NULL,
  PRIMARY KEY (document_id, idx)
);
CREATE INDEX IF NOT EXISTS meetings_body_date ON meetings(body, date);
CREATE TABLE IF NOT EXISTS agenda_items (
  document_id TEXT NOT NULL REFERENCES documents(id) ON DELETE CASCADE,
  meeting_idx INTEGER NOT NULL,
  idx INTEGER NOT NULL,
  case_id TEXT,
  case_norm TEXT,
  archive_norm TEXT,
  title TEXT,
  outcome TEXT,
  page_start INTEGER,
  data TEXT NOT NULL,
  PRIMARY KEY (document_id, meeting_idx, idx)
);
CREATE INDEX IF NOT EXISTS agenda_items_case ON agenda_items(case_norm);
CREATE INDEX IF NOT EXISTS agenda_items_archive ON agenda_items(archive_norm);
`;

/** Inside the document's write transaction: its meetings and agenda items. */
export function writeProtocol(db: Database.Database, doc: SilverDocument): void {
  if (!doc.meetings?.length) return;
  const insMeeting = db.prepare(`INSERT INTO meetings (document_id, idx, body, date, data) VALUES (?, ?, ?, ?, ?)`);
  const insItem = db.prepare(
    `INSERT INTO agenda_items (document_id, meeting_idx, idx, case_id, case_norm, archive_norm, title, outcome, page_start, data)
     VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
  );
  doc.meetings.forEach((m, mi) => {
    const { agendaItems, ...rest } = m;
    insMeeting.run(doc.id, mi, m.body ?? doc.body, m.date ?? doc.date, JSON.stringify(rest));
    agendaItems.forEach((it, ii) =>
      insItem.run(doc.id, mi, ii, it.caseId, it.caseIdNormalized, it.archiveCaseIdNormalized, it.title, it.outcome, it.pages[0] ?? null, JSON.stringify(it)),
    );
  });
}

/** Inside the document's write transaction: the protocol context of one chunk. */
export function writeChunkContext(db: Database.Database, rowid: bigint, c: Chunk): void {
  if (c.itemIndex == null && c.meetingIndex == null) return;
  db.prepare(
    `INSERT INTO chunk_context (rowid, meeting_index, item_index, case_id, case_norm, item_title, is_decision, meeting_date, meeting_body)
     VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
  ).run(
    rowid,
    c.meetingIndex ?? null,
    c.itemIndex ?? null,
    c.caseId ?? null,
    c.caseIdNormalized ?? null,
    c.itemTitle ?? null,
    c.isDecision ? 1 : 0,
    c.meetingDate ?? null,
    c.meetingBody ?? null,
  );
}

/** Before a document's chunks are deleted. */
export function removeChunkContext(db: Database.Database, documentId: string): void {
  db.prepare(`DELETE FROM chunk_context WHERE rowid IN (SELECT rowid FROM chunks WHERE document_id = ?)`).run(documentId);
}

/** SQL condition on chunk alias `c`: the chunk is (part of) a decision. */
export const DECISION_CHUNK_SQL = `EXISTS (SELECT 1 FROM chunk_context cc WHERE cc.rowid = c.rowid AND cc.is_decision = 1)`;

/** The agenda item each chunk belongs to (for results that show case, outcome and vote). */
export function chunkItems(db: Database.Database, rowids: number[], principal: Principal): Map<number, ItemAtAGlance> {
  const out = new Map<number, ItemAtAGlance>();
  if (!rowids.length) return out;
  const acl = accessClause(principal);
  const rows = db
    .prepare(
      `SELECT cc.rowid AS rowid, cc.case_id, cc.case_norm, cc.item_title, cc.is_decision, cc.meeting_index, ai.outcome, ai.data
       FROM chunk_context cc JOIN chunks c ON c.rowid = cc.rowid JOIN documents d ON d.id = c.document_id
       LEFT JOIN agenda_items ai ON ai.document_id = c.document_id AND ai.meeting_idx = cc.meeting_index AND ai.idx = cc.item_index
       WHERE cc.rowid IN (SELECT value FROM json_each(@ids)) AND ${acl.sql}`,
    )
    .all({ ids: JSON.stringify(rowids), ...acl.params }) as {
    rowid: number;
    case_id: string | null;
    case_norm: string | null;
    item_title: string | null;
    is_decision: number;
    meeting_index: number | null;
    outcome: string | null;
    data: string | null;
  }[];
  for (const r of rows) {
    const item = r.data ? (JSON.parse(r.data) as AgendaItem) : null;
    out.set(r.rowid, {
      caseId: r.case_id,
      caseIdNormalized: r.case_norm,
      itemTitle: r.item_title,
      isDecision: r.is_decision === 1,
      outcome: r.outcome,
      votes: item?.votes ? { for: item.votes.for, against: item.votes.against, unanimous: item.votes.unanimous } : null,
      meetingIndex: r.meeting_index,
    });
  }
  return out;
}

/** One meeting with its agenda, or null when missing or not readable. */
export function getMeeting(db: Database.Database, documentId: string, index: number, principal: Principal): MeetingView | null {
  const acl = accessClause(principal);
  const row = db
    .prepare(
      `SELECT m.data, m.body, m.date, d.title, d.source, d.access FROM meetings m JOIN documents d ON d.id = m.document_id
       WHERE m.document_id = @doc AND m.idx = @idx AND ${acl.sql}`,
    )
    .get({ doc: documentId, idx: index, ...acl.params }) as
    | { data: string; body: string | null; date: string | null; title: string; source: string; access: AccessLevel }
    | undefined;
  if (!row) return null;
  const items = db.prepare(`SELECT data FROM agenda_items WHERE document_id = ? AND meeting_idx = ? ORDER BY idx`).all(documentId, index) as { data: string }[];
  const meeting = { ...JSON.parse(row.data), body: row.body, date: row.date, agendaItems: items.map((i) => JSON.parse(i.data)) } as Meeting;
  return { documentId, index, title: row.title, source: row.source, access: row.access, meeting };
}

/** One case followed across meetings and bodies, oldest first: committee, then BU, then bystyret. */
export function getCase(db: Database.Database, caseNorm: string, principal: Principal): CaseStep[] {
  const acl = accessClause(principal);
  const rows = db
    .prepare(
      `SELECT ai.document_id, ai.meeting_idx, ai.data, m.body, m.date, d.title
       FROM agenda_items ai JOIN meetings m ON m.document_id = ai.document_id AND m.idx = ai.meeting_idx
       JOIN documents d ON d.id = ai.document_id
       WHERE (ai.case_norm = @c OR ai.archive_norm = @c) AND ${acl.sql}
       ORDER BY m.date NULLS LAST, d.id, ai.idx`,
    )
    .all({ c: caseNorm, ...acl.params }) as {
    document_id: string;
    meeting_idx: number;
    data: string;
    body: string | null;
    date: string | null;
    title: string;
  }[];
  return rows.map((r) => ({ documentId: r.document_id, meetingIndex: r.meeting_idx, title: r.title, body: r.body, date: r.date, item: JSON.parse(r.data) }));
}

/** A body's meetings, newest first. */
export function meetingsOfBody(db: Database.Database, body: string, principal: Principal): BodyMeeting[] {
  const acl = accessClause(principal);
  return db
    .prepare(
      `SELECT m.document_id AS documentId, m.idx AS "index", m.date, d.title,
              (SELECT count(*) FROM agenda_items ai WHERE ai.document_id = m.document_id AND ai.meeting_idx = m.idx) AS items,
              (SELECT count(*) FROM agenda_items ai WHERE ai.document_id = m.document_id AND ai.meeting_idx = m.idx AND ai.outcome IS NOT NULL) AS decisions
       FROM meetings m JOIN documents d ON d.id = m.document_id
       WHERE m.body = @body AND ${acl.sql}
       ORDER BY m.date DESC NULLS LAST, d.id`,
    )
    .all({ body, ...acl.params }) as BodyMeeting[];
}

/** Bodies with meetings this principal may read, with their number of meetings. */
export function bodies(db: Database.Database, principal: Principal): { body: string; meetings: number }[] {
  const acl = accessClause(principal);
  return db
    .prepare(
      `SELECT m.body AS body, count(*) AS meetings FROM meetings m JOIN documents d ON d.id = m.document_id
       WHERE m.body IS NOT NULL AND ${acl.sql} GROUP BY m.body ORDER BY meetings DESC, m.body`,
    )
    .all(acl.params) as { body: string; meetings: number }[];
}
