/**
 * A parsed query (indexes/analysis/query.ts) as Elasticsearch's query DSL, over the
 * pre-analysed fields of a chunk index (schema.ts): the same structure the embedded store
 * gives FTS5 (indexes/embedded/fts-query.ts).
 *
 * - Every query word is a bool of its alternatives (exact form, stem, synonyms, decompounded
 *   parts, typo corrections): any may match, the matching ones add up, as FTS5's OR does.
 * - Words and case numbers rank (any may match); the typed words in order rank again as a
 *   phrase where they stand together (the phrase boost); quoted phrases are required and
 *   ranked; excluded words must not occur.
 * - The short-chunk prior multiplies the score; the caller's rights and filters are filters
 *   inside the same query (never applied to the results afterwards).
 */
import type { Alternative, ParsedQuery, QueryWord } from '../analysis/query.ts';
import type { SearchFilters } from '../types.ts';

// The DSL is plain JSON; typed loosely here, checked by the server.
export type Query = Record<string, unknown>;

/** How close the parts of a decompounded word must stand (in tokens): fts-query.ts's NEAR distance. */
const NEAR_DISTANCE = 10;

function alternative(a: Alternative): Query {
  switch (a.kind) {
    case 'exact':
      return { term: { exact: a.token } };
    case 'stem':
      return { term: { stems: a.token } };
    case 'phrase':
      return { match_phrase: { exact: { query: a.tokens.join(' ') } } };
    case 'near':
      return { span_near: { clauses: a.stems.map((s) => ({ span_term: { stems: s } })), slop: NEAR_DISTANCE, in_order: false } };
  }
}

/** One query word: any of its alternatives, and as a prefix while it is being typed. */
export function wordQuery(w: QueryWord, prefix = false): Query {
  const should = w.alternatives.map(alternative);
  if (prefix && w.exact.length >= 3) should.push({ prefix: { exact: { value: w.exact } } });
  return { bool: { should, minimum_should_match: 1 } };
}

/** The scoring part of a query (no filters), or null when nothing is left to search for. */
export function matchQuery(q: ParsedQuery, prefixWord?: number): Query | null {
  const should: Query[] = q.words.map((w, i) => wordQuery(w, i === prefixWord));
  for (const c of q.caseNumbers) should.push({ term: { exact: c } });
  if (q.words.length >= 2) should.push({ match_phrase: { exact: { query: q.words.map((w) => w.exact).join(' ') } } });
  const must: Query[] = q.phrases.map((p) => ({ match_phrase: { exact: { query: p.join(' ') } } }));
  if (!should.length && !must.length) return null;
  const mustNot = q.excluded.map((alts) => ({ bool: { should: alts.map(alternative), minimum_should_match: 1 } }));
  return {
    bool: {
      ...(must.length ? { must } : {}),
      ...(should.length ? { should } : {}),
      // With required phrases the words only rank; without, one of them must match.
      ...(must.length ? {} : { minimum_should_match: 1 }),
      ...(mustNot.length ? { must_not: mustNot } : {}),
    },
  };
}

/** The score with the short-chunk prior, under filters that do not score. */
export function rankedQuery(match: Query, filters: Query[]): Query {
  return {
    bool: {
      must: [{ function_score: { query: match, field_value_factor: { field: 'prior', missing: 1 }, boost_mode: 'multiply' } }],
      filter: filters,
    },
  };
}

/**
 * The user's filters as filter clauses. `on`: the chunk indices (decisions only looks at a
 * chunk's `isDecision`) or the documents index (which has no chunk-level fields).
 */
export function filterClauses(f: SearchFilters | undefined, on: 'chunks' | 'documents' = 'chunks'): Query[] {
  const out: Query[] = [];
  if (!f) return out;
  if (f.kind?.length) out.push({ terms: { kind: f.kind } });
  if (f.body?.length) out.push({ terms: { body: f.body } });
  if (f.dateFrom || f.dateTo) out.push({ range: { date: { ...(f.dateFrom ? { gte: f.dateFrom } : {}), ...(f.dateTo ? { lte: f.dateTo } : {}) } } });
  if (f.documentId) out.push({ term: { [on === 'chunks' ? 'documentId' : 'id']: f.documentId } });
  if (f.decisionsOnly && on === 'chunks') out.push({ term: { isDecision: true } });
  return out;
}
