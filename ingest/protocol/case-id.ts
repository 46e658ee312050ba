/**
 * Case numbers (saksnummer) and archive numbers (arkivsak), as written and normalised.
 * The canonical form is "YYYY/N" (see indexes/protocol-types.ts).
 */

/** Two-digit years: above 50 is 19xx, else 20xx (as indexes/analysis caseNumberTokens). */
export function fullYear(year: string): number | null {
  const y = parseInt(year, 10);
  if (!Number.isFinite(y)) return null;
  if (year.length === 2) return y > 50 ? 1900 + y : 2000 + y;
  if (year.length === 4 && y >= 1900 && y <= 2100) return y;
  return null;
}

/** "PS 6/26" | "Sak 045/24" | "sak 14/2026" | "139/12" | "K-112/12" -> "2026/6" ... ; null if none. */
export function normalizeCaseId(caseId: string | null | undefined): string | null {
  if (!caseId) return null;
  const m = /(\d{1,5})\s*\/\s*(\d{4}|\d{2})(?!\d)/.exec(caseId);
  if (!m) return null;
  const year = fullYear(m[2]);
  const num = parseInt(m[1], 10);
  return year === null ? null : `${year}/${num}`;
}

/** Archive numbers are year first: "24/0298" -> "2024/298", "2024/298" -> "2024/298". */
export function normalizeArchiveId(archiveId: string | null | undefined): string | null {
  if (!archiveId) return null;
  const m = /(\d{4}|\d{2})\s*\/\s*(\d{1,6})(?!\d)/.exec(archiveId);
  if (!m) return null;
  const year = fullYear(m[1]);
  return year === null ? null : `${year}/${parseInt(m[2], 10)}`;
}

/** Prefixes that open an agenda item heading, longest first. */
const PREFIX = String.raw`(?:PS|RS|FO|OS|DS|MS|US|KS|Saksnr\.?|Saksnummer|Sak\s+nr\.?|SAK|Sak)`;

/** "PS 6/26 Referatsaker" | "Sak 18/24 Sykehjemsplasser ..." at the start of a line. */
export const ITEM_HEADING = new RegExp(String.raw`^(?<id>(?<prefix>${PREFIX})\s*(?<num>\d{1,5})\s*\/\s*(?<year>\d{4}|\d{2}))(?![\d/])(?<rest>.*)$`, 'u');

/** "Kommunestyrets behandling av sak 6/2026 i møte den 25.03.2026:" (also nynorsk handsaming). */
export const TREATMENT_HEADING =
  /^(?<body>[\p{L}][\p{L}\p{N} ,.\-–/]*?)\s+(?:behandling|handsaming)\s+av\s+(?<id>sak\s+(?<num>\d{1,5})\s*\/\s*(?<year>\d{4}|\d{2}))\s+i\s+møte(?:t)?\s+(?:den\s+)?(?<date>\d{1,2}\.\d{1,2}\.\d{4})\s*:?\s*$/iu;

/** "Arkivsak 24/0298", "Arkivsaknr.: 12/2960", "Arkivsak: 24/1377", "Saksnr. arkiv 24/1". */
export const ARCHIVE_ID = /\b(?:arkivsak(?:snr|nr|nummer)?|arkivsaksnr|arkivnr)\.?\s*:?\s*(\d{2,4}\s*\/\s*\d{1,6})\b/iu;

/** "PTN-139/12", "K-112/12": a case id that owns the section heading on the next line (møtebok). */
export const OWNER_LINE = /^(?<prefix>[A-ZÆØÅ]{1,8})\s?-\s?(?<id>\d{1,5}\/(?:\d{4}|\d{2}))$/u;
