/**
 * The nouns of answers (cited summaries).
 *
 * Glossary:
 * - source (kilde): one retrieved chunk, numbered 1..n in the order it was given to the
 *   summarizer. The answer cites it as [n].
 * - citation (kildehenvisning): an [n] in the answer. Valid only when n names a source given.
 * - supported (støttet): a sentence whose content words are found in the sources it cites
 *   (see support.ts for the measure and its threshold).
 * - extractive (utdrag): the offline summary made of sentences copied from the sources.
 */
import type { AccessLevel, Principal, SearchFilters, SearchMode } from '../../indexes/types.ts';

export type AnswerMode = 'extractive' | 'llm';

/** One numbered source given to the summarizer. */
export interface Source {
  n: number;
  chunkId: string;
  documentId: string;
  title: string;
  /** The file's base name, as in search results. */
  source: string;
  kind: string;
  body: string | null;
  date: string | null;
  access: AccessLevel;
  heading: string | null;
  pageStart: number | null;
  pageEnd: number | null;
  /** The page of the search snippet: where a citation to the whole source points. */
  page: number | null;
  /** The chunk text (cut to the context budget for a model). */
  text: string;
  pageBreaks: { offset: number; page: number }[];
  /** Weighted query-term coverage (sources.ts), 0..1. */
  relevance: number;
}

/** A document the search found although none of its passages answers the question. */
export interface AboutDocument {
  documentId: string;
  title: string;
  source: string;
}

/** Where in a source a sentence is supported: the best-matching passage and its page. */
export interface Passage {
  n: number;
  quote: string;
  page: number | null;
}

/** One sentence of an answer, after the citation check. */
export interface AnswerSentence {
  /** The sentence without its citation markers. */
  text: string;
  /** Valid source numbers the sentence cites, in order, without duplicates. */
  citations: number[];
  /** Share of the sentence's content stems found in its cited sources (0..1). */
  support: number;
  supported: boolean;
  /** Per citation: the passage of that source that best matches the sentence. */
  passages: Passage[];
  /** The sentence starts a new paragraph. */
  paragraph: boolean;
}

/** One cited source in the answer JSON (`citations` of `POST /api/v1/answer`). */
export interface CitationJson {
  n: number;
  documentId: string;
  title: string;
  source: string;
  pageStart: number | null;
  pageEnd: number | null;
  quote: string;
  supported: boolean;
}

export interface AnswerResult {
  question: string;
  mode: AnswerMode;
  noAnswer: boolean;
  sentences: AnswerSentence[];
  /** Every source given to the summarizer (cited or not), numbered in order of first citation. */
  sources: Source[];
  /** No answer, but the search found something: the documents it found, for "the results are about …". */
  about: AboutDocument[];
  /** A short Norwegian message for the reader, e.g. why the model's answer is missing. */
  notice: string | null;
  /** The model that wrote the answer (llm mode), for the cache key and the log. */
  model: string | null;
  /** Citations removed because they named no source given. */
  droppedCitations: number;
  /** Served from the answer cache. */
  cached: boolean;
}

export interface AnswerRequest {
  question: string;
  principal: Principal;
  mode?: SearchMode;
  filters?: SearchFilters;
  /** Aborts retrieval and the model call (the browser left, a new query replaced this one). */
  signal?: AbortSignal;
}

/** What a streaming answer yields, in order: sources, then text/cite pieces, then done. */
export type AnswerEvent =
  | { type: 'start'; mode: AnswerMode; sources: Source[] }
  /** Text to append; never holds a citation marker or half of one. */
  | { type: 'text'; text: string }
  /** A valid citation at this place in the text: n is the number shown (first use), source the cited one, numbered so. */
  | { type: 'cite'; n: number; source: Source }
  /** The model failed: the streamed text is void, a fallback follows in `done`. */
  | { type: 'fallback'; notice: string }
  | { type: 'done'; result: AnswerResult };

/** Summarizer seam: a question and numbered sources in, a stream of raw text out. */
export interface Summarizer {
  /** Model id, part of the cache key (e.g. 'openai:gpt-4o-mini'). */
  readonly id: string;
  stream(question: string, sources: Source[], signal: AbortSignal): AsyncIterable<string>;
}
