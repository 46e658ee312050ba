/**
 * What a user's query means, independent of the backend: words (each with the forms that may
 * match it), quoted phrases, excluded words, case numbers. The embedded store turns this into
 * an FTS5 expression (indexes/embedded/fts-query.ts); Elasticsearch will turn it into a bool
 * query. Built on the one analysis in ./index.ts.
 *
 * Syntax: `"exact phrase"` must occur; `-word` or `-"phrase"` must not; everything else is
 * ranked by BM25 (any word may match; more and rarer matches rank higher).
 *
 * Expansions of a word, each switchable for evaluation (`npm run eval` measures them):
 * - stem: the Snowball stem beside the exact form;
 * - synonyms: abbreviations both ways and word variants (bokmål/nynorsk) from synonyms.json;
 * - decompound: a compound the index does not hold whole is also looked for as its parts,
 *   near each other ("valgstyremøte" -> "valgstyre" NEAR "møte");
 * - typos: a long word the index does not hold also matches indexed words one edit away
 *   (two for 10+ letters).
 */

import { CASE_NUMBER_RE, caseNumberTokens, isStopword, normalize, stem, tokenize } from './index.ts';
import { isQuestionWord } from './question-words.ts';
import synonymData from './synonyms.json' with { type: 'json' };

export interface AnalysisOptions {
  stemming: boolean;
  synonyms: boolean;
  decompound: boolean;
  typos: boolean;
}

export const DEFAULT_ANALYSIS: AnalysisOptions = Object.freeze({ stemming: true, synonyms: true, decompound: true, typos: true });

/** What the index knows: answers come from the backend's term dictionary. */
export interface Vocabulary {
  /** Is this token (a stem or an exact form) in the index? */
  has(token: string): boolean;
  /** Indexed tokens that start with `prefix` (bounded). */
  withPrefix(prefix: string, limit: number): string[];
  /**
   * Indexed exact forms within `maxDistance` edits of `word` that share its first letter, when
   * the backend finds them itself (Elasticsearch's fuzzy query); otherwise typoCandidates()
   * scans withPrefix(first letter).
   */
  near?(word: string, maxDistance: number): string[];
}

/** One way a word may match: a single token, or several tokens near each other. */
export type Alternative =
  | { kind: 'stem'; token: string }
  | { kind: 'exact'; token: string }
  | { kind: 'phrase'; tokens: string[] } // exact forms in sequence
  | { kind: 'near'; stems: string[] }; // decompounded parts

export interface QueryWord {
  exact: string;
  stem: string;
  alternatives: Alternative[];
  /** How the alternatives beyond exact/stem came about, for explaining a result. */
  expandedBy: ('synonym' | 'decompound' | 'typo')[];
}

export interface ParsedQuery {
  words: QueryWord[];
  /** Quoted phrases (exact forms, stopwords dropped as at index time): all must occur. */
  phrases: string[][];
  /** Excluded words and phrases: none may occur. */
  excluded: Alternative[][];
  caseNumbers: string[];
}

/**
 * Whether a text, given as its analysed stems and exact forms, holds a query word in any of its
 * forms: exact form, stem, synonym, or all parts of a decompounded compound.
 */
export function coversWord(word: QueryWord, stems: Set<string>, exact: Set<string>): boolean {
  if (stems.has(word.stem) || exact.has(word.exact)) return true;
  return word.alternatives.some((a) => {
    switch (a.kind) {
      case 'stem':
        return stems.has(a.token);
      case 'exact':
        return exact.has(a.token);
      case 'phrase':
        return a.tokens.every((t) => exact.has(t));
      case 'near':
        return a.stems.every((t) => stems.has(t));
    }
  });
}

/** A query of one word alone (how common it is, whether a caller's documents have it). */
export function wordQuery(word: QueryWord): ParsedQuery {
  return { words: [word], phrases: [], excluded: [], caseNumbers: [] };
}

const ABBREVIATIONS: Record<string, string[]> = synonymData.abbreviations;
const EXPANSION_TO_ABBREVIATION = new Map<string, string>();
for (const [abbr, expansions] of Object.entries(ABBREVIATIONS)) {
  for (const e of expansions) {
    const toks = contentTokens(e);
    if (toks.length === 1) EXPANSION_TO_ABBREVIATION.set(stem(toks[0]), abbr);
  }
}
/**
 * Variant groups by stem -> the written forms of the group. Variants are matched as exact forms
 * (the low-weight `exact` column), not as stems: FTS5 sums the scores of alternatives, so a
 * word with many stem alternatives would outweigh the other words of the query.
 */
