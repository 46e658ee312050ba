/**
 * The nouns shared by ingestion, the stores and the server.
 *
 * Glossary (Norwegian domain words kept as they are):
 * - utvalg: a political body (bydelsutvalget, a committee, valgstyret). Stored as `body`.
 * - møteprotokoll / møtebok / saksprotokoll: minutes of a meeting or of one case.
 * - vedtak: a decision. saksnummer: a case number such as "Sak 45/24".
 * - innsiktsrapport / utredning: an insight report / a study.
 */

import type { ParsedQuery } from './analysis/query.ts';
import type { AgendaItem, Meeting, UnparsedSpan } from './protocol-types.ts';

/** The protocol structure in SILVER (meetings, agenda items, votes, decisions): see protocol-types.ts. */
export type { Meeting, UnparsedSpan };

/** Who may read a document. `protected` documents name the groups that may read them. */
export type AccessLevel = 'public' | 'internal' | 'protected';
export const ACCESS_LEVELS: readonly AccessLevel[] = ['public', 'internal', 'protected'];

/**
 * The caller of every read. There is no read path without one: the store turns it into a
 * filter inside each query (see indexes/access.ts).
 * - anonymous/public: public documents only;
 * - internal: public + internal;
 * - groups: additionally protected documents shared with one of these groups;
 * - admin: everything (the local operator on the command line).
 */
export interface Principal {
  id: string;
  internal: boolean;
  groups: string[];
  admin?: boolean;
}
export const PUBLIC_PRINCIPAL: Principal = Object.freeze({ id: 'anonymous', internal: false, groups: [] as string[] }) as Principal;
export const ADMIN_PRINCIPAL: Principal = Object.freeze({ id: 'admin', internal: true, groups: [] as string[], admin: true }) as Principal;

export type DocumentKind =
  | 'møteprotokoll'
  | 'saksprotokoll'
  | 'møtebok'
  | 'saksliste'
  | 'saksframlegg'
  | 'innsiktsrapport'
  | 'utredning'
  | 'rapport'
  | 'brev'
  | 'forskrift'
  | 'annet';

export type OrganisationType = 'kommune' | 'bydel' | 'fylkeskommune' | 'departement' | 'direktorat' | 'statlig' | 'helseforetak' | 'utenlandsk';

/** Who issued a document, by its proper name ("Bykle kommune", "Bydel Grünerløkka"). */
export interface Organisation {
  name: string;
  type: OrganisationType;
}

/** One page of extracted text. `num` is the 1-based PDF page, or null for non-paged text. */
export interface PageText {
  num: number | null;
  text: string;
  /** Read by OCR (silver only): Tesseract's mean word confidence 0-100, `low` below the floor. */
  ocr?: { confidence: number | null; low?: boolean };
}

/** SILVER: the structured document, re-derivable from bronze. */
export interface SilverDocument {
  id: string;
  sha256: string;
  source: string; // base name of the ingested file
  mediaType: string; // application/pdf, text/plain, text/markdown, text/html
  title: string;
  /** The issuing organisation (kommune, bydel, fylkeskommune, …); null when the document does not say. Absent in silver written before it existed. */
  organisation?: Organisation | null;
  kind: DocumentKind;
  body: string | null; // utvalg
  date: string | null; // YYYY-MM-DD
  caseNumbers: string[];
  access: AccessLevel;
  groups: string[];
  pages: PageText[];
  paged: boolean;
  extraction: { method: string; warnings: string[] };
  ingestedAt: string;
  /** Protocols only (møteprotokoll, møtebok, saksprotokoll, saksliste, saksframlegg): what the parser read. */
  meetings?: Meeting[];
  /** Protocols only: page ranges the parser could not read as agenda items (still searchable). */
  unparsed?: UnparsedSpan[];
}

/** GOLD: one searchable piece of a document. */
export interface Chunk {
  id: string; // `${documentId}:${ord}`
  documentId: string;
  ord: number;
  heading: string | null;
  text: string; // original text, for snippets
  pageStart: number | null;
  pageEnd: number | null;
  /** Where a new page starts inside `text` (offset into text), so a snippet can name its page. */
  pageBreaks: { offset: number; page: number }[];
  // Protocol context (ingest/protocol/chunks.ts), absent for other documents. The store does
  // not keep these yet; the case number and item title are in `heading`, so they are searchable.
  /** Index into SilverDocument.meetings, and that meeting's body (utvalg) and date. */
  meetingIndex?: number | null;
  meetingBody?: string | null;
  meetingDate?: string | null;
  /** Index into the meeting's agendaItems, the case number as written and normalised ("2024/45"), the item title. */
  itemIndex?: number | null;
  caseId?: string | null;
  caseIdNormalized?: string | null;
  itemTitle?: string | null;
  /** The chunk is (part of) the item's decision (vedtak). */
  isDecision?: boolean;
}

