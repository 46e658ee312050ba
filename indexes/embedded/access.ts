/**
 * The access filter of the embedded store: the ONE place where a principal becomes SQL.
 * Every read (BM25 leg, vector leg, document, pages, file, listings, counts) appends this
 * condition inside its own query, so no row a caller may not read ever leaves SQLite.
 *
 * `d` must be the alias of the documents table in the calling query.
 */
import type { Principal } from '../types.ts';

export interface AccessClause {
  sql: string;
  params: Record<string, unknown>;
}

export function accessClause(principal: Principal): AccessClause {
  if (!principal) throw new Error('A principal is required on every read');
  if (principal.admin) return { sql: '1 = 1', params: {} };
  const parts = [`d.access = 'public'`];
  if (principal.internal) parts.push(`d.access = 'internal'`);
  const groups = principal.groups.filter((g) => typeof g === 'string' && g.length > 0);
  if (groups.length > 0) {
    parts.push(
      `(d.access = 'protected' AND EXISTS (SELECT 1 FROM json_each(d.groups) dg WHERE dg.value IN (SELECT value FROM json_each(@acl_groups))))`,
    );
  }
  return {
    sql: `(${parts.join(' OR ')})`,
    params: groups.length > 0 ? { acl_groups: JSON.stringify(groups) } : {},
  };
}

/**
 * What a principal may read, as a string: equal for two principals exactly when
 * accessClause() gives them the same condition (admin; internal; the set of groups).
 * Caches key by it, so callers with the same rights share entries and others never do.
 */
export function accessScope(principal: Principal): string {
  if (!principal) throw new Error('A principal is required on every read');
  if (principal.admin) return 'admin';
  const groups = [...new Set(principal.groups.filter((g) => typeof g === 'string' && g.length > 0))].sort();
  return JSON.stringify({ internal: !!principal.internal, groups });
}
