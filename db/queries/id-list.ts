import { sql, type Expression, type Kysely, type RawBuilder, type SqlBool } from 'kysely';
import { isPostgres } from '../dialect';
import type { Database } from '../schema';

/**
 * `column IN (ids)` as ONE bound parameter, however many ids: a JSON array read by
 * json_each() on SQLite, a text[] on PostgreSQL. Bulk changes stay a single set-based
 * statement instead of one per chunk of a parameter-limited IN list.
 */
export function inIdList(db: Kysely<Database>, column: string, ids: readonly string[]): Expression<SqlBool> {
  const ref = sql.ref(column);
  return isPostgres(db)
    ? // NOTE: `in (select unnest(…))`, not `= any(…)`: with thousands of ids PostgreSQL plans
      // `= any` as a parallel scan of the whole table (160 ms at 1,000,000 users, bench/admin.ts);
      // the unnest gives it a row count to plan index lookups from (40 ms).
      sql<SqlBool>`${ref} in (select unnest(cast(${[...ids]} as text[])))`
    : sql<SqlBool>`${ref} in (select value from json_each(${JSON.stringify(ids)}))`;
}

/**
 * The ids as a table `t(id, n)`, n their position, for `from idTable(…) join users on
 * users.id = t.id order by t.n`: one bound parameter, like inIdList(). Pass the ids sorted
 * and the lookups, index inserts and foreign-key checks of a bulk write walk each index in
 * key order instead of jumping to a random leaf per row: on PostgreSQL, 20% of a
 * 10,000-user bulk Require MFA (bench/admin.ts).
 */
export function idTable(db: Kysely<Database>, ids: readonly string[]) {
  return (
    isPostgres(db)
      ? sql<{ id: string; n: number }>`(select id, n from unnest(cast(${[...ids]} as text[])) with ordinality as u(id, n))`
      : sql<{ id: string; n: number }>`(select value as id, key as n from json_each(${JSON.stringify(ids)}))`
  ).as('t');
}

/**
 * Pairs (a text id and one value per id) as a subquery of columns `(id, v)`, from one bound
 * parameter per column, like inIdList(): a JSON array of pairs on SQLite, two arrays on
 * PostgreSQL (`pgType` the second one's element type). The caller names it: `${pairs} as t`.
 */
export function pairTable(
  db: Kysely<Database>,
  pairs: readonly (readonly [string, number | boolean])[],
  pgType: 'bigint' | 'boolean',
): RawBuilder<{ id: string; v: number | boolean }> {
  if (isPostgres(db)) {
    const ids = pairs.map((p) => p[0]);
    const values = pairs.map((p) => p[1]);
    return sql`(select id, v from unnest(cast(${ids} as text[]), cast(${values} as ${sql.raw(pgType)}[])) as u(id, v))`;
  }
  return sql`(select value ->> 0 as id, value ->> 1 as v from json_each(${JSON.stringify(pairs)}))`;
}
