/**
 * Prepared statements by their SQL, for code whose SQL varies with the query's shape (phrase
 * count, access clause, filters): prepared once, reused; the cache is emptied when it passes
 * `max` entries, so shapes never seen again do not pile up.
 */
import type Database from 'better-sqlite3';

export function statementCache(db: Database.Database, max = 200): (sql: string) => Database.Statement {
  const stmts = new Map<string, Database.Statement>();
  return (sql) => {
    let s = stmts.get(sql);
    if (!s) {
      s = db.prepare(sql);
      if (stmts.size > max) stmts.clear();
      stmts.set(sql, s);
    }
    return s;
  };
}