const VARIANTS = new Map<string, Set<string>>();
for (const group of synonymData.variants) {
  const forms = group.map((w) => normalize(w));
  for (const f of forms) {
    const s = stem(f);
    const merged = VARIANTS.get(s) ?? new Set<string>();
    for (const x of forms) merged.add(x);
    VARIANTS.set(s, merged);
  }
}

function contentTokens(text: string): string[] {
  return tokenize(text).filter((t) => !isStopword(t));
}

/** Damerau-Levenshtein distance, stopping early once it exceeds `max`. */
export function editDistance(a: string, b: string, max: number): number {
  if (Math.abs(a.length - b.length) > max) return max + 1;
  const prev2 = new Array<number>(b.length + 1).fill(0);
  let prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const cur = [i];
    let rowMin = i;
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      let v = Math.min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) v = Math.min(v, prev2[j - 2] + 1);
      cur.push(v);
      rowMin = Math.min(rowMin, v);
    }
    if (rowMin > max) return max + 1;
    for (let j = 0; j <= b.length; j++) prev2[j] = prev[j];
    prev = cur;
  }
  return prev[b.length];
}

/** Minimum letters of a compound before we try to split it, and of each part. */
const DECOMPOUND_MIN = 8;
const PART_MIN = 3;
const LINKS = ['', 's', 'e'];

/** Splits of `word` into two indexed parts (with a linking s or e), longest first part first. */
export function decompound(word: string, vocab: Vocabulary, max = 3): string[][] {
  if (word.length < DECOMPOUND_MIN || /\d/.test(word)) return [];
  const known = (t: string) => vocab.has(t) || vocab.has(stem(t));
  const out: string[][] = [];
  for (let i = word.length - PART_MIN; i >= PART_MIN && out.length < max; i--) {
    const head = word.slice(0, i);
    for (const link of LINKS) {
      if (link && !head.endsWith(link)) continue;
      const first = link ? head.slice(0, -link.length) : head;
      const rest = word.slice(i);
      if (first.length < PART_MIN || rest.length < PART_MIN) continue;
      if (known(first) && known(rest)) {
        out.push([stem(first), stem(rest)]);
        break;
      }
    }
  }
  return out;
}

/** Indexed exact forms within edit distance of a long word the index does not hold. */
export function typoCandidates(word: string, vocab: Vocabulary, limit = 8): string[] {
  if (word.length < 7 || /\d/.test(word)) return [];
  const maxDist = word.length >= 10 ? 2 : 1;
  const found: { t: string; d: number }[] = [];
  // Typos rarely hit the first letter; looking only under it keeps this one range scan.
  for (const t of vocab.near ? vocab.near(word, maxDist) : vocab.withPrefix(word[0], 20_000)) {
    if (t[0] !== word[0]) continue;
    if (t === word || /\d/.test(t)) continue;
    const d = editDistance(word, t, maxDist);
    if (d <= maxDist) found.push({ t, d });
  }
  // Order by distance, then alphabetically: never by frequency, which counts documents the
  // caller may not read.
  return found
    .sort((a, b) => a.d - b.d || (a.t < b.t ? -1 : 1))
    .slice(0, limit)
    .map((x) => x.t);
}

