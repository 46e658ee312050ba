/**
 * The access filter of the Elasticsearch backend: the ONE place where a reader scope
 * (indexes/access.ts) becomes Elasticsearch. Two parts, both applied to every read:
 * - which chunk indices to search (readableScopes): a caller's statistics come from exactly
 *   the documents it may read;
 * - a filter clause inside the query (accessFilter), on every index, chunks or not: the
 *   security boundary does not rest on index names alone.
 */
import type { ReaderScope } from '../access.ts';
import type { Query } from './query.ts';

/** One chunk index as the cluster has it: its scope name and the readers its _meta records. */
export interface ChunkScope {
  scope: string;
  access: 'public' | 'internal' | 'protected';
  groups: string[];
}

/** The chunk indices a reader may search. */
export function readableScopes(reader: ReaderScope, scopes: ChunkScope[]): ChunkScope[] {
  if (reader.all) return scopes;
  return scopes.filter(
    (s) =>
      s.access === 'public' || (s.access === 'internal' && reader.internal) || (s.access === 'protected' && s.groups.some((g) => reader.groups.includes(g))),
  );
}

/** The same rights as a filter clause on `access` and `groups` (null: everything). */
export function accessFilter(reader: ReaderScope): Query | null {
  if (reader.all) return null;
  const should: Query[] = [{ term: { access: 'public' } }];
  if (reader.internal) should.push({ term: { access: 'internal' } });
  if (reader.groups.length) should.push({ bool: { filter: [{ term: { access: 'protected' } }, { terms: { groups: reader.groups } }] } });
  return { bool: { should, minimum_should_match: 1 } };
}
