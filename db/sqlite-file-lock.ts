import path from 'node:path';
import { CompiledQuery, SqliteDialect, type DatabaseConnection, type Driver, type SqliteDialectConfig, type TransactionSettings } from 'kysely';
import { processSingleton } from '../lib/process-singletons';

/** A FIFO async mutex: waiters get the lock in the order they asked for it. */
class AsyncMutex {
  #locked = false;
  readonly #waiting: (() => void)[] = [];

  lock(): Promise<void> {
    if (!this.#locked) {
      this.#locked = true;
      return Promise.resolve();
    }
    return new Promise((resolve) => this.#waiting.push(resolve));
  }

  unlock(): void {
    const next = this.#waiting.shift();
    if (next) next();
    else this.#locked = false;
  }
}

interface FileLock {
  mutex: AsyncMutex;
  handles: number;
}

// NOTE: one registry per process (lib/process-singletons.ts): middleware and pages are
// bundled apart, and both must queue on the same lock when they open the same file.
function registry(): Map<string, FileLock> {
  return processSingleton('sqlite-file-locks', () => new Map<string, FileLock>());
}

function retainLock(file: string): FileLock {
  const key = path.resolve(file);
  let lock = registry().get(key);
  if (!lock) {
    lock = { mutex: new AsyncMutex(), handles: 0 };
    registry().set(key, lock);
  }
  lock.handles++;
  return lock;
}

function releaseLock(file: string, lock: FileLock): void {
  lock.handles--;
  if (lock.handles === 0 && registry().get(path.resolve(file)) === lock) registry().delete(path.resolve(file));
}

/**
 * Kysely's SQLite driver queues queries on one connection per handle. Two handles on the
 * same file in one process (two "app instances" in a test, a CLI beside the server's
 * handle) would each block the event loop in SQLite's busy wait while the other holds a
 * write transaction open across an await, so neither could finish. This queues every
 * handle on the same file behind one process-wide lock, held for a statement or for a
 * whole transaction; separate processes still meet at SQLite's own file lock.
 */
class FileLockedDriver implements Driver {
  constructor(
    private readonly inner: Driver,
    private readonly file: string,
    private readonly lock: FileLock,
  ) {}

  init(): Promise<void> {
    return this.inner.init();
  }

  async acquireConnection(): Promise<DatabaseConnection> {
    await this.lock.mutex.lock();
    try {
      return await this.inner.acquireConnection();
    } catch (err) {
      this.lock.mutex.unlock();
      throw err;
    }
  }

  async releaseConnection(connection: DatabaseConnection): Promise<void> {
    try {
      await this.inner.releaseConnection(connection);
    } finally {
      this.lock.mutex.unlock();
    }
  }

  /**
   * BEGIN IMMEDIATE, not SQLite's default deferred BEGIN: a deferred transaction reads under
   * a snapshot and takes the write lock at its first write, and if another process (the CLI,
   * a test seeding the server's file) committed in between, that upgrade fails at once with
   * "database is locked": the busy timeout does not apply to it. Taking the write lock at
   * BEGIN waits out the other writer instead. Within this process the lock above already
   * serializes transactions, so this costs nothing here.
   */
  async beginTransaction(connection: DatabaseConnection, _settings: TransactionSettings): Promise<void> {
    await connection.executeQuery(CompiledQuery.raw('begin immediate'));
  }

  commitTransaction(connection: DatabaseConnection): Promise<void> {
    return this.inner.commitTransaction(connection);
  }

  rollbackTransaction(connection: DatabaseConnection): Promise<void> {
    return this.inner.rollbackTransaction(connection);
  }

  savepoint: Driver['savepoint'] = (connection, name, compile) => this.inner.savepoint!(connection, name, compile);
  rollbackToSavepoint: Driver['rollbackToSavepoint'] = (connection, name, compile) => this.inner.rollbackToSavepoint!(connection, name, compile);
  releaseSavepoint: Driver['releaseSavepoint'] = (connection, name, compile) => this.inner.releaseSavepoint!(connection, name, compile);

  async destroy(): Promise<void> {
    try {
      await this.inner.destroy();
    } finally {
      releaseLock(this.file, this.lock);
    }
  }
}

/** SQLite for `file`, with every handle on that file in this process queued on one lock. */
export class FileLockedSqliteDialect extends SqliteDialect {
  constructor(
    private readonly file: string,
    config: SqliteDialectConfig,
  ) {
    super(config);
  }

  override createDriver(): Driver {
    return new FileLockedDriver(super.createDriver(), this.file, retainLock(this.file));
  }
}

/**
 * Runs `fn` holding this process's lock on `file`, the one every kysely handle on it queues
 * on: a backup (db/backup.ts) in a process that also writes copies between that process's
 * transactions, never beside one held open across an await.
 */
export async function withSqliteFileLock<T>(file: string, fn: () => Promise<T>): Promise<T> {
  const lock = retainLock(file);
  await lock.mutex.lock();
  try {
    return await fn();
  } finally {
    lock.mutex.unlock();
    releaseLock(file, lock);
  }
}