export type SearchMode = 'hybrid' | 'bm25' | 'vector';

export interface SearchFilters {
  kind?: string[];
  body?: string[];
  /** The issuing organisation by name ("Bydel Grünerløkka", "Bykle kommune"). */
  organisation?: string[];
  dateFrom?: string; // YYYY-MM-DD
  dateTo?: string;
  documentId?: string;
  /** Only chunks that are (part of) a decision (vedtak) of an agenda item. */
  decisionsOnly?: boolean;
}

export interface SearchRequest {
  query: string;
  mode?: SearchMode;
  limit?: number;
  offset?: number;
  filters?: SearchFilters;
  principal: Principal;
  /** The query already parsed with the store's vocabulary (parseFor), to parse it only once. */
  parsed?: ParsedQuery;
}

/** A piece of a snippet; `hit` marks text that matched the query. */
export interface SnippetPart {
  text: string;
  hit: boolean;
}

export interface SearchHit {
  documentId: string;
  chunkId: string;
  title: string;
  source: string;
  /** The issuing organisation ("Bykle kommune"), null when unknown. */
  organisation: string | null;
  kind: string;
  body: string | null;
  date: string | null;
  access: AccessLevel;
  pageStart: number | null;
  pageEnd: number | null;
  /** The page the snippet was taken from (the page to open). */
  page: number | null;
  score: number;
  snippet: string;
  snippetParts: SnippetPart[];
  heading: string | null;
  /** For protocol chunks: the agenda item (case id, outcome, vote) the chunk belongs to. */
  item?: ItemAtAGlance;
  /** The whole chunk text and where its pages start (for answers; not in the search JSON). */
  text?: string;
  pageBreaks?: { offset: number; page: number }[];
}

/** A protocol chunk's agenda item at a glance, for results that show case, outcome and vote. */
export interface ItemAtAGlance {
  caseId: string | null;
  caseIdNormalized: string | null;
  itemTitle: string | null;
  isDecision: boolean;
  outcome: string | null;
  votes: { for: number | null; against: number | null; unanimous: boolean } | null;
  meetingIndex: number | null;
}

export interface SearchResponse {
  query: string;
  mode: SearchMode;
  tookMs: number;
  total: number;
  /** 'gte' when total is a lower bound (the store stopped counting). */
  totalRelation: 'eq' | 'gte';
  results: SearchHit[];
  /** The query as this search parsed it. */
  parsed?: ParsedQuery;
}

export interface DocumentSummary {
  id: string;
  title: string;
  source: string;
  organisation: string | null;
  kind: string;
  body: string | null;
  date: string | null;
  access: AccessLevel;
  pageCount: number;
  chunkCount: number;
}

/** How many matching documents carry one value of a facet. */
export interface FacetValue {
  value: string;
  count: number;
}

/** Facet counts of a query: matching documents per body (utvalg), year and kind. */
export interface Facets {
  body: FacetValue[];
  organisation: FacetValue[];
  year: FacetValue[];
  kind: FacetValue[];
  /** Matching documents with a matching decision (vedtak) chunk. */
  decisions: number;
}

/** A meeting of one protocol document (the document page's "Møte: …" links). */
export interface DocumentMeeting {
  /** Index into the document's meetings (the `/moter/:id/:idx` route). */
  index: number;
  body: string | null;
  date: string | null;
  /** Number of agenda items. */
  items: number;
}

/** One meeting with its agenda. */
export interface MeetingView {
  documentId: string;
  index: number;
  title: string;
  source: string;
  access: AccessLevel;
  meeting: Meeting;
}

/** One step of a case followed across meetings and bodies (committee, then BU, then bystyret). */
export interface CaseStep {
  documentId: string;
  meetingIndex: number;
  title: string;
  body: string | null;
  date: string | null;
  item: AgendaItem;
}

/** A body's meeting in its list of meetings. */
export interface BodyMeeting {
  documentId: string;
  index: number;
  date: string | null;
  title: string;
  items: number;
  decisions: number;
}
