import { createRequire } from 'node:module';
import pg from 'pg';
import { afterEach, describe, expect, it } from 'vitest';
import * as esmKysely from 'kysely';
import type { Database, Db } from '../../../db';
import { dialectOf, tagDialect } from '../../../db/dialect';
import { inIdList, idTable } from '../../../db/queries/id-list';
import { recipientsOf } from '../../../db/queries/mail';
import { cliActor } from '../../../lib/admin/actor';
import { createUser } from '../../../lib/admin/users';
import { systemClock } from '../../../lib/clock';
import { dialects, freshDb } from '../support/dialects';

/**
 * The production build puts kysely in several chunks, so the handle the app
 * opens was made by one copy of kysely's classes while db/queries compared it against
 * another's (`adapter instanceof PostgresAdapter`), and sent SQLite's SQL to PostgreSQL.
 *
 * Here the second copy is real: vitest loads `kysely` for our modules from its ES build,
 * and `require('kysely')` loads the CommonJS build, a separate set of classes. A handle
 * made from that copy is what a handle from another chunk looks like to db/queries.
 */
const cjsKysely = createRequire(import.meta.url)('kysely') as typeof esmKysely;

/** A handle from the other copy of kysely that compiles but never runs. */
function otherCopyCompileOnly(dialect: 'sqlite' | 'postgres') {
  const k = cjsKysely;
  return new k.Kysely<Database>({
    dialect: {
      createAdapter: () => (dialect === 'postgres' ? new k.PostgresAdapter() : new k.SqliteAdapter()),
      createDriver: () => new k.DummyDriver(),
      createIntrospector: (db) => (dialect === 'postgres' ? new k.PostgresIntrospector(db) : new k.SqliteIntrospector(db)),
      createQueryCompiler: () => (dialect === 'postgres' ? new k.PostgresQueryCompiler() : new k.SqliteQueryCompiler()),
    },
  });
}

describe('the dialect of a handle from another copy of kysely', () => {
  it('is really another copy: its adapter fails our copy’s instanceof', () => {
    expect(cjsKysely.PostgresAdapter).not.toBe(esmKysely.PostgresAdapter);
    expect(otherCopyCompileOnly('postgres').getExecutor().adapter instanceof esmKysely.PostgresAdapter).toBe(false);
  });

  it('gets PostgreSQL’s id lists (unnest of a text[]) when tagged postgres, SQLite’s (json_each) when tagged sqlite', () => {
    const pgHandle = tagDialect(otherCopyCompileOnly('postgres'), 'postgres');
    const liteHandle = tagDialect(otherCopyCompileOnly('sqlite'), 'sqlite');
    const compiled = (h: esmKysely.Kysely<Database>) => h.selectFrom('users').select('id').where(inIdList(h, 'users.id', ['a', 'b'])).compile();
    expect(compiled(pgHandle).sql).toContain('unnest(cast($1 as text[]))');
    expect(compiled(pgHandle).sql).not.toContain('json_each');
    expect(compiled(liteHandle).sql).toContain('json_each(?)');
    expect(pgHandle.selectFrom(idTable(pgHandle, ['a'])).selectAll().compile().sql).toContain('with ordinality');
  });

  it('is refused, not guessed, on a handle nobody tagged', () => {
    expect(() => dialectOf(otherCopyCompileOnly('postgres'))).toThrow(/without a dialect tag/);
  });
});

describe.each(dialects)('a createDb() handle on %s', (dialect) => {
  let db: Db | undefined;
  let other: esmKysely.Kysely<Database> | undefined;
  afterEach(async () => {
    await other?.destroy();
    other = undefined;
    await db?.close();
    db = undefined;
  });

  it('names its dialect, and so do its transactions and plugin copies', async () => {
    db = await freshDb(dialect);
    expect(dialectOf(db.kysely)).toBe(dialect);
    expect(await db.kysely.transaction().execute(async (trx) => dialectOf(trx))).toBe(dialect);
    expect(dialectOf(db.kysely.withPlugin(new esmKysely.CamelCasePlugin()))).toBe(dialect);
  });

  it.runIf(dialect === 'postgres')('runs the bulk queries on PostgreSQL through a handle from the other copy of kysely', async () => {
    db = await freshDb(dialect);
    const alice = await createUser(db.kysely, { username: 'alice', email: 'alice@example.test', password: 'correct horse battery staple' }, cliActor, systemClock);
    // The same database through the other copy's PostgresDialect, tagged as createDb() tags.
    const pool = new pg.Pool({ connectionString: await currentDatabaseUrl(db), max: 2 });
    other = tagDialect(new cjsKysely.Kysely<Database>({ dialect: new cjsKysely.PostgresDialect({ pool }) }), 'postgres');
    const found = await recipientsOf(other, [alice.id, 'nobody']);
    expect([...found.keys()]).toEqual([alice.id]);
    expect(await other.transaction().execute((trx) => recipientsOf(trx, [alice.id]))).toHaveProperty('size', 1);
  });
});

/** The URL of the database `db` is connected to (freshDb() makes a new one per test). */
async function currentDatabaseUrl(db: Db): Promise<string> {
  const { rows } = await esmKysely.sql<{ name: string }>`select current_database() as name`.execute(db.kysely);
  const url = new URL(process.env.TEST_POSTGRES_URL!);
  url.pathname = `/${rows[0]!.name}`;
  return url.toString();
}
