import { describe, expect, it } from 'vitest';
import { DummyDriver, Kysely, PostgresAdapter, PostgresIntrospector, PostgresQueryCompiler, SqliteAdapter, SqliteIntrospector, SqliteQueryCompiler, sql } from 'kysely';
import type { Database } from '@/db';
import { compiledPerHandle } from '@/db/statement-cache';

/** Handles that compile but never run (Kysely's DummyDriver). */
function compileOnly(adapter: () => SqliteAdapter | PostgresAdapter, introspector: typeof SqliteIntrospector | typeof PostgresIntrospector, compiler: () => SqliteQueryCompiler | PostgresQueryCompiler) {
  return () =>
    new Kysely<Database>({
      dialect: {
        createAdapter: adapter,
        createDriver: () => new DummyDriver(),
        createIntrospector: (db) => new introspector(db),
        createQueryCompiler: compiler,
      },
    });
}
const sqlite = compileOnly(() => new SqliteAdapter(), SqliteIntrospector, () => new SqliteQueryCompiler());
const postgres = compileOnly(() => new PostgresAdapter(), PostgresIntrospector, () => new PostgresQueryCompiler());

describe('compiledPerHandle: a query compiled once per database handle', () => {
  it('builds once per handle and puts each call’s values where the arguments were', () => {
    let builds = 0;
    const query = compiledPerHandle(2, (db: Kysely<Database>, id: string, step: number) => {
      builds++;
      return db.updateTable('factors').set({ last_used_step: step }).where('id', '=', id).where('type', '=', 'totp').where('last_used_step', '<', step);
    });
    for (const [make, text] of [
      [sqlite, 'update "factors" set "last_used_step" = ? where "id" = ? and "type" = ? and "last_used_step" < ?'],
      [postgres, 'update "factors" set "last_used_step" = $1 where "id" = $2 and "type" = $3 and "last_used_step" < $4'],
    ] as const) {
      const db = make();
      const before = builds;
      const a = query(db, 'factor-a', 7);
      const b = query(db, 'factor-b', 8);
      expect(builds - before).toBe(1);
      expect(a.sql).toBe(text);
      expect(a.parameters).toEqual([7, 'factor-a', 'totp', 7]);
      expect(b.parameters).toEqual([8, 'factor-b', 'totp', 8]);
      // The same as compiling the query anew.
      expect(b.sql).toBe(db.updateTable('factors').set({ last_used_step: 8 }).where('id', '=', 'factor-b').where('type', '=', 'totp').where('last_used_step', '<', 8).compile().sql);
    }
    // Another database compiles its own.
    query(sqlite(), 'x', 1);
    expect(builds).toBe(3);
  });

  it("shares a handle's copy with the transactions opened on it, but not with a plugin's view of it", async () => {
    let builds = 0;
    const query = compiledPerHandle(1, (db: Kysely<Database>, id: string) => {
      builds++;
      return db.selectFrom('factors').select('id').where('id', '=', id);
    });
    const db = sqlite();
    query(db, 'outside');
    await db.transaction().execute(async (trx) => {
      expect(query(trx, 'inside').parameters).toEqual(['inside']);
    });
    await db.transaction().execute(async (trx) => {
      query(trx, 'again');
    });
    expect(builds).toBe(1);
    // A plugin may rewrite what is compiled, so that view of the handle builds every time.
    const withPlugin = db.withPlugin({ transformQuery: (args) => args.node, transformResult: async (args) => args.result });
    query(withPlugin, 'a');
    query(withPlugin, 'b');
    expect(builds).toBe(3);
  });

  it('refuses a query that inlines an argument or leaves one out', () => {
    const inlined = compiledPerHandle(1, (db: Kysely<Database>, id: string) => db.selectFrom('factors').select('id').where('id', '=', sql.lit(id)));
    expect(() => inlined(sqlite(), 'x')).toThrow(/not a parameter/);
    const unused = compiledPerHandle(2, (db: Kysely<Database>, id: string, _other: string) => db.selectFrom('factors').select('id').where('id', '=', id));
    expect(() => unused(sqlite(), 'x', 'y')).toThrow(/argument 1 is not a parameter/);
  });
});
