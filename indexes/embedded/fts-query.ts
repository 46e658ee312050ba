/**
 * A parsed query (indexes/analysis/query.ts) as an FTS5 MATCH expression over the columns of
 * chunks_fts: title, heading, body hold stems; exact holds the exact forms of all three.
 * Tokens are letters and digits only (the analysis guarantees it), so quoting is enough.
 *
 * Every expression comes with its phrases in the order FTS5 numbers them (left to right, each
 * quoted string inside NEAR() its own phrase), each written as a query of its own: the store
 * counts the rows that hold a phrase (its document frequency) for innsikt_bm25's IDFs and for
 * telling common words from rare ones.
 */
import type { Alternative, ParsedQuery, QueryWord } from '../analysis/query.ts';

const STEM_COLUMNS = '{title heading body}';
/** How close the parts of a decompounded word must stand (in tokens). */
const NEAR_DISTANCE = 10;

/** An expression and its phrases, in FTS5's phrase order. */
export interface FtsExpr {
  expr: string;
  phrases: string[];
}

function leaf(expr: string): FtsExpr {
  return { expr, phrases: [expr] };
}

/** Joins expressions with an operator, keeping the phrase order. */
export function join(parts: FtsExpr[], op: 'OR' | 'AND', wrap = false): FtsExpr {
  const expr = parts.map((p) => p.expr).join(` ${op} `);
  return { expr: wrap ? `(${expr})` : expr, phrases: parts.flatMap((p) => p.phrases) };
}

function alternative(a: Alternative): FtsExpr {
  switch (a.kind) {
    case 'exact':
      return leaf(`exact : "${a.token}"`);
    case 'stem':
      return leaf(`${STEM_COLUMNS} : "${a.token}"`);
    case 'phrase':
      return leaf(`exact : "${a.tokens.join(' ')}"`);
    case 'near':
      return {
        expr: `${STEM_COLUMNS} : NEAR(${a.stems.map((s) => `"${s}"`).join(' ')}, ${NEAR_DISTANCE})`,
        phrases: a.stems.map((s) => `${STEM_COLUMNS} : "${s}"`),
      };
  }
}

/** One query word: any of its alternatives (stem, exact form, synonyms, typo corrections ...). */
export function wordExpr(w: QueryWord, prefix = false): FtsExpr {
  const alts = w.alternatives.map(alternative);
  if (prefix && w.exact.length >= 3) alts.push(leaf(`exact : "${w.exact}"*`));
  return join(alts, 'OR', true);
}

export function wordExpression(w: QueryWord, prefix = false): string {
  return wordExpr(w, prefix).expr;
}

export interface FtsOptions {
  /** Which word (by index) counts as a prefix too: the one being typed. */
  prefixWord?: number;
}

/** The parts of a query's expression, for the store's planner (sqlite-store.ts). */
export interface FtsParts {
  /** One per query word, in query order. */
  words: FtsExpr[];
  /** Case numbers, each one token in the exact column. */
  caseNumbers: FtsExpr[];
  /** The phrase boost: the typed words together, in order (null for one word). */
  boost: FtsExpr | null;
  /** Quoted phrases: required. */
  must: FtsExpr[];
  /** Excluded words: `NOT (...)`. */
  excluded: FtsExpr | null;
}

export function ftsParts(q: ParsedQuery, opts: FtsOptions = {}): FtsParts {
  return {
    words: q.words.map((w, i) => wordExpr(w, i === opts.prefixWord)),
    caseNumbers: q.caseNumbers.map((c) => leaf(`exact : "${c}"`)),
    boost: q.words.length >= 2 ? leaf(`exact : "${q.words.map((w) => w.exact).join(' ')}"`) : null,
    must: q.phrases.map((p) => leaf(`exact : "${p.join(' ')}"`)),
    excluded: q.excluded.length
      ? join(
          q.excluded.map((alts) => join(alts.map(alternative), 'OR')),
          'OR',
        )
      : null,
  };
}

/**
 * The whole query: its words and case numbers rank (any may match), quoted phrases are
 * required, excluded words must not occur.
 */
export function ftsPlanned(parts: FtsParts): FtsExpr | null {
  const should = [...parts.words, ...parts.caseNumbers];
  // Phrase boost: the words in their typed order score again where they stand together.
  if (parts.boost) should.push(parts.boost);
  let e: FtsExpr | null = null;
  // Phrases are required, the other words only rank: `must AND (should OR must)` matches
  // exactly what `must` matches, while bm25() still scores the words where they occur.
  if (should.length && parts.must.length) e = join([join(parts.must, 'AND'), join([...should, join(parts.must, 'AND')], 'OR', true)], 'AND');
  else if (parts.must.length) e = join(parts.must, 'AND');
  else if (should.length) e = join(should, 'OR');
  if (!e) return null;
  if (parts.excluded) e = { expr: `(${e.expr}) NOT (${parts.excluded.expr})`, phrases: [...e.phrases, ...parts.excluded.phrases] };
  return e;
}

export function ftsExpression(q: ParsedQuery, opts: FtsOptions = {}): string | null {
  return ftsPlanned(ftsParts(q, opts))?.expr ?? null;
}
