/**
 * The citation check, in one place for the model's answers and the extractive summary:
 * 1. Citations [n] that name no source given are removed (and counted).
 * 2. Every sentence is checked against the sources it cites: the share of its content stems
 *    (the shared analysis: stopwords out, Snowball stems, numbers and case numbers kept) that
 *    occur in the cited chunks. At or above SUPPORT_THRESHOLD the sentence is supported;
 *    below it, or with no citation at all, it is marked as not supported in the UI and JSON.
 * 3. For each citation, the passage of the cited chunk that best matches the sentence gives
 *    the quote and the page the citation links to.
 */
import { analyze } from '../../indexes/analysis/index.ts';
import { pageAt } from '../../indexes/snippet.ts';
import { type SentenceSpan, splitSentences } from './sentences.ts';
import type { AnswerSentence, CitationJson, Passage, Source } from './types.ts';

/**
 * Minimum share of a sentence's content stems found in its cited sources.
 *
 * Measured by tests/answer-support.test.ts (`npx vitest run tests/answer-support.test.ts`):
 * - NorQuAD, 300 claims "question + answer" (a restatement of the passage in other words):
 *   against the gold passage median share 0.86, 10th percentile 0.63; against the most
 *   similar of the 198 other passages median 0.36, 90th percentile 0.56.
 *   Accepted at 0.55 / 0.60 / 0.65 / 0.70: gold 97 / 94 / 89 / 85 %, wrong passage
 *   10 / 8 / 4 / 2 %.
 * - Demo corpus, 1112 source sentences: own source 1.00; the best source of another question
 *   passes 7 % at 0.65 (formulaic lines such as "Innstillingen ble enstemmig vedtatt." are in
 *   every protocol); another source of the same answer that does not hold the sentence
 *   passes 33 % (same case, same words: lexical support cannot tell these apart).
 * 0.65 halves the wrong passages accepted at 0.60 for 5 points of true ones: for citations
 * people must trust, a sentence marked for checking costs less than a wrong one let through.
 */
export const SUPPORT_THRESHOLD = 0.65;

/** Sentences with fewer content stems than this say too little to check ("Ja.", "Se [1]."). */
const MIN_CHECKABLE_STEMS = 2;

/** Longest quote shown for a citation. */
const MAX_QUOTE = 320;

/** Distinct content stems of a text. */
export function contentStems(text: string): Set<string> {
  return new Set(analyze(text).stems);
}

/** Everything a source says, as stems: title, utvalg, heading and text. */
const sourceStemCache = new WeakMap<Source, Set<string>>();
export function sourceStems(s: Source): Set<string> {
  let set = sourceStemCache.get(s);
  if (!set) {
    set = contentStems([s.title, s.body ?? '', s.heading ?? '', s.text].join('\n'));
    sourceStemCache.set(s, set);
  }
  return set;
}

/** Share of `stems` found in `within` (1 when there is nothing to find). */
export function share(stems: Set<string>, within: Set<string>[]): number {
  if (stems.size === 0) return 1;
  let found = 0;
  for (const s of stems) if (within.some((w) => w.has(s))) found++;
  return found / stems.size;
}

// --- Citation markers --------------------------------------------------------------------

/** `[1]`, `[1, 2]`, `[1][2]`, `[kilde 3]`: a marker and the numbers in it. */
export const CITATION_MARKER = /\[\s*(?:kilde|kjelde|source)?\s*(\d{1,3}(?:\s*[,;]\s*\d{1,3})*)\s*\]/giu;

export function markerNumbers(inner: string): number[] {
  return inner
    .split(/[,;]/)
    .map((x) => Number(x.trim()))
    .filter((x) => Number.isInteger(x));
}

/** A raw sentence of an answer, its markers taken out. */
export interface ParsedSentence {
  text: string;
  citations: number[];
  paragraph: boolean;
}

