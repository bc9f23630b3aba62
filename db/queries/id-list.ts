import { PostgresAdapter, sql, type Expression, type Kysely, type SqlBool } from 'kysely';
import type { Database } from '../schema';

/**
 * `column IN (ids)` as ONE bound parameter, however many ids: a JSON array read by
 * json_each() on SQLite, a text[] on PostgreSQL. Bulk changes stay a single set-based
 * statement instead of one per chunk of a parameter-limited IN list.
 */
export function inIdList(db: Kysely<Database>, column: string, ids: readonly string[]): Expression<SqlBool> {
  const ref = sql.ref(column);
  return db.getExecutor().adapter instanceof PostgresAdapter
    ? // NOTE: `in (select unnest(…))`, not `= any(…)`: with thousands of ids PostgreSQL plans
      // `= any` as a parallel scan of the whole table (160 ms at 1,000,000 users, bench/admin.ts);
      // the unnest gives it a row count to plan index lookups from (40 ms).
      sql<SqlBool>`${ref} in (select unnest(cast(${[...ids]} as text[])))`
    : sql<SqlBool>`${ref} in (select value from json_each(${JSON.stringify(ids)}))`;
}
