import type { CompiledQuery, DatabaseConnection, Dialect, Driver, QueryResult } from 'kysely';
import type { DialectName } from './url';
import { countDatabaseError } from '../lib/metrics/record';

/**
 * Counts database failures for /metrics (portcullis_database_errors_total): a connection
 * that can't be had (`connect`), a statement that fails (`query`). Constraint violations
 * are not counted: the services expect them (a unique clash is how a second claim of the
 * same thing is told apart, db/queries/unique-violation.ts), and they say nothing about the
 * database's health.
 *
 * A wrapper around the dialect's driver, not kysely's `log` option: a log function makes
 * kysely call (and await) it after every successful statement too, on the gate's path.
 */
export function countingErrors(inner: Dialect, dialect: DialectName): Dialect {
  return {
    createAdapter: () => inner.createAdapter(),
    createQueryCompiler: () => inner.createQueryCompiler(),
    createIntrospector: (db) => inner.createIntrospector(db),
    createDriver: () => new CountingDriver(inner.createDriver(), dialect),
  };
}

/** SQLSTATE class 23 (PostgreSQL), SQLITE_CONSTRAINT_* (better-sqlite3): read from `code`, never by class. */
export function isConstraintViolation(err: unknown): boolean {
  const code = typeof err === 'object' && err !== null ? (err as { code?: unknown }).code : undefined;
  return typeof code === 'string' && (/^23[0-9A-Z]{3}$/.test(code) || code.startsWith('SQLITE_CONSTRAINT'));
}

class CountingDriver implements Driver {
  readonly #counted = new WeakSet<DatabaseConnection>();

  constructor(
    private readonly inner: Driver,
    private readonly dialect: DialectName,
  ) {}

  init(): Promise<void> {
    return this.inner.init();
  }

  async acquireConnection(): Promise<DatabaseConnection> {
    let connection: DatabaseConnection;
    try {
      connection = await this.inner.acquireConnection();
    } catch (err) {
      countDatabaseError(this.dialect, 'connect');
      throw err;
    }
    if (!this.#counted.has(connection)) {
      this.#counted.add(connection);
      const execute = connection.executeQuery.bind(connection);
      const dialect = this.dialect;
      const failed = (err: unknown): never => {
        if (!isConstraintViolation(err)) countDatabaseError(dialect, 'query');
        throw err;
      };
      // NOTE: patched once per pooled connection, as kysely's own query logging does. SQLite's
      // connection throws synchronously (better-sqlite3 is synchronous), PostgreSQL's rejects.
      connection.executeQuery = <R>(query: CompiledQuery) => {
        let running: Promise<QueryResult<R>>;
        try {
          running = execute<R>(query);
        } catch (err) {
          return failed(err);
        }
        return running.catch(failed);
      };
    }
    return connection;
  }

  beginTransaction: Driver['beginTransaction'] = (connection, settings) => this.inner.beginTransaction(connection, settings);
  commitTransaction: Driver['commitTransaction'] = (connection) => this.inner.commitTransaction(connection);
  rollbackTransaction: Driver['rollbackTransaction'] = (connection) => this.inner.rollbackTransaction(connection);
  releaseConnection: Driver['releaseConnection'] = (connection) => this.inner.releaseConnection(connection);
  savepoint: Driver['savepoint'] = (connection, name, compile) => this.inner.savepoint!(connection, name, compile);
  rollbackToSavepoint: Driver['rollbackToSavepoint'] = (connection, name, compile) => this.inner.rollbackToSavepoint!(connection, name, compile);
  releaseSavepoint: Driver['releaseSavepoint'] = (connection, name, compile) => this.inner.releaseSavepoint!(connection, name, compile);

  destroy(): Promise<void> {
    return this.inner.destroy();
  }
}
