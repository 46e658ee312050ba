/**
 * The access filter of the embedded store: the ONE place where a reader scope (indexes/access.ts)
 * becomes SQL.
 * Every read (BM25 leg, vector leg, document, pages, file, listings, counts) appends this
 * condition inside its own query, so no row a caller may not read ever leaves SQLite.
 *
 * `d` must be the alias of the documents table in the calling query.
 */
import { readerScope } from '../access.ts';
import type { Principal } from '../types.ts';

export { accessScope } from '../access.ts';

export interface AccessClause {
  sql: string;
  params: Record<string, unknown>;
}

export function accessClause(principal: Principal): AccessClause {
  const scope = readerScope(principal);
  if (scope.all) return { sql: '1 = 1', params: {} };
  const parts = [`d.access = 'public'`];
  if (scope.internal) parts.push(`d.access = 'internal'`);
  const groups = scope.groups;
  if (groups.length > 0) {
    parts.push(`(d.access = 'protected' AND EXISTS (SELECT 1 FROM json_each(d.groups) dg WHERE dg.value IN (SELECT value FROM json_each(@acl_groups))))`);
  }
  return {
    sql: `(${parts.join(' OR ')})`,
    params: groups.length > 0 ? { acl_groups: JSON.stringify(groups) } : {},
  };
}
