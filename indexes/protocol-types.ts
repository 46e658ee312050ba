/**
 * The structure of a protocol in SILVER: meetings, their agenda items, proposals, votes and
 * decisions, each with the pages it sits on. Produced by `parseProtocol` (ingest/protocol/index.ts)
 * from the extracted pages, so it is always re-derivable from bronze.
 *
 * Glossary (Norwegian domain words kept as they are; nynorsk in brackets):
 * - møteprotokoll / møtebok / saksprotokoll: minutes of a whole meeting / a case paper with the
 *   decisions of each body it passed (saksgang) / the minutes of one case.
 * - saksliste (sakliste): the list of agenda items at the top of a protocol or in a notice.
 * - sak, saksnummer: an agenda item and its number as the body writes it: "PS 6/26" (politisk
 *   sak), "RS 4/26" (referatsak), "FO 2/26" (forespørsel: interpellasjon or spørsmål), "OS"
 *   (orienteringssak), "Sak 45/24", "139/12". Number first, then the year (2 or 4 digits).
 * - arkivsak (arkivsaknr.): the case number in the archive, "Arkivsak 24/1234": year first. A
 *   different number from the saksnummer, kept in its own field.
 * - innstilling (tilråding), forslag til vedtak (framlegg til vedtak): the recommendation that is
 *   voted on. A committee's final "Komiteens innstilling" is that committee's decision.
 * - behandling (handsaming): the treatment of an item in the meeting.
 * - forslag (framlegg): a proposal made in the meeting.
 * - votering / avstemning (avrøysting): the vote. enstemmig (samrøystes): unanimous.
 *   "12 mot 3 stemmer (røyster)": 12 for, 3 against. "falt": was rejected.
 * - vedtak (vedtak, vedteke): the decision. inhabil: disqualified (conflict of interest).
 * - til stede / forfall / møtte for: present / sent apologies / attended in place of.
 *
 * Canonical case number (`caseIdNormalized`): "YYYY/N", the 4-digit year, a slash, the number
 * without leading zeros. "PS 6/26" -> "2026/6", "Sak 045/24" -> "2024/45", "sak 14/2026" ->
 * "2026/14", "139/12" -> "2012/139". A 2-digit year above 50 is 19xx, else 20xx: the same rule
 * as the search analysis (indexes/analysis caseNumberTokens, "sak45x2024"), tested to agree.
 * Archive numbers are written year first ("24/0298") and normalise to the same form ("2024/298").
 */

/** A page range (1-based PDF pages). Both null for unpaged text (.txt, .md). */
export interface PageSpan {
  pageStart: number | null;
  pageEnd: number | null;
}

export interface Attendee {
  name: string;
  /** As written: "leder", "nestleder", "medlem", "varamedlem", "ordfører" ... null when not said. */
  role: string | null;
  party: string | null;
  /** The member this person attended for (møtte for), when a substitute. */
  substituteFor: string | null;
}

export interface Absentee {
  name: string;
  party: string | null;
}

/** One vote as the protocol records it (one sentence or one roll call). */
export interface Ballot {
  /** What was voted on, as written: "Innstillingens punkt 4", "Forslaget fra H", "forslag 1". */
  subject: string | null;
  for: number | null;
  against: number | null;
  blank?: number;
  unanimous: boolean;
  /** true: adopted (vedtatt), false: rejected (falt, ikke vedtatt), null: not said. */
  adopted: boolean | null;
  text: string;
  rollCall?: { for: string[]; against: string[] };
  /** What the closing line adds: "med leders dobbeltstemme" (carried by the chair's casting vote). */
  note?: string;
}

/**
 * The votes on an item. `for`/`against` are those of the vote that carried the decision: the
 * first adopted ballot with a counted split, else the first adopted ballot with counts, else
 * null (e.g. "Enstemmig vedtatt" gives no numbers). `unanimous` is true when every adopted
 * ballot was unanimous (said so, or counted with nobody against); proposals that fell do not
 * make an adopted decision contested. `ballots` keeps every vote found, in order.
 */
export interface Votes {
  for: number | null;
  against: number | null;
  unanimous: boolean;
  blank?: number;
  /** The vote statements as written. */
  text: string;
  rollCall?: { for: string[]; against: string[] };
  ballots: Ballot[];
}

export interface Proposal {
  /** The person (or body, for an innstilling) who made it, when named. */
  by: string | null;
  party: string | null;
  text: string;
  /** 'innstilling': the recommendation the item came with; 'forslag': made in the meeting. */
  kind: 'innstilling' | 'forslag';
  /** "Forslag fra SV, Ap, R og MDG v/Ahmed Yusuf (SV)": the parties it was made for. */
  onBehalfOf?: string | null;
}

export interface ConflictOfInterest {
  name: string;
  party: string | null;
  text: string;
}

export type AgendaItemType = 'politisk sak' | 'orientering' | 'referat' | 'interpellasjon' | 'valg' | 'annet';
export type Outcome = 'vedtatt' | 'avvist' | 'utsatt' | 'tatt til orientering';

export interface AgendaItem {
  /** As written, with its prefix: "PS 6/26", "Sak 45/24", "sak 14/2026", "139/12". null: none (Eventuelt). */
  caseId: string | null;
  /** "YYYY/N" (see the glossary above), or null. */
  caseIdNormalized: string | null;
  /** "Arkivsak 24/1234" -> "24/1234" (as written, without the label). */
  archiveCaseId: string | null;
  archiveCaseIdNormalized: string | null;
  title: string | null;
  type: AgendaItemType;
  /** The behandling text (everything the protocol says happened in the meeting), or null. */
  treatment: string | null;
  proposals: Proposal[];
  votes: Votes | null;
  conflictsOfInterest: ConflictOfInterest[];
  /** The vedtak text as written (line breaks kept), or null when the item has none. */
  decision: string | null;
  outcome: Outcome | null;
  /** Every page the item covers, from its heading to its last line. Empty for unpaged text. */
  pages: number[];
  spans: {
    item: PageSpan;
    innstilling?: PageSpan;
    treatment?: PageSpan;
    votes?: PageSpan;
    decision?: PageSpan;
  };
}

/** A line of the saksliste as printed (items listed, treated here or not). */
export interface ListedItem {
  caseId: string;
  caseIdNormalized: string | null;
  title: string;
  page: number | null;
}

export interface Meeting {
  body: string | null;
  /** YYYY-MM-DD, or null when the document names no meeting date. */
  date: string | null;
  startTime: string | null;
  endTime: string | null;
  place: string | null;
  attendees: Attendee[];
  absent: Absentee[];
  /** The saksliste, when the document prints one. */
  saksliste?: ListedItem[];
  agendaItems: AgendaItem[];
}

/** Pages the parser could not read as agenda items; their text is still chunked and searchable. */
export interface UnparsedSpan {
  pageStart: number | null;
  pageEnd: number | null;
  reason: string;
}

/** What the parser adds to SILVER. */
export interface ProtocolStructure {
  meetings: Meeting[];
  unparsed: UnparsedSpan[];
}
