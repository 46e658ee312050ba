/**
 * Answers on a judged set (the blind set of issue 13): the offline, extractive answer of
 * `POST /api/v1/answer` for every query, as the public.
 * - Answerable queries: refused (no answer although a judged document exists); cites a judged
 *   page (some citation's page range holds a page judged relevant, or names a judged file when
 *   the judgment has no page); quotes the answer phrase (questions carry one, copied from the
 *   page by the person who wrote the question).
 * - No-answer queries: answered (an answer although nothing in the corpus answers).
 */
import type { Embedder } from '../indexes/embeddings/types.ts';
import type { Store } from '../indexes/store.ts';
import { Answerer, answerJson } from '../server/answer/answerer.ts';
import { loadConfig } from '../server/config.ts';
import type { EvalSet, QueryKind } from './harness.ts';

export interface AnswerOutcome {
  id: string;
  kind: QueryKind | undefined;
  answerable: boolean;
  refused: boolean;
  citesJudged: boolean;
  quotesPhrase: boolean;
}

const squash = (s: string) => s.replace(/\s+/g, ' ').trim().toLowerCase();

/** `env`: the installation's settings (none: the offline defaults; { INNSIKT_EMBEDDER: 'e5' } with e5). */
export async function answerOutcomes(store: Store, embedder: Embedder, set: EvalSet, env: Record<string, string> = {}): Promise<AnswerOutcome[]> {
  const answerer = new Answerer({ store, embedder, config: loadConfig(env), summarizer: null });
  const out: AnswerOutcome[] = [];
  for (const q of set.queries) {
    const json = answerJson(await answerer.answer({ question: q.query, principal: set.principal }));
    const judged = q.expect.filter((j) => j.grade > 0);
    const citesJudged = json.citations.some((c) =>
      judged.some((j) => j.file === c.source && (j.page == null || c.pageStart == null || (j.page >= c.pageStart && j.page <= (c.pageEnd ?? c.pageStart)))),
    );
    const phrase = q.phrase ? squash(q.phrase) : null;
    const quotesPhrase = !!phrase && squash(json.answer).includes(phrase.slice(0, 40));
    out.push({ id: q.id, kind: q.kind, answerable: judged.length > 0, refused: json.noAnswer, citesJudged, quotesPhrase });
  }
  return out;
}

export interface AnswerSummary {
  questions: number;
  /** Natural questions whose answer cites a judged page. */
  citesJudged: number;
  /** Natural questions whose answer quotes the phrase that answers them. */
  quotesPhrase: number;
  /** Answerable questions refused. */
  refused: number;
  /** Every answerable query (any kind) refused. */
  answerable: number;
  answerableRefused: number;
  /** No-answer queries (off-corpus) answered. */
  offCorpus: number;
  offCorpusAnswered: number;
}

export function summarizeAnswers(rows: AnswerOutcome[]): AnswerSummary {
  const questions = rows.filter((r) => r.kind === 'question' && r.answerable);
  const answerable = rows.filter((r) => r.answerable);
  const off = rows.filter((r) => !r.answerable);
  return {
    questions: questions.length,
    citesJudged: questions.filter((r) => r.citesJudged).length,
    quotesPhrase: questions.filter((r) => r.quotesPhrase).length,
    refused: questions.filter((r) => r.refused).length,
    answerable: answerable.length,
    answerableRefused: answerable.filter((r) => r.refused).length,
    offCorpus: off.length,
    offCorpusAnswered: off.filter((r) => !r.refused).length,
  };
}
