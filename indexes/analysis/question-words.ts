/**
 * Words that only phrase a question ("Hva heter …", "Hva sier rapporten om …", "Når ble …
 * vedtatt?") rather than name what it is about. Query-side only: they are never dropped from
 * the index, and a query made of nothing else still searches for them.
 *
 * Used by the query parser (retrieval) and by the answer's relevance floor and sentence
 * ranking (server/answer). Exact forms only: the stem of "gjelder" is also that of "gjeld".
 *
 * Measured with `npm run eval`: see the commit that added the retrieval use.
 */
import { normalize } from './index.ts';

export const QUESTION_WORDS: ReadonlySet<string> = new Set(
  `sier si sa sagt står stod sto skjedde skjer skjedd gjelder gjaldt handler handlet mener mente tenker
  finnes fins fantes vet kjent fortell forklar oppsummer oppsummering beskriv beskriver bestemt bestemte
  besluttet diskutert diskuterte drøftet behandlet foreslått foreslo status nytt siste
  heter het hette kalles kaltes menes betyr betydde ligger lå fikk får går gikk type slags forkortes
  regnes omtales`
    .split(/\s+/)
    .filter(Boolean),
);

export function isQuestionWord(word: string): boolean {
  return QUESTION_WORDS.has(normalize(word));
}
