/**
 * Is a PDF text layer readable? Pure heuristics on the raw (uncleaned) page text, so that
 * the control characters a broken font encoding produces are still visible.
 *
 * A garbled text layer comes from fonts without a usable Unicode map: pdf.js then emits
 * glyph codes as characters, e.g. "9DOJSURWRNROO\u0003IRU" for "Valgprotokoll for" (a
 * subset font whose codes are shifted by 29), or replacement/private-use characters.
 */

export interface PageQuality {
  /** Non-whitespace characters on the page. */
  chars: number;
  /** Share of characters that are control, replacement (U+FFFD) or private-use characters. */
  junkRatio: number;
  /** Share of whitespace-separated tokens that look like a word or a number. */
  wordRatio: number;
  garbled: boolean;
}

const JUNK = /[\u0000-\u0008\u000B\u000E-\u001F\u007F-\u009F\uFFFD\uE000-\uF8FF]/gu;
// A word: optional leading punctuation, letters with at most a capital first (or all
// capitals), inner hyphens/apostrophes/dots allowed, optional trailing punctuation.
const WORD =
  /^[\p{Ps}\p{Pi}"'«([§-]*(?:\p{Lu}?[\p{Ll}\p{M}]+(?:[-'’.]\p{L}[\p{Ll}\p{M}]*)*|\p{Lu}[\p{Lu}\p{M}]*(?:[-'’.&/]\p{Lu}*)*\.?|[\p{N}][\p{N}.,:%/–-]*\p{L}{0,3})[\p{Pe}\p{Pf}"'»).,;:!?*-]*$/u;

const URL_OR_EMAIL = /^[(<[]?(?:https?:\/\/|www\.|[\w.+-]+@[\w-]+\.)/i;

/** Below these sizes a page is too short to judge (by junk characters / by word shapes). */
const MIN_JUNK_CHARS = 12;
const MIN_WORD_CHARS = 40;

export function assessPage(raw: string): PageQuality {
  const nonSpace = raw.replace(/[\s\u0003]+/g, '');
  const chars = nonSpace.length;
  const junk = (raw.match(JUNK) ?? []).length;
  // Garbled layers often use a control character as the word separator: count it as space.
  const tokens = raw.split(/[\s\u0000-\u001F]+/).filter((t) => t !== '');
  const words = tokens.filter((t) => WORD.test(t.normalize('NFC')) || URL_OR_EMAIL.test(t)).length;
  const junkRatio = chars === 0 ? 0 : junk / (chars + junk);
  const wordRatio = tokens.length === 0 ? 1 : words / tokens.length;
  const garbled = (chars >= MIN_JUNK_CHARS && junkRatio > 0.05) || (chars >= MIN_WORD_CHARS && wordRatio < 0.4);
  return { chars, junkRatio, wordRatio, garbled };
}

/** Page numbers (1-based, as given) whose text layer looks garbled. */
export function garbledPages(pages: { num: number | null; text: string }[]): number[] {
  return pages.filter((p) => assessPage(p.text).garbled).map((p) => p.num ?? 0);
}

/** "1-3, 7, 9-10" */
export function formatPageRanges(nums: number[]): string {
  const sorted = [...nums].sort((a, b) => a - b);
  const out: string[] = [];
  for (let i = 0; i < sorted.length; ) {
    let j = i;
    while (j + 1 < sorted.length && sorted[j + 1] === sorted[j] + 1) j++;
    out.push(i === j ? `${sorted[i]}` : `${sorted[i]}-${sorted[j]}`);
    i = j + 1;
  }
  return out.join(', ');
}
