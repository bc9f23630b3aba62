import type { Database as SqliteDatabase, Statement } from 'better-sqlite3';
import type { Compilable, CompiledQuery, Kysely } from 'kysely';

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

/**
 * A query built and compiled once per database handle, then run with each call's values.
 * Building and compiling a Kysely query costs more than SQLite needs to run most of ours;
 * for the few on hot paths (a TOTP sign-in) this skips both.
 *
 * `build` is called once per handle with placeholder values (marker strings) in place of
 * the arguments; their positions among the compiled parameters are noted, and each call
 * passes its own values there. So `build` must give every call the same SQL: no branching
 * on an argument, no argument inlined as a literal (checked: each placeholder must come
 * out as a parameter, and nothing else may look like one). A handle's transactions share
 * its compiled copy (see compileKeyOf).
 */
export function compiledPerHandle<DB, Args extends unknown[], Row>(
  arity: Args['length'],
  build: (db: Kysely<DB>, ...args: Args) => Compilable<Row>,
): (db: Kysely<DB>, ...args: Args) => CompiledQuery<Row> {
  const compiled = new WeakMap<object, { query: CompiledQuery<Row>; slots: (number | { value: unknown })[] }>();
  return (db, ...args) => {
    const key = compileKeyOf(db);
    let entry = key ? compiled.get(key) : undefined;
    if (!entry) {
      const markers = Array.from({ length: arity }, (_, i) => `\u0000portcullis-arg-${i}\u0000`);
      const query = build(db, ...(markers as Args)).compile();
      const slots = query.parameters.map((p) => {
        const i = typeof p === 'string' ? markers.indexOf(p) : -1;
        if (i === -1 && typeof p === 'string' && p.includes('\u0000portcullis-arg-')) throw new Error('compiledPerHandle: an argument was changed on its way into the query');
        return i === -1 ? { value: p } : i;
      });
      for (let i = 0; i < arity; i++) {
        if (!slots.includes(i)) throw new Error(`compiledPerHandle: argument ${i} is not a parameter of the compiled query`);
      }
      if (query.sql.includes('\u0000portcullis-arg-')) throw new Error('compiledPerHandle: an argument was inlined into the SQL text');
      entry = { query, slots };
      if (key) compiled.set(key, entry);
    }
    const { query, slots } = entry;
    return { ...query, parameters: slots.map((s) => (typeof s === 'number' ? args[s] : s.value)) };
  };
}

/**
 * What a compiled query may be shared by: the dialect adapter, which a Kysely handle and
 * every transaction opened on it have in common (a transaction is a new Kysely object, so
 * keying on the handle itself would compile again in every transaction). A handle with
 * plugins may rewrite queries, so it gets no sharing at all.
 */
function compileKeyOf<DB>(db: Kysely<DB>): object | null {
  const executor = db.getExecutor();
  return executor.plugins.length === 0 ? (executor.adapter as object) : null;
}
