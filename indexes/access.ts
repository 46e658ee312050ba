/**
 * What a principal may read, as a neutral value: the ONE place where a principal becomes
 * rights. Each backend translates it into its own filter, inside every query:
 * indexes/embedded/access.ts (SQL), indexes/elasticsearch/access.ts (the indices to search and
 * a bool filter).
 *
 * - admin: everything (the local operator on the command line);
 * - public: always;
 * - internal: when the principal is internal;
 * - protected: documents shared with one of the principal's groups.
 */
import type { AccessLevel, Principal } from './types.ts';

export interface ReaderScope {
  /** Reads everything (admin). */
  all: boolean;
  internal: boolean;
  /** Groups whose protected documents may be read: sorted, distinct, non-empty names. */
  groups: string[];
}

export function readerScope(principal: Principal): ReaderScope {
  if (!principal) throw new Error('A principal is required on every read');
  if (principal.admin) return { all: true, internal: true, groups: [] };
  const groups = [...new Set((principal.groups ?? []).filter((g) => typeof g === 'string' && g.length > 0))].sort();
  return { all: false, internal: !!principal.internal, groups };
}

/** Whether a document with this access and these groups is readable within `scope`. */
export function canRead(scope: ReaderScope, access: AccessLevel, groups: readonly string[]): boolean {
  if (scope.all || access === 'public') return true;
  if (access === 'internal') return scope.internal;
  return groups.some((g) => scope.groups.includes(g));
}

/**
 * What a principal may read, as a string: equal for two principals exactly when they read the
 * same documents (admin; internal; the set of groups). Caches key by it, so callers with the
 * same rights share entries and others never do.
 */
export function accessScope(principal: Principal): string {
  const s = readerScope(principal);
  if (s.all) return 'admin';
  return JSON.stringify({ internal: s.internal, groups: s.groups });
}
