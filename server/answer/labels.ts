/** What the reader is told about an answer (Norwegian), shared by the views, the API and the CLI. */
export const NO_ANSWER_TEXT = 'Fant ingen dokumenter som svarer på dette';
/** No passage answers, but the search found documents: say so, without contradicting the results below. */
export const NO_DIRECT_ANSWER_TEXT = 'Ingen av treffene svarer direkte på spørsmålet';

/** The no-answer sentence, naming what the results are about when there are any. */
export function noAnswerText(about: { title: string; source: string }[]): string {
  if (about.length === 0) return NO_ANSWER_TEXT;
  const names = about.map((d) => `«${d.title || d.source}»`);
  const list = names.length > 1 ? `${names.slice(0, -1).join(', ')} og ${names.at(-1)}` : names[0];
  return `${NO_DIRECT_ANSWER_TEXT}. Treffene handler om ${list}`;
}
export const EXTRACTIVE_LABEL = 'Utdrag fra kildene – ikke generert tekst';
export const GENERATED_LABEL = 'Skrevet av en språkmodell ut fra kildene – kontroller mot kildene';
/** Follows the reason a model's answer is missing ("Språkmodellen svarte ikke i tide."). */
export const FALLBACK_TAIL = 'Her er et utdrag fra kildene i stedet.';
