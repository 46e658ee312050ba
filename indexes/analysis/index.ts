/**
 * The one Norwegian text analysis of Innsiktsbanken, used at index time and at query time
 * (and for snippet highlighting and the local embedder), so that what is indexed and what is
 * searched are always cut the same way.
 *
 * Pipeline: NFC -> lowercase -> word tokens (letters and digits; æ, ø, å kept distinct) ->
 * stopwords out -> Snowball Norwegian stem. Alongside the stems we keep the exact lowercased
 * forms (eInnsyn's keyword_repeat idea), so an exact match can rank above a stem match.
 *
 * Case numbers (saksnummer) such as "Sak 45/24", "45/2024" or "045/24" also yield one
 * normalised token `sak45x2024`, so every spelling finds the same agenda item.
 */
import { stemmer } from '@orama/stemmers/norwegian';
import { NORWEGIAN_STOPWORDS } from './stopwords.ts';

export { NORWEGIAN_STOPWORDS };

const WORD = /[\p{L}\p{N}]+/gu;
// "45/24", "45 / 2024", "PS 6/26". Year part 2 or 4 digits; number up to 5 digits.
const CASE_NUMBER = /(?<![\p{L}\p{N}/])(\d{1,5})\s?\/\s?(\d{4}|\d{2})(?![\p{N}/])/gu;

export function normalize(text: string): string {
  return text.normalize('NFC').toLowerCase();
}

export function isStopword(token: string): boolean {
  return NORWEGIAN_STOPWORDS.has(token);
}

const stemCache = new Map<string, string>();
/** Snowball Norwegian stem of one lowercased token. Numbers are left alone. */
export function stem(token: string): string {
  if (/^\p{N}+$/u.test(token)) return token;
  let s = stemCache.get(token);
  if (s === undefined) {
    s = token.length <= 2 ? token : stemmer(token);
    if (stemCache.size > 200_000) stemCache.clear();
    stemCache.set(token, s);
  }
  return s;
}

/** Lowercased word tokens of a text, in order (stopwords included). */
export function tokenize(text: string): string[] {
  return normalize(text).match(WORD) ?? [];
}

export interface TokenSpan {
  token: string; // lowercased form
  start: number; // offsets into the ORIGINAL text
  end: number;
}

/** Word tokens with their offsets in the original text (for highlighting). */
export function tokenizeWithOffsets(text: string): TokenSpan[] {
  const spans: TokenSpan[] = [];
  for (const m of text.matchAll(WORD)) {
    spans.push({ token: normalize(m[0]), start: m.index!, end: m.index! + m[0].length });
  }
  return spans;
}

/** Normalised case-number tokens found in a text: "Sak 45/24" -> "sak45x2024". */
export function caseNumberTokens(text: string): string[] {
  const out: string[] = [];
  for (const m of text.matchAll(CASE_NUMBER)) {
    const num = String(parseInt(m[1], 10));
    let year = m[2];
    if (year.length === 2) year = (parseInt(year, 10) > 50 ? '19' : '20') + year;
    out.push(`sak${num}x${year}`);
  }
  return out;
}

export interface AnalyzedText {
  /** Stems of the non-stopword tokens, plus normalised case numbers. */
  stems: string[];
  /** Exact lowercased non-stopword tokens, plus normalised case numbers. */
  exact: string[];
}

/** Analysis for indexing a field. */
export function analyze(text: string): AnalyzedText {
  const stems: string[] = [];
  const exact: string[] = [];
  for (const t of tokenize(text)) {
    if (isStopword(t)) continue;
    exact.push(t);
    stems.push(stem(t));
  }
  const cases = caseNumberTokens(text);
  return { stems: stems.concat(cases), exact: exact.concat(cases) };
}

export interface QueryTerm {
  exact: string;
  stem: string;
}

export interface AnalyzedQuery {
  terms: QueryTerm[];
  /** Normalised case numbers named in the query. */
  caseNumbers: string[];
}

/**
 * Analysis of a user's query. Stopwords are dropped unless the query is nothing but
 * stopwords (then we search for them rather than for nothing). Duplicates are removed.
 */
export function analyzeQuery(query: string): AnalyzedQuery {
  // A case number is searched as its normalised token; its bare numbers ("45", "24") would
  // only match every other case and date, so they are not terms of their own.
  const tokens = tokenize(query.replace(CASE_NUMBER, ' '));
  const content = tokens.filter((t) => !isStopword(t));
  const chosen = content.length > 0 ? content : tokens;
  const cases = [...new Set(caseNumberTokens(query))];
  const seen = new Set<string>();
  const terms: QueryTerm[] = [];
  for (const t of chosen) {
    if (seen.has(t)) continue;
    seen.add(t);
    terms.push({ exact: t, stem: stem(t) });
  }
  return { terms, caseNumbers: cases };
}

/** The set of stems a query looks for, used to mark hits in snippets. */
export function queryStems(query: string): Set<string> {
  const q = analyzeQuery(query);
  return new Set(q.terms.map((t) => t.stem));
}
