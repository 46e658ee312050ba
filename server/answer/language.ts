/**
 * The question's language (the answer is written in it) and the words that only phrase a
 * question ("hva sier …", "what was decided about …") rather than name what it is about.
 *
 * The shared analysis (indexes/analysis) is Norwegian: its stopwords already drop "hva",
 * "hvem", "ble", "om". What remains of a question's phrasing are verbs such as "sier" or
 * "skjedde", and in an English question every function word. These are rare in protocols, so
 * an IDF-weighted relevance floor would count them as the most important words of the
 * question: "Hva sier rapporten om trangboddhet?" scored 0.28 before they were left out
 * (sources.ts). They are left out of the floor and of the extractive ranking only; retrieval
 * itself still sees the whole question.
 */
import { normalize, tokenize } from '../../indexes/analysis/index.ts';
import { isQuestionWord as isNorwegianQuestionWord } from '../../indexes/analysis/question-words.ts';

export type Language = 'nb' | 'nn' | 'en';

const ENGLISH = new Set(
  `a about above after all also am an and any are as at be been before being between both but by can could
  did do does doing done during each few for from further had has have having he her here hers him his how i
  if in into is it its itself just me more most my no nor not now of off on once only or other our out over
  own same she should so some such than that the their them then there these they this those through to too
  under until up very was we were what when where which while who whom why will with would you your
  decide decided decision say says said tell happen happened mean means`.split(/\s+/),
);

// Nynorsk function words that bokmål lacks (Nynorsk is rare in these documents, but a question
// in it should get an answer in it).
const NYNORSK = new Set('kva kven kvifor korleis kvar ikkje eg dei vart vore kan ein eit meir berre'.split(' '));

/** English function words, with a bias to Norwegian: "en", "i", "at", "for" are both. */
export function detectLanguage(question: string): Language {
  const tokens = tokenize(question);
  if (tokens.length === 0) return 'nb';
  let en = 0;
  let nn = 0;
  for (const t of tokens) {
    if (ENGLISH.has(t) && !['i', 'at', 'for', 'on', 'by', 'so', 'be', 'all', 'over', 'under', 'me', 'her'].includes(t)) en++;
    if (NYNORSK.has(t)) nn++;
  }
  if (en >= 2 && en / tokens.length >= 0.25) return 'en';
  if (nn >= 1 && !/\b(hva|hvem|hvorfor|hvordan|ikke|jeg|ble)\b/i.test(question)) return 'nn';
  return 'nb';
}

/** Is this (lowercased) query word only question phrasing, for this language? */
export function isQuestionWord(word: string, lang: Language): boolean {
  const w = normalize(word);
  if (lang === 'en' && ENGLISH.has(w)) return true;
  return isNorwegianQuestionWord(w);
}

export const LANGUAGE_NAMES: Record<Language, string> = { nb: 'norsk bokmål', nn: 'nynorsk', en: 'engelsk' };
