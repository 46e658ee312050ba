/**
 * A parsed query (indexes/analysis/query.ts) as an FTS5 MATCH expression over the columns of
 * chunks_fts: title, heading, body hold stems; exact holds the exact forms of all three.
 * Tokens are letters and digits only (the analysis guarantees it), so quoting is enough.
 */
import type { Alternative, ParsedQuery, QueryWord } from '../analysis/query.ts';

const STEM_COLUMNS = '{title heading body}';
/** How close the parts of a decompounded word must stand (in tokens). */
const NEAR_DISTANCE = 10;

function alternative(a: Alternative): string {
  switch (a.kind) {
    case 'exact':
      return `exact : "${a.token}"`;
    case 'stem':
      return `${STEM_COLUMNS} : "${a.token}"`;
    case 'phrase':
      return `exact : "${a.tokens.join(' ')}"`;
    case 'near':
      return `${STEM_COLUMNS} : NEAR(${a.stems.map((s) => `"${s}"`).join(' ')}, ${NEAR_DISTANCE})`;
  }
}

export function wordExpression(w: QueryWord, prefix = false): string {
  const alts = w.alternatives.map(alternative);
  if (prefix && w.exact.length >= 3) alts.push(`exact : "${w.exact}"*`);
  return `(${alts.join(' OR ')})`;
}

export interface FtsOptions {
  /** Which word (by index) counts as a prefix too: the one being typed. */
  prefixWord?: number;
}

export function ftsExpression(q: ParsedQuery, opts: FtsOptions = {}): string | null {
  const should = q.words.map((w, i) => wordExpression(w, i === opts.prefixWord));
  for (const c of q.caseNumbers) should.push(`exact : "${c}"`);
  // Phrase boost: the words in their typed order score again where they stand together.
  if (q.words.length >= 2) should.push(`exact : "${q.words.map((w) => w.exact).join(' ')}"`);
  const must = q.phrases.map((p) => `exact : "${p.join(' ')}"`);
  let expr: string | null = null;
  // Phrases are required, the other words only rank: `must AND (should OR must)` matches
  // exactly what `must` matches, while bm25() still scores the words where they occur.
  if (should.length && must.length) expr = `${must.join(' AND ')} AND (${should.join(' OR ')} OR ${must.join(' AND ')})`;
  else if (must.length) expr = must.join(' AND ');
  else if (should.length) expr = should.join(' OR ');
  if (!expr) return null;
  if (q.excluded.length) expr = `(${expr}) NOT (${q.excluded.map((alts) => alts.map(alternative).join(' OR ')).join(' OR ')})`;
  return expr;
}
