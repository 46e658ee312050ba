/**
 * Facet counts for a query on the embedded store: how many matching documents per body
 * (utvalg), issuing organisation, year and kind. Counted inside SQL with the same access filter as the search, so a
 * count never reveals a document the caller may not read. Each dimension is counted with the
 * other dimensions' filters applied but not its own, so choosing one body still shows the
 * counts of the others.
 */

import type { ParsedQuery } from '../analysis/query.ts';
import type { Facets, FacetValue, Principal, SearchFilters } from '../types.ts';
import { accessClause } from './access.ts';
import { DECISION_CHUNK_SQL } from './protocol-tables.ts';
import { filterClause, type SqliteStore } from './sqlite-store.ts';

const DIMENSIONS = {
  body: { column: 'd.body', without: (f: SearchFilters): SearchFilters => ({ ...f, body: undefined }) },
  organisation: { column: 'd.organisation', without: (f: SearchFilters): SearchFilters => ({ ...f, organisation: undefined }) },
  kind: { column: 'd.kind', without: (f: SearchFilters): SearchFilters => ({ ...f, kind: undefined }) },
  year: { column: 'substr(d.date, 1, 4)', without: (f: SearchFilters): SearchFilters => ({ ...f, dateFrom: undefined, dateTo: undefined }) },
} as const;

/**
 * One pass over the matches: the matching documents this caller may read, each with whether a
 * matching chunk is a decision (MATERIALIZED: computed once, then counted four ways). Every
 * filter but "decisions only" is a property of the document; that one holds for a document
 * when one of its matching chunks is a decision, so it becomes `m.dec = 1` here.
 */
function docFilter(filters: SearchFilters): { sql: string; params: Record<string, unknown> } {
  const f = filterClause({ ...filters, decisionsOnly: false });
  return { sql: filters.decisionsOnly ? `${f.sql} AND m.dec = 1` : f.sql, params: f.params };
}

export function facetCounts(store: SqliteStore, query: ParsedQuery, req: { principal: Principal; filters?: SearchFilters }): Facets {
  // The rows the BM25 leg ranks.
  const match = store.matchExpression(query);
  const out: Facets = { body: [], organisation: [], year: [], kind: [], decisions: 0 };
  if (!match) return out;
  const acl = accessClause(req.principal);
  const filters = req.filters ?? {};
  const params: Record<string, unknown> = { match, ...acl.params };
  const parts: string[] = [];
  for (const [name, dim] of Object.entries(DIMENSIONS) as [keyof typeof DIMENSIONS, (typeof DIMENSIONS)[keyof typeof DIMENSIONS]][]) {
    const f = docFilter(dim.without(filters));
    Object.assign(params, f.params);
    parts.push(
      `SELECT '${name}' AS dim, ${dim.column} AS value, count(*) AS count FROM m JOIN documents d ON d.rowid = m.doc
       WHERE ${f.sql} AND ${dim.column} IS NOT NULL GROUP BY value`,
    );
  }
  const all = docFilter({ ...filters, decisionsOnly: true });
  Object.assign(params, all.params);
  parts.push(`SELECT 'decisions' AS dim, NULL AS value, count(*) AS count FROM m JOIN documents d ON d.rowid = m.doc WHERE ${all.sql}`);
  // Every match is mapped to its document through the narrow index (SQLite would read the
  // chunk rows, text and all), grouped, and only then checked against the caller's access:
  // one documents lookup per document instead of per chunk.
  const rows = store.db
    .prepare(
      `WITH m AS MATERIALIZED (
         SELECT d.rowid AS doc, g.dec FROM (
           SELECT c.document_id AS id, max(CASE WHEN ${DECISION_CHUNK_SQL} THEN 1 ELSE 0 END) AS dec
           FROM chunks_fts JOIN chunks c ${store.bm25Leg.narrow()} ON c.rowid = chunks_fts.rowid
           WHERE chunks_fts MATCH @match
           GROUP BY c.document_id
         ) g JOIN documents d ON d.id = g.id
         WHERE ${acl.sql}
       )
       ${parts.join('\n       UNION ALL ')}`,
    )
    .all(params) as { dim: keyof typeof DIMENSIONS | 'decisions'; value: string | null; count: number }[];
  for (const r of rows) {
    if (r.dim === 'decisions') out.decisions = r.count;
    else out[r.dim].push({ value: r.value!, count: r.count });
  }
  const byValue = (a: FacetValue, b: FacetValue) => (a.value < b.value ? -1 : a.value > b.value ? 1 : 0);
  out.body.sort((a, b) => b.count - a.count || byValue(a, b));
  out.organisation.sort((a, b) => b.count - a.count || byValue(a, b));
  out.kind.sort((a, b) => b.count - a.count || byValue(a, b));
  out.year.sort((a, b) => byValue(b, a));
  return out;
}
