/**
 * Answers: question -> sources (same retrieval and access filter as the search) -> relevance
 * floor -> cache -> summary (model, or the extractive one) -> citation check -> result.
 *
 * `stream()` yields events as the answer is written (the page streams them as SSE);
 * `answer()` waits for the end (JSON API, CLI). Both run the same steps.
 *
 * Failures never leave the reader empty-handed: a model that times out, is rate limited, fails
 * or answers nothing gives a short Norwegian notice and the extractive summary instead.
 */

import { embedderFamily } from '../../indexes/embeddings/index.ts';
import type { Embedder } from '../../indexes/embeddings/types.ts';
import type { Store } from '../../indexes/store.ts';
import { type Config, searchOptions } from '../config.ts';
import { type AnswerCache, answerKey, LruCache } from './cache.ts';
import { CitationStream } from './citation-stream.ts';
import { extractiveSummary } from './extractive.ts';
import { FALLBACK_TAIL, noAnswerText } from './labels.ts';
import { createSummarizer, ModelError } from './llm.ts';
import { type Retrieval, retrieveSources } from './sources.ts';
import { answerText, checkSupport, citationsJson, FirstUseNumbers, parseAnswer, renumberByFirstUse } from './support.ts';
import type { AnswerEvent, AnswerRequest, AnswerResult, CitationJson, Summarizer } from './types.ts';

export { EXTRACTIVE_LABEL, GENERATED_LABEL, NO_ANSWER_TEXT, NO_DIRECT_ANSWER_TEXT } from './labels.ts';
export const MAX_QUESTION = 500;

export interface AnswererDeps {
  store: Store;
  embedder: Embedder;
  config: Config;
  /** Default: from the configuration (INNSIKT_LLM). `null`: extractive only. */
  summarizer?: Summarizer | null;
  cache?: AnswerCache;
}

/** The answer JSON of `POST /api/v1/answer` and `innsikt answer --json`: one shape, one place. */
export interface AnswerJson {
  question: string;
  mode: 'extractive' | 'llm';
  noAnswer: boolean;
  answer: string;
  citations: CitationJson[];
}

export function answerJson(r: AnswerResult): AnswerJson {
  return {
    question: r.question,
    mode: r.mode,
    noAnswer: r.noAnswer,
    answer: r.noAnswer ? noAnswerText(r.about) : answerText(r.sentences),
    citations: r.noAnswer ? [] : citationsJson(r.sentences, r.sources),
  };
}

function abortError(): Error {
  const e = new Error('The answer was aborted');
  e.name = 'AbortError';
  return e;
}

export class Answerer {
  readonly summarizer: Summarizer | null;
  readonly cache: AnswerCache;
  private readonly deps: AnswererDeps;

  constructor(deps: AnswererDeps) {
    this.deps = deps;
    this.summarizer = deps.summarizer !== undefined ? deps.summarizer : createSummarizer(deps.config.llm, deps.config.env);
    this.cache = deps.cache ?? new LruCache<AnswerResult>(500);
  }

  get mode(): 'extractive' | 'llm' {
    return this.summarizer ? 'llm' : 'extractive';
  }

  /** The whole answer (JSON API, CLI). */
  async answer(req: AnswerRequest): Promise<AnswerResult> {
    let result: AnswerResult | null = null;
    for await (const ev of this.stream(req)) if (ev.type === 'done') result = ev.result;
    if (!result) throw abortError();
    return result;
  }

  /** The answer as it is written. Stops quietly (no `done`) when `req.signal` aborts. */
  async *stream(req: AnswerRequest): AsyncGenerator<AnswerEvent> {
    const question = req.question.replace(/\s+/g, ' ').trim().slice(0, MAX_QUESTION);
    const signal = req.signal ?? new AbortController().signal;
    const { store, embedder, config } = this.deps;
    const retrieval = await retrieveSources(
      store,
      embedder,
      { question, principal: req.principal, mode: req.mode, filters: req.filters },
      { search: searchOptions(config), contextChars: config.llm.contextChars, semantic: embedderFamily(config.env) === 'semantic' },
    );
    if (signal.aborted) return;
    const base = { question, sources: retrieval.sources, about: [], droppedCitations: 0, cached: false, notice: null, model: null };

    // Below the relevance floor: say so, and call no model.
    if (retrieval.sources.length === 0) {
      yield { type: 'done', result: { ...base, about: retrieval.about, mode: this.mode, noAnswer: true, sentences: [] } };
      return;
    }

    const model = this.summarizer?.id ?? 'extractive';
    const key = answerKey({ question, mode: req.mode, filters: req.filters, principal: req.principal, sources: retrieval.sources, model });
    const hit = this.cache.get(key);
    if (hit) {
      yield { type: 'start', mode: hit.mode, sources: hit.sources };
      yield { type: 'done', result: { ...hit, question, cached: true } };
      return;
    }

    if (!this.summarizer) {
      const result = this.extractive(question, retrieval, null);
      this.cache.set(key, result);
      yield { type: 'start', mode: 'extractive', sources: result.sources };
      yield { type: 'done', result };
      return;
    }

    yield { type: 'start', mode: 'llm', sources: retrieval.sources };
    const cites = new CitationStream(retrieval.sources.length);
    const shown = new FirstUseNumbers();
    const byN = new Map(retrieval.sources.map((s) => [s.n, s]));
    const citeEvent = (n: number): AnswerEvent => {
      const source = { ...byN.get(n)!, n: shown.of(n) };
      return { type: 'cite', n: source.n, source };
    };
    let raw = '';
    let failure: string | null = null;
    try {
      for await (const chunk of this.summarizer.stream(question, retrieval.sources, signal)) {
        if (signal.aborted) return;
        raw += chunk;
        for (const piece of cites.push(chunk)) yield piece.type === 'cite' ? citeEvent(piece.n) : piece;
      }
      for (const piece of cites.end()) yield piece.type === 'cite' ? citeEvent(piece.n) : piece;
    } catch (err) {
      if (signal.aborted) return;
      failure = err instanceof ModelError ? err.notice : 'Språkmodellen kunne ikke lage en oppsummering.';
      console.error(`[innsikt] answer for "${question}": ${(err as Error).message}`);
    }
    if (signal.aborted) return;
    const parsed = failure ? null : parseAnswer(raw, retrieval.sources.length);
    if (!failure && parsed!.sentences.length === 0) {
      failure = 'Språkmodellen ga et tomt svar.';
      console.error(`[innsikt] answer for "${question}": the model (${model}) returned no text`);
    }
    if (failure) {
      const notice = `${failure} ${FALLBACK_TAIL}`;
      yield { type: 'fallback', notice };
      // Not cached: the next asking should try the model again.
      yield { type: 'done', result: this.extractive(question, retrieval, notice) };
      return;
    }
    const result: AnswerResult = {
      ...base,
      mode: 'llm',
      noAnswer: false,
      model,
      ...renumberByFirstUse(checkSupport(parsed!.sentences, retrieval.sources), retrieval.sources),
      droppedCitations: parsed!.dropped,
    };
    this.cache.set(key, result);
    yield { type: 'done', result };
  }

  private extractive(question: string, retrieval: Retrieval, notice: string | null): AnswerResult {
    const checked = checkSupport(extractiveSummary(retrieval.sources, retrieval.weights), retrieval.sources);
    return {
      question,
      mode: 'extractive',
      noAnswer: checked.length === 0,
      about: checked.length === 0 ? retrieval.about : [],
      ...renumberByFirstUse(checked, retrieval.sources),
      notice,
      model: null,
      droppedCitations: 0,
      cached: false,
    };
  }
}
