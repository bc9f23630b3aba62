import type { Database as SqliteDatabase, Statement } from 'better-sqlite3';

const defaultCapacity = 500;

/**
 * Kysely's SQLite driver prepares every statement anew; preparing costs more than running
 * most of ours (the gate's lookup included). This hands Kysely a database whose prepare()
 * reuses statements by SQL text, least recently used out first. Safe because Kysely runs
 * them synchronously (all/run); a statement still being iterated is never handed out twice.
 */
export function withStatementCache(database: SqliteDatabase, capacity = defaultCapacity) {
  const cache = new Map<string, Statement>();
  return {
    close: () => database.close(),
    prepare(sql: string): Statement {
      const cached = cache.get(sql);
      if (cached && !cached.busy) {
        cache.delete(sql);
        cache.set(sql, cached);
        return cached;
      }
      const statement = database.prepare(sql);
      cache.set(sql, statement);
      if (cache.size > capacity) cache.delete(cache.keys().next().value!);
      return statement;
    },
  };
}
