/**
 * The type of an agenda item and the outcome of its treatment.
 *
 * Type, from the prefix of the case number and the title:
 * - RS (referatsak) or a title "Referatsaker" / "Meldinger": 'referat'
 * - OS (orienteringssak), a title that starts or ends with "Orientering", an orienteringssak
 *   paper: 'orientering'
 * - a title with "Interpellasjon": 'interpellasjon'
 * - a title that starts with "Valg" / "Val av" / "Suppleringsvalg" / "Nyvalg": 'valg'
 * - "Eventuelt", FO (forespørsel) that is a question: 'annet'
 * - otherwise (PS, "Sak", a plain number): 'politisk sak'
 *
 * Outcome, from the decision text (and the votes when there is no decision):
 * - 'utsatt': the decision defers the case or sends it back ("Saken utsettes", "Saken sendes
 *   tilbake til administrasjonen", nynorsk "Saka vert utsett", "sendast attende")
 * - 'tatt til orientering': a decision without numbered points whose first sentence takes the
 *   matter to orientation ("Referatsakene tas til orientering.", "Kommunestyret tar ... til
 *   orientering", "Orienteringen tas til orientering. Komiteen ber om ..."); a numbered decision
 *   whose point 1 takes a report to orientation and point 2 decides more is 'vedtatt'
 * - 'avvist': the decision rejects ("Forslaget/Innstillingen falt", "... avvises"), or there is no
 *   decision and the votes show the item's proposal fell
 * - 'vedtatt': any other decision
 * - null: no decision and no vote (an orienteringssak paper, a saksliste entry, Eventuelt)
 */
import type { AgendaItemType, Outcome, Votes } from '../../indexes/protocol-types.ts';

export function itemType(prefix: string | null, title: string | null, hint = ''): AgendaItemType {
  const p = (prefix ?? '').toUpperCase();
  const t = (title ?? '').trim();
  if (p === 'RS' || /^(?:referatsak(?:er)?|referater|meldinger|meldingssaker|delegerte vedtak)\b/i.test(t)) return 'referat';
  if (/interpellasjon/i.test(t)) return 'interpellasjon';
  if (p === 'OS' || /^orientering(?:ssak)?\b|[-–:]\s*orientering$|\borienteringssak\b/i.test(t) || /\borienteringssak\b/i.test(hint)) return 'orientering';
  if (/^(?:valg|val|suppleringsvalg|nyvalg|supplerings?val|nyval)\b/i.test(t)) return 'valg';
  if (/^eventuelt$/i.test(t) || p === 'FO') return 'annet';
  return 'politisk sak';
}

const DEFERRED =
  /^(?:saken|saka|sakene|saka\/sakene)\b[^.]{0,80}?\b(?:utsettes|utsatt|utsett|vert utsett|blir utsatt|sendes tilbake|sendast attende|sendes i retur|sendes ut på ny|trekkes|trekt)\b/iu;
const TO_ORIENTATION = /\btil\s+(?:orientering|etterretning|vitande)\b/iu;
const REJECTED =
  /^(?:forslaget|innstillingen|innstillinga|tilrådinga|søknaden)\s+(?:falt|fall|avvises|avvist|vert avvist|ble ikke vedtatt|vart ikkje vedteke)\b/iu;

export function itemOutcome(decision: string | null, votes: Votes | null): Outcome | null {
  if (decision) {
    const d = decision.replace(/\s+/g, ' ').trim();
    if (DEFERRED.test(d)) return 'utsatt';
    if (REJECTED.test(d)) return 'avvist';
    // Numbered points: "1. ...", "1.Delårsrapport ..." (no space, as some exports print them), "a) ...".
    const points = decision.split('\n').filter((l) => /^\s*(?:\d{1,2}[.)]|[a-z][.)]|[-•–])\s?\S/u.test(l)).length;
    const first = d.split(/(?<=[.!?])\s+(?=\p{Lu})/u)[0];
    if (points <= 1 && TO_ORIENTATION.test(first)) return 'tatt til orientering';
    return 'vedtatt';
  }
  if (!votes) return null;
  if (votes.ballots.length > 0 && votes.ballots.every((b) => b.adopted === false)) return 'avvist';
  if (votes.ballots.some((b) => b.adopted === true)) return 'vedtatt';
  return null;
}
