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
import { EXACT_SCALE } from './schema.ts';

// The DSL is plain JSON; typed loosely here, checked by the server.
export type Query = Record<string, unknown>;

/** How close the parts of a decompounded word must stand (in tokens): fts-query.ts's NEAR distance. */
const NEAR_DISTANCE = 10;

/**
 * A scored leaf of a query: one token or a phrase of tokens in one field. FTS5 calls these
 * phrases and gives each an IDF of its own; IdfBoost lets the store give Lucene's clause the
 * same weight (store.ts, idfBoosts).
 */
export interface Leaf {
  field: 'exact' | 'stems';
  tokens: string[];
  /**
   * A part of a decompounded word: it counts only where all of `near` stand within
   * NEAR_DISTANCE of each other (FTS5 counts only a NEAR group's instances inside the window).
   */
  near?: string[];
}

export const leafKey = (l: Leaf) => `${l.field}:${l.tokens.join(' ')}${l.near ? `~${l.near.join(' ')}` : ''}`;

/** The other parts of a NEAR part's group: the group less the part's word once (a word twice is its own other). */
function nearOthers(l: Leaf): string[] {
  const near = l.near ?? [];
  const i = near.indexOf(l.tokens[0]);
  return near.filter((_, j) => j !== i);
}

/**
 * A NEAR part's instances that FTS5 counts, as a span query. FTS5 keeps every instance of a
 * NEAR phrase that takes part in some match of the group: "scannet med feil brett (2fals
 * brettet som 1fals)" gives brett 2, both within reach of feil. A span_within over the group's
 * span_near counts fewer: Lucene's span_near gives one span per step of its leading part, not
 * one per match, and the second brett falls outside it (brett 1). For two parts (all that
 * decompounding makes, analysis/query.ts) FTS5's instances are those with the other part at
 * most NEAR_DISTANCE tokens between: every instance, less those without the other part that
 * close (the inner span_not: NEAR_DISTANCE + 1 positions either side). Lucene scores a
 * span_not with its include's statistics, the part's own IDF (luceneIdfWords). With more parts
 * one window must hold them all, which pairs cannot say: there the part inside the group's
 * span_near, counting as above.
 */
function nearInstances(l: Leaf, boost: number): Query {
  const b = boost === 1 ? {} : { boost };
  const term = (t: string) => ({ span_term: { [l.field]: t } });
  const others = nearOthers(l);
  if (others.length !== 1) {
    const big = { span_near: { clauses: (l.near ?? []).map(term), slop: NEAR_DISTANCE, in_order: false } };
    return { span_within: { little: term(l.tokens[0]), big, ...b } };
  }
  const reach = NEAR_DISTANCE + 1;
  const alone = { span_not: { include: term(l.tokens[0]), exclude: term(others[0]), pre: reach, post: reach } };
  return { span_not: { include: term(l.tokens[0]), exclude: alone, ...b } };
}

/**
 * The words whose IDFs Lucene sums for a leaf's clause, which the store's IDF boost divides by:
 * a term's own, a phrase's words, a NEAR part's own (span_not: its include's statistics), or
 * for a group of more than two parts its words (span_within: its big and little queries').
 */
export function luceneIdfWords(l: Leaf): string[] {
  return l.near && nearOthers(l).length !== 1 ? [...new Set(l.near)] : l.tokens;
}

/** The boost of a leaf's clause (1 when not given). */
export type IdfBoost = (leaf: Leaf) => number;

export function leafQuery(l: Leaf, boost?: IdfBoost): Query {
  const b = (boost ? boost(l) : 1) * (l.field === 'exact' ? EXACT_SCALE : 1);
  if (l.near) return nearInstances(l, b);
  if (l.tokens.length === 1) return { term: { [l.field]: b === 1 ? l.tokens[0] : { value: l.tokens[0], boost: b } } };
  return { match_phrase: { [l.field]: { query: l.tokens.join(' '), ...(b === 1 ? {} : { boost: b }) } } };
}

function alternativeLeaves(a: Alternative): Leaf[] {
  switch (a.kind) {
    case 'exact':
      return [{ field: 'exact', tokens: [a.token] }];
    case 'stem':
      return [{ field: 'stems', tokens: [a.token] }];
    case 'phrase':
      return [{ field: 'exact', tokens: a.tokens }];
    case 'near':
      return a.stems.map((s) => ({ field: 'stems' as const, tokens: [s], near: a.stems }));
  }
}

function alternative(a: Alternative, boost?: IdfBoost): Query {
  if (a.kind !== 'near') return leafQuery(alternativeLeaves(a)[0], boost);
  // FTS5 scores each part of a NEAR group as a word of its own, counting its instances inside
  // the window: one span query per part, which matches only where the whole group does.
  return { bool: { should: alternativeLeaves(a).map((l) => leafQuery(l, boost)), minimum_should_match: 1 } };
}

/** One query word: any of its alternatives, and as a prefix while it is being typed. */
export function wordQuery(w: QueryWord, prefix = false, boost?: IdfBoost): Query {
  const should = w.alternatives.map((a) => alternative(a, boost));
  if (prefix && w.exact.length >= 3) should.push({ prefix: { exact: { value: w.exact } } });
  return { bool: { should, minimum_should_match: 1 } };
}

/** The phrase boost: the typed words in order (null for one word). */
function boostPhrase(q: ParsedQuery): Leaf | null {
  return q.words.length >= 2 ? { field: 'exact', tokens: q.words.map((w) => w.exact) } : null;
}

/** Every scored leaf of a query (for their document frequencies), without duplicates. */
export function leavesOf(q: ParsedQuery): Leaf[] {
  const all: Leaf[] = [];
  for (const w of q.words) for (const a of w.alternatives) all.push(...alternativeLeaves(a));
  for (const c of q.caseNumbers) all.push({ field: 'exact', tokens: [c] });
  const b = boostPhrase(q);
  if (b) all.push(b);
  for (const p of q.phrases) all.push({ field: 'exact', tokens: p });
  const seen = new Set<string>();
  return all.filter((l) => !seen.has(leafKey(l)) && !!seen.add(leafKey(l)));
}

/** The scoring part of a query (no filters), or null when nothing is left to search for. */
export function matchQuery(q: ParsedQuery, prefixWord?: number, boost?: IdfBoost): Query | null {
  const should: Query[] = q.words.map((w, i) => wordQuery(w, i === prefixWord, boost));
  for (const c of q.caseNumbers) should.push(leafQuery({ field: 'exact', tokens: [c] }, boost));
  const bp = boostPhrase(q);
  if (bp) should.push(leafQuery(bp, boost));
  const must: Query[] = q.phrases.map((p) => leafQuery({ field: 'exact', tokens: p }, boost));
  if (!should.length && !must.length) return null;
  const mustNot = q.excluded.map((alts) => ({ bool: { should: alts.map((a) => alternative(a)), minimum_should_match: 1 } }));
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
  if (f.organisation?.length) out.push({ terms: { organisation: f.organisation } });
  if (f.dateFrom || f.dateTo) out.push({ range: { date: { ...(f.dateFrom ? { gte: f.dateFrom } : {}), ...(f.dateTo ? { lte: f.dateTo } : {}) } } });
  if (f.documentId) out.push({ term: { [on === 'chunks' ? 'documentId' : 'id']: f.documentId } });
  if (f.decisionsOnly && on === 'chunks') out.push({ term: { isDecision: true } });
  return out;
}
