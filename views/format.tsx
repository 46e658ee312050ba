/**
 * Small pure helpers shared by the views: Norwegian formatting, labels and URL builders.
 * Everything here returns plain strings; the views render them as JSX text or attribute
 * values, so hono/jsx escapes them. Nothing here produces HTML.
 */
import type { AccessLevel, SearchFilters, SearchMode, SnippetPart } from '../indexes/types.ts';

const MONTHS = ['januar', 'februar', 'mars', 'april', 'mai', 'juni', 'juli', 'august', 'september', 'oktober', 'november', 'desember'];

/** "2024-03-14" -> "14. mars 2024"; "2024-03" -> "mars 2024"; null/"" -> null; anything else as given. */
export function formatDate(date: string | null | undefined): string | null {
  if (!date) return null;
  const m = /^(\d{4})-(\d{2})(?:-(\d{2}))?/.exec(date);
  if (!m) return date;
  const month = Number(m[2]);
  if (month < 1 || month > 12) return date;
  if (!m[3]) return `${MONTHS[month - 1]} ${m[1]}`;
  const day = Number(m[3]);
  if (day < 1 || day > 31) return date;
  return `${day}. ${MONTHS[month - 1]} ${m[1]}`;
}

const KIND_LABELS: Record<string, string> = {
  møteprotokoll: 'Møteprotokoll',
  saksprotokoll: 'Saksprotokoll',
  møtebok: 'Møtebok',
  saksliste: 'Saksliste',
  saksframlegg: 'Saksframlegg',
  innsiktsrapport: 'Innsiktsrapport',
  utredning: 'Utredning',
  rapport: 'Rapport',
  brev: 'Brev',
  forskrift: 'Forskrift',
  annet: 'Annet dokument',
};

/** "møteprotokoll" -> "Møteprotokoll"; unknown kinds get a capital first letter. */
export function kindLabel(kind: string | null | undefined): string | null {
  if (!kind) return null;
  const known = KIND_LABELS[kind];
  if (known) return known;
  return kind.charAt(0).toUpperCase() + kind.slice(1);
}

export function accessLabel(access: AccessLevel | string): string {
  if (access === 'public') return 'Offentlig';
  if (access === 'internal') return 'Intern';
  if (access === 'protected') return 'Skjermet';
  return String(access);
}

export const MODE_LABELS: Record<SearchMode, string> = {
  hybrid: 'Kombinert',
  bm25: 'Nøkkelord',
  vector: 'Semantisk',
};

/** 12.3 ms -> "0,012 s". */
export function formatSeconds(ms: number): string {
  const s = Math.max(0, ms) / 1000;
  return `${s.toFixed(3).replace('.', ',')} s`;
}

/** 1234 -> "1 234" (Norwegian thousands separator, a narrow no-break space). */
export function formatCount(n: number): string {
  return String(Math.trunc(n)).replace(/\B(?=(\d{3})+(?!\d))/g, '\u202f');
}

/** `/?q=…&mode=…&…filters&side=N`. The default mode and page 1 are left out so URLs stay short. */
export function searchUrl(q: string, mode: SearchMode = 'hybrid', page = 1, filters: SearchFilters = {}): string {
  const params: string[] = [];
  if (q) params.push(`q=${encodeURIComponent(q)}`);
  if (mode !== 'hybrid') params.push(`mode=${encodeURIComponent(mode)}`);
  params.push(...filterParams(filters));
  if (page > 1) params.push(`side=${page}`);
  return params.length ? `/?${params.join('&')}` : '/';
}

/** The one year the date range covers exactly (what `year=YYYY` means), else null. */
export function selectedYear(f: SearchFilters): string | null {
  const m = /^(\d{4})-01-01$/.exec(f.dateFrom ?? '');
  return m && f.dateTo === `${m[1]}-12-31` ? m[1] : null;
}

/** The filters as URL parameters (`body`, `organisation`, `kind`, `year` or `from`/`to`, `decisions=1`), as parseFilters reads them. */
export function filterParams(f: SearchFilters): string[] {
  const params: string[] = [];
  const add = (k: string, v: string) => params.push(`${k}=${encodeURIComponent(v)}`);
  for (const b of f.body ?? []) add('body', b);
  for (const o of f.organisation ?? []) add('organisation', o);
  for (const k of f.kind ?? []) add('kind', k);
  const year = selectedYear(f);
  if (year) add('year', year);
  else {
    if (f.dateFrom) add('from', f.dateFrom);
    if (f.dateTo) add('to', f.dateTo);
  }
  if (f.decisionsOnly) params.push('decisions=1');
  return params;
}

/** The filters in words, for a line such as "Avgrenset til: Bydelsutvalget · 2024 · bare vedtak". */
export function filterLabels(f: SearchFilters): string[] {
  const out: string[] = [...(f.body ?? []), ...(f.organisation ?? []), ...(f.kind ?? []).map((k) => kindLabel(k) ?? k)];
  const year = selectedYear(f);
  if (year) out.push(year);
  else {
    if (f.dateFrom) out.push(`fra ${formatDate(f.dateFrom) ?? f.dateFrom}`);
    if (f.dateTo) out.push(`til ${formatDate(f.dateTo) ?? f.dateTo}`);
  }
  if (f.decisionsOnly) out.push('bare vedtak');
  return out;
}

/** `/documents/{id}?side={page}&q={q}#side-{page}`; side and anchor left out when page is null. */
export function documentUrl(id: string, page: number | null, q: string, chunkId?: string | null): string {
  const params: string[] = [];
  const p = page != null && Number.isInteger(page) && page > 0 ? page : null;
  if (p != null) params.push(`side=${p}`);
  if (q) params.push(`q=${encodeURIComponent(q)}`);
  // A cited passage is named by its chunk id (never by its text: document text stays out of URLs).
  if (chunkId) params.push(`kilde=${encodeURIComponent(chunkId)}`);
  const query = params.length ? `?${params.join('&')}` : '';
  return `/documents/${encodeURIComponent(id)}${query}${p != null ? `#side-${p}` : ''}`;
}

/** `/documents/{id}/file#page=N` (the #page fragment is understood by browsers' PDF viewers). */
export function fileUrl(id: string, page: number | null): string {
  const p = page != null && Number.isInteger(page) && page > 0 ? page : 1;
  return `/documents/${encodeURIComponent(id)}/file#page=${p}`;
}

/** Shorten snippet parts to about `max` characters, on a word boundary, keeping hit flags. */
export function truncateParts(parts: SnippetPart[], max: number): SnippetPart[] {
  const out: SnippetPart[] = [];
  let used = 0;
  for (const part of parts) {
    if (used >= max) break;
    const room = max - used;
    if (part.text.length <= room) {
      out.push(part);
      used += part.text.length;
      continue;
    }
    let cut = part.text.slice(0, room);
    const space = cut.lastIndexOf(' ');
    if (space > room * 0.5) cut = cut.slice(0, space);
    out.push({ text: cut.replace(/\s+$/, ''), hit: part.hit });
    out.push({ text: ' …', hit: false });
    used = max;
  }
  return out;
}
