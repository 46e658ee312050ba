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
import nynorsk from './nynorsk.json' with { type: 'json' };
import { NORWEGIAN_STOPWORDS } from './stopwords.ts';

export { NORWEGIAN_STOPWORDS };

const WORD = /[\p{L}\p{N}]+/gu;
// "45/24", "45 / 2024", "2026/8", "24/1377": two numbers around a slash (see caseNumberTokens).
const CASE_NUMBER = /(?<![\p{L}\p{N}/])(\d{1,5})\s?\/\s?(\d{1,6})(?![\p{N}/])/gu;
/** The same pattern, for callers that remove case numbers from a text. */
export const CASE_NUMBER_RE = CASE_NUMBER;

export function normalize(text: string): string {
  return text.normalize('NFC').toLowerCase();
}

export function isStopword(token: string): boolean {
  return NORWEGIAN_STOPWORDS.has(token);
}

const NN_WORDS = new Map(Object.entries(nynorsk.words as Record<string, string>));
const NN_PREFIXES = Object.entries(nynorsk.prefixes as Record<string, string>).sort((a, b) => b[0].length - a[0].length);
const NN_PREFIX_NEEDS = nynorsk.prefixNeeds as string[];
const NN_SUFFIXES = Object.entries(nynorsk.suffixes as Record<string, string>).sort((a, b) => b[0].length - a[0].length);

/**
 * The bokmål form of a nynorsk word of this genre (nynorsk.json), or the word itself: "valet" ->
 * "valget", "kommunestyrevalet" -> "kommunestyrevalget", "valstyret" -> "valgstyret",
 * "førehandsrøyster" -> "forhåndsstemmer". Stemming goes through it, so both forms share a stem.
 */
export function toBokmal(token: string): string {
  const whole = NN_WORDS.get(token);
  if (whole) return whole;
  let t = token;
  for (const [from, to] of NN_SUFFIXES) {
    if (t.length - from.length >= 3 && t.endsWith(from)) {
      t = t.slice(0, -from.length) + to;
      break;
    }
  }
  for (const [from, to] of NN_PREFIXES) {
    const rest = t.slice(from.length);
    if (rest.length >= 3 && t.startsWith(from) && NN_PREFIX_NEEDS.some((n) => rest.startsWith(n))) {
      t = to + (NN_WORDS.get(rest) ?? toBokmal(rest));
      break;
    }
  }
  return t;
}

const stemCache = new Map<string, string>();
/** Snowball Norwegian stem of one lowercased token, through its bokmål form. Numbers are left alone. */
export function stem(token: string): string {
  if (/^\p{N}+$/u.test(token)) return token;
  let s = stemCache.get(token);
  if (s === undefined) {
    const t = toBokmal(token);
    s = t.length <= 2 ? t : stemmer(t);
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

const isYear = (n: number) => n >= 1950 && n <= 2099;
const fullYear = (yy: number) => (yy > 50 ? 1900 : 2000) + yy;

/**
 * Normalised case-number tokens found in a text. Agenda items are "number/year" ("Sak 45/24",
 * "sak 45/2024", "045/24", "PS 6/26") or year first ("2026/8"): all become `sak45x2024`.
 * Archive case numbers are "year/sequence" with a long sequence ("Arkivsak 24/1377",
 * "2024/1377"): they become `ark2024x1377`, so they never collide with agenda items.
 * Anything else with a slash (fractions, "1/2") yields nothing.
 */
export function caseNumberTokens(text: string): string[] {
  const out: string[] = [];
  for (const m of text.matchAll(CASE_NUMBER)) {
    const [a, b] = [m[1], m[2]];
    const na = parseInt(a, 10);
    const nb = parseInt(b, 10);
    if (b.length === 2 && a.length <= 4 && !(a.length === 4 && isYear(na))) out.push(`sak${na}x${fullYear(nb)}`);
    else if (b.length === 4 && isYear(nb) && a.length <= 4) out.push(`sak${na}x${nb}`);
    else if (a.length === 4 && isYear(na) && b.length <= 3) out.push(`sak${nb}x${na}`);
    else if (a.length === 2 && b.length >= 3) out.push(`ark${fullYear(na)}x${nb}`);
    else if (a.length === 4 && isYear(na) && b.length >= 4) out.push(`ark${na}x${nb}`);
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

// Queries are parsed in ./query.ts (parseQuery), on top of this analysis.
