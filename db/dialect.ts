import type { DialectName } from './url';

/**
 * Which SQL dialect a Kysely handle speaks, from a tag createDb() puts on it, never from
 * `adapter instanceof PostgresAdapter`: the production build puts kysely in several chunks,
 * and a handle made in one chunk fails the `instanceof` of another's class, so PostgreSQL
 * was sent SQLite's SQL (`operator does not exist: text = json`).
 *
 * The tag is a `Symbol.for` key (one registry for every chunk and module copy) on the
 * handle's adapter: the handle, every transaction opened on it and every `withPlugin`/
 * `withSchema` copy share that adapter object, while each of them is a new Kysely object.
 */
export const dialectTag = Symbol.for('portcullis.db.dialect');

type Tagged = { [dialectTag]?: unknown };
/** A Kysely handle or transaction, of any schema (structurally, so any copy of kysely's types fits). */
type Handle = { getExecutor(): { readonly adapter: object } };

function isDialectName(value: unknown): value is DialectName {
  return value === 'sqlite' || value === 'postgres';
}

/** Marks `db` (and its adapter) as speaking `dialect`. Returns `db`. */
export function tagDialect<K extends Handle>(db: K, dialect: DialectName): K {
  for (const target of [db, db.getExecutor().adapter]) {
    Object.defineProperty(target, dialectTag, { value: dialect, enumerable: false, configurable: true });
  }
  return db;
}

/**
 * The dialect of a handle (or transaction) made by createDb() or tagged with tagDialect().
 * Throws on an untagged handle rather than guess: a guess is what sent SQLite's SQL to PostgreSQL.
 */
export function dialectOf(db: Handle): DialectName {
  const own = (db as unknown as Tagged)[dialectTag];
  if (isDialectName(own)) return own;
  const fromAdapter = (db.getExecutor().adapter as unknown as Tagged)[dialectTag];
  if (isDialectName(fromAdapter)) return fromAdapter;
  throw new Error('Kysely handle without a dialect tag: open it with createDb() or tag it with tagDialect()');
}

export const isPostgres = (db: Handle): boolean => dialectOf(db) === 'postgres';