/**
 * Split an answer into sentences and their citations. Markers that open a sentence ("… torg.
 * [1] Neste …") belong to the sentence before. Numbers that name no source are dropped.
 */
export function parseAnswer(raw: string, sourceCount: number): { sentences: ParsedSentence[]; dropped: number } {
  const spans = splitSentences(raw);
  const out: ParsedSentence[] = [];
  let dropped = 0;
  const valid = (n: number) => n >= 1 && n <= sourceCount;
  for (const span of spans) {
    const rawText = raw.slice(span.start, span.end);
    const leading: number[] = [];
    const inside: number[] = [];
    let invalid = 0;
    let firstWord = rawText.search(/[\p{L}\p{N}](?![^[]*\])/u);
    if (firstWord < 0) firstWord = rawText.length;
    for (const m of rawText.matchAll(CITATION_MARKER)) {
      for (const n of markerNumbers(m[1])) {
        if (!valid(n)) {
          dropped++;
          invalid++;
          continue;
        }
        (m.index! < firstWord ? leading : inside).push(n);
      }
    }
    const text = rawText
      .replace(CITATION_MARKER, '')
      .replace(/^[ \t]*(?:[-•*–][ \t]+|\d{1,3}[.)][ \t]+)/, '')
      .replace(/\s+([.,;:!?])/g, '$1')
      .replace(/\s+/g, ' ')
      .trim();
    if (leading.length && out.length) out[out.length - 1].citations.push(...leading);
    else inside.unshift(...leading);
    if (!/[\p{L}\p{N}]/u.test(text)) continue; // nothing but markers and punctuation
    // "Se [9]." with [9] gone says nothing at all.
    if (invalid > 0 && inside.length === 0 && contentStems(text).size < MIN_CHECKABLE_STEMS) continue;
    out.push({ text, citations: inside, paragraph: span.blockStart && out.length > 0 });
  }
  for (const s of out) s.citations = [...new Set(s.citations)];
  return { sentences: out, dropped };
}

// --- Support --------------------------------------------------------------------------------

const sourceSentenceCache = new WeakMap<Source, SentenceSpan[]>();
function sourceSentences(s: Source): SentenceSpan[] {
  let list = sourceSentenceCache.get(s);
  if (!list) {
    list = splitSentences(s.text).filter((x) => /[\p{L}]/u.test(x.text));
    sourceSentenceCache.set(s, list);
  }
  return list;
}

function cut(text: string, max: number): string {
  if (text.length <= max) return text;
  const at = text.lastIndexOf(' ', max - 1);
  return text.slice(0, at > max * 0.6 ? at : max - 1).replace(/[\s,;:]+$/, '') + ' …';
}

/** The passage of `source` that shares most content stems with `stems` (ties: the earlier). */
export function bestPassage(source: Source, stems: Set<string>): Passage {
  let best: SentenceSpan | null = null;
  let bestScore = -1;
  for (const span of sourceSentences(source)) {
    const own = contentStems(span.text);
    let score = 0;
    for (const s of stems) if (own.has(s)) score++;
    // Prefer a real sentence over a heading with the same words.
    const rank = score + (span.terminal ? 0.5 : 0);
    if (rank > bestScore) {
      bestScore = rank;
      best = span;
    }
  }
  if (!best) return { n: source.n, quote: cut(source.text.replace(/\s+/g, ' ').trim(), MAX_QUOTE), page: source.page };
  return { n: source.n, quote: cut(best.text, MAX_QUOTE), page: pageAt(best.start, source.pageStart, source.pageBreaks) };
}