function wordAlternatives(exact: string, opts: AnalysisOptions, vocab: Vocabulary | null): QueryWord {
  const s = stem(exact);
  const alternatives: Alternative[] = [{ kind: 'exact', token: exact }];
  const expandedBy: QueryWord['expandedBy'] = [];
  if (opts.stemming) alternatives.push({ kind: 'stem', token: s });
  if (opts.synonyms) {
    const expansion = ABBREVIATIONS[exact];
    if (expansion) {
      for (const e of expansion) {
        const toks = contentTokens(e);
        alternatives.push(toks.length === 1 ? { kind: 'stem', token: stem(toks[0]) } : { kind: 'phrase', tokens: toks });
      }
      expandedBy.push('synonym');
    }
    const abbr = EXPANSION_TO_ABBREVIATION.get(s);
    if (abbr) {
      alternatives.push({ kind: 'exact', token: abbr });
      expandedBy.push('synonym');
    }
    const variants = VARIANTS.get(s);
    if (variants) {
      for (const v of variants) if (stem(v) !== s) alternatives.push({ kind: 'exact', token: v });
      expandedBy.push('synonym');
    }
  }
  const knownWhole = vocab ? vocab.has(exact) || vocab.has(s) : true;
  if (vocab && !knownWhole && opts.decompound) {
    const splits = decompound(exact, vocab);
    for (const parts of splits) alternatives.push({ kind: 'near', stems: parts });
    if (splits.length) expandedBy.push('decompound');
  }
  if (vocab && !knownWhole && opts.typos) {
    const near = typoCandidates(exact, vocab);
    for (const t of near) alternatives.push({ kind: 'exact', token: t }, ...(opts.stemming ? [{ kind: 'stem' as const, token: stem(t) }] : []));
    if (near.length) expandedBy.push('typo');
  }
  // Deduplicate (a stem equal to the exact form, a variant equal to the stem ...).
  const seen = new Set<string>();
  const unique = alternatives.filter((a) => {
    const key = JSON.stringify(a);
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
  return { exact, stem: s, alternatives: unique, expandedBy: [...new Set(expandedBy)] };
}

/**
 * Parse and expand a query. Stopwords are dropped unless the query is nothing but stopwords;
 * the parts of a case number are not words of their own (the normalised case token is).
 */
export function parseQuery(query: string, opts: AnalysisOptions = DEFAULT_ANALYSIS, vocab: Vocabulary | null = null): ParsedQuery {
  const phrases: string[][] = [];
  const excluded: Alternative[][] = [];
  let rest = query.normalize('NFC');
  // -"phrase" and "phrase"
  // A removed phrase leaves a NUL, not a space: in `"Special Edition"-utgaven` the hyphen
  // follows the quote, so "-utgaven" is part of a word, not an exclusion.
  rest = rest.replace(/(^|\s)(-?)"([^"]*)"/g, (_m, pre: string, neg: string, body: string) => {
    const toks = contentTokens(body);
    if (toks.length) {
      if (neg) excluded.push([{ kind: 'phrase', tokens: toks }]);
      else phrases.push(toks);
    }
    return pre + '\u0000';
  });
  // -word
  rest = rest.replace(/(^|\s)-([\p{L}\p{N}][\p{L}\p{N}-]*)/gu, (_m, pre: string, word: string) => {
    for (const t of contentTokens(word)) {
      const alts: Alternative[] = [{ kind: 'exact', token: t }];
      if (opts.stemming) alts.push({ kind: 'stem', token: stem(t) });
      excluded.push(alts);
    }
    return pre + ' ';
  });
  const caseNumbers = [...new Set(caseNumberTokens(query))];
  const tokens = tokenize(rest.replace(CASE_NUMBER_RE, ' '));
  const content = tokens.filter((t) => !isStopword(t));
  // Question phrasing ("heter", "sier", "skjedde") goes too, while something else remains.
  const topical = content.filter((t) => !isQuestionWord(t));
  const chosen = topical.length > 0 || phrases.length > 0 || caseNumbers.length > 0 ? topical : content.length > 0 ? content : tokens;
  const seen = new Set<string>();
  const words: QueryWord[] = [];
  for (const t of chosen) {
    if (seen.has(t)) continue;
    seen.add(t);
    words.push(wordAlternatives(t, opts, vocab));
  }
  return { words, phrases, excluded, caseNumbers };
}

/**
 * The stems to mark in snippets and document text for a query: the words, their variants and
 * synonyms, decompounded parts and quoted phrases (never excluded words).
 */
export function highlightStems(query: string, opts: AnalysisOptions = DEFAULT_ANALYSIS, vocab: Vocabulary | null = null): Set<string> {
  return highlightStemsOf(parseQuery(query, opts, vocab));
}

/** highlightStems() of a query already parsed. */
export function highlightStemsOf(q: ParsedQuery): Set<string> {
  const out = new Set<string>();
  for (const w of q.words) {
    out.add(w.stem);
    for (const a of w.alternatives) {
      if (a.kind === 'stem') out.add(a.token);
      else if (a.kind === 'exact') out.add(stem(a.token));
      else if (a.kind === 'phrase') a.tokens.forEach((t) => out.add(stem(t)));
      else a.stems.forEach((t) => out.add(t));
    }
  }
  for (const p of q.phrases) p.forEach((t) => out.add(stem(t)));
  return out;
}

/**
 * The same query with its quoted phrases as ordinary words: for when the exact phrase occurs
 * nowhere (a question that quotes a name the text spells otherwise), so the search can still
 * rank what comes closest. The phrase boost of ftsExpression then rewards the exact order.
 */
export function relaxPhrases(q: ParsedQuery, opts: AnalysisOptions = DEFAULT_ANALYSIS, vocab: Vocabulary | null = null): ParsedQuery {
  const seen = new Set(q.words.map((w) => w.exact));
  const words = [...q.words];
  for (const t of q.phrases.flat()) {
    if (seen.has(t)) continue;
    seen.add(t);
    words.push(wordAlternatives(t, opts, vocab));
  }
  return { ...q, words, phrases: [] };
}
