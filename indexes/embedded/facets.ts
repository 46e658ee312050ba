/**
 * Facet counts for a query on the embedded store: how many matching documents per body
 * (utvalg), year and kind. Counted inside SQL with the same access filter as the search, so a
 * count never reveals a document the caller may not read. Each dimension is counted with the
 * other dimensions' filters applied but not its own, so choosing one body still shows the
 * counts of the others.
 */
import { accessClause } from './access.ts';
import { filterClause, type SqliteStore } from './sqlite-store.ts';
import type { AnalysisOptions } from '../analysis/query.ts';
import type { Principal, SearchFilters } from '../types.ts';

export interface FacetValue {
  value: string;
  count: number;
}

export interface Facets {
  body: FacetValue[];
  year: FacetValue[];
  kind: FacetValue[];
  /** Matching documents with a matching decision (vedtak) chunk. */
  decisions: number;
}

const DIMENSIONS = {
  body: { column: 'd.body', without: (f: SearchFilters): SearchFilters => ({ ...f, body: undefined }) },
  kind: { column: 'd.kind', without: (f: SearchFilters): SearchFilters => ({ ...f, kind: undefined }) },
  year: { column: 'substr(d.date, 1, 4)', without: (f: SearchFilters): SearchFilters => ({ ...f, dateFrom: undefined, dateTo: undefined }) },
} as const;

export function facetCounts(
  store: SqliteStore,
  query: string,
  req: { principal: Principal; filters?: SearchFilters; analysis?: AnalysisOptions },
): Facets {
  // The rows the BM25 leg ranks (with its common-word gate on large indexes).
  const match = store.matchExpression(query, req.analysis);
  const out: Facets = { body: [], year: [], kind: [], decisions: 0 };
  if (!match) return out;
  const acl = accessClause(req.principal);
  for (const [name, dim] of Object.entries(DIMENSIONS) as [keyof typeof DIMENSIONS, (typeof DIMENSIONS)[keyof typeof DIMENSIONS]][]) {
    const f = filterClause(dim.without(req.filters ?? {}));
    const rows = store.db
      .prepare(
        `SELECT ${dim.column} AS value, count(DISTINCT d.id) AS count
         FROM chunks_fts JOIN chunks c ON c.rowid = chunks_fts.rowid JOIN documents d ON d.id = c.document_id
         WHERE chunks_fts MATCH @match AND ${acl.sql} AND ${f.sql} AND ${dim.column} IS NOT NULL
         GROUP BY value ORDER BY ${name === 'year' ? 'value DESC' : 'count DESC, value'}`,
      )
      .all({ match, ...acl.params, ...f.params }) as FacetValue[];
    out[name] = rows;
  }
  const f = filterClause({ ...(req.filters ?? {}), decisionsOnly: true });
  out.decisions = (
    store.db
      .prepare(
        `SELECT count(DISTINCT d.id) AS n FROM chunks_fts JOIN chunks c ON c.rowid = chunks_fts.rowid JOIN documents d ON d.id = c.document_id
         WHERE chunks_fts MATCH @match AND ${acl.sql} AND ${f.sql}`,
      )
      .get({ match, ...acl.params, ...f.params }) as { n: number }
  ).n;
  return out;
}