/** Check each sentence against the sources it cites. */
export function checkSupport(sentences: ParsedSentence[], sources: Source[]): AnswerSentence[] {
  const byN = new Map(sources.map((s) => [s.n, s]));
  return sentences.map((s) => {
    const stems = contentStems(s.text);
    const cited = s.citations.map((n) => byN.get(n)).filter((x): x is Source => !!x);
    const support = cited.length ? share(stems, cited.map(sourceStems)) : 0;
    const checkable = stems.size >= MIN_CHECKABLE_STEMS;
    const supported = cited.length > 0 ? !checkable || support >= SUPPORT_THRESHOLD : !checkable;
    return {
      text: s.text,
      citations: cited.map((c) => c.n),
      support: Number(support.toFixed(3)),
      supported,
      passages: cited.map((c) => bestPassage(c, stems)),
      paragraph: s.paragraph,
    };
  });
}

/** A sentence and its closing punctuation apart: citations go between ("… torg [1]."). */
export function splitClosing(text: string): { body: string; closing: string } {
  const m = /^(.*?)([.!?:;]+["»”)]?)?$/su.exec(text)!;
  return { body: m[1], closing: m[2] ?? '' };
}

/** The answer as text with its markers: "Setning [1]. Neste [2][3]." */
export function answerText(sentences: AnswerSentence[]): string {
  let out = '';
  for (const s of sentences) {
    if (out) out += s.paragraph ? '\n\n' : ' ';
    const marks = s.citations.map((n) => `[${n}]`).join('');
    if (!marks) out += s.text;
    else {
      const { body, closing } = splitClosing(s.text);
      out += `${body} ${marks}${closing}`;
    }
  }
  return out;
}

/**
 * One entry per cited source, in the order of n. Its pages span the passages cited; it is
 * supported when every sentence citing it is.
 */
export function citationsJson(sentences: AnswerSentence[], sources: Source[]): CitationJson[] {
  const byN = new Map(sources.map((s) => [s.n, s]));
  const acc = new Map<number, { quotes: string[]; pages: number[]; supported: boolean }>();
  for (const s of sentences) {
    for (const p of s.passages) {
      let a = acc.get(p.n);
      if (!a) acc.set(p.n, (a = { quotes: [], pages: [], supported: true }));
      if (!a.quotes.includes(p.quote)) a.quotes.push(p.quote);
      if (p.page != null) a.pages.push(p.page);
      a.supported &&= s.supported;
    }
  }
  return [...acc.entries()]
    .sort((a, b) => a[0] - b[0])
    .map(([n, a]) => {
      const src = byN.get(n)!;
      const pages = a.pages.length ? a.pages : src.page != null ? [src.page] : [];
      return {
        n,
        documentId: src.documentId,
        title: src.title,
        source: src.source,
        pageStart: pages.length ? Math.min(...pages) : src.pageStart,
        pageEnd: pages.length ? Math.max(...pages) : src.pageEnd,
        quote: a.quotes.join(' … '),
        supported: a.supported,
      };
    });
}

/**
 * Number the sources as the reader meets them: the first source the answer cites is [1], the
 * next new one [2], and so on, so that the text and the source list below it count 1..k
 * without gaps ("[5] [6]" over a list of two sources read as missing ones). Sources given but
 * never cited follow, k+1..n. The model saw the retrieval order; only the numbers shown change.
 */
export function renumberByFirstUse(sentences: AnswerSentence[], sources: Source[]): { sentences: AnswerSentence[]; sources: Source[] } {
  const shown = new FirstUseNumbers();
  for (const s of sentences) for (const n of s.citations) shown.of(n);
  for (const s of sources) shown.of(s.n);
  const to = (n: number) => shown.of(n);
  return {
    sentences: sentences.map((s) => ({ ...s, citations: s.citations.map(to), passages: s.passages.map((p) => ({ ...p, n: to(p.n) })) })),
    sources: sources.map((s) => ({ ...s, n: to(s.n) })).sort((a, b) => a.n - b.n),
  };
}

/** The same numbering while an answer streams: a source gets the next number when first cited. */
export class FirstUseNumbers {
  private readonly order = new Map<number, number>();
  of(n: number): number {
    let shown = this.order.get(n);
    if (shown === undefined) this.order.set(n, (shown = this.order.size + 1));
    return shown;
  }
}
