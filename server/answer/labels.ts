/** What the reader is told about an answer (Norwegian), shared by the views, the API and the CLI. */
export const NO_ANSWER_TEXT = 'Fant ingen dokumenter som svarer på dette';
export const EXTRACTIVE_LABEL = 'Utdrag fra kildene – ikke generert tekst';
export const GENERATED_LABEL = 'Skrevet av en språkmodell ut fra kildene – kontroller mot kildene';
/** Follows the reason a model's answer is missing ("Språkmodellen svarte ikke i tide."). */
export const FALLBACK_TAIL = 'Her er et utdrag fra kildene i stedet.';
