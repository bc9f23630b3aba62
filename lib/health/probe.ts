/**
 * The readiness probes, the I/O half of ./readiness.ts: one statement against the database
 * (the migrations it recorded, which also shows that it answers), under a deadline so a
 * hung database gives "not ready" rather than a hung probe; the mail worker's last round
 * from memory. What went wrong is logged here, once per change, never put in the answer.
 */
import { sql } from 'kysely';
import type { Logger } from 'pino';
import type { Db } from '../../db';
import { migrations } from '../../db/migrations';
import { log as serverLog } from '../log';
import { readiness, readinessAnswer, type NotReadyReason, type ReadinessFacts } from './readiness';

/** Long enough for a busy database, short against a load balancer's probe timeout (often 1–5 s). */
export const defaultProbeTimeoutMs = 2_000;

export interface ReadinessDeps {
  /** The database to probe (the server's getDb(); it opens and migrates on first use). */
  db: () => Promise<Db>;
  /** The mail worker in this process, or null/undefined when it runs elsewhere. */
  mailWorker: () => { lastRoundAt(): number } | null | undefined;
  /** Whether the server is draining (graceful shutdown). */
  shuttingDown: () => boolean;
  /** @default defaultProbeTimeoutMs */
  timeoutMs?: number;
  /** @default readiness.ts defaultMailWorkerStaleMs */
  mailWorkerStaleMs?: number;
  /** @default the server's logger */
  log?: Pick<Logger, 'warn' | 'info'>;
}

class ProbeTimeout extends Error {
  constructor(ms: number) {
    super(`the database did not answer within ${ms} ms`);
  }
}

/** `promise`, or a ProbeTimeout after `ms`; a late answer or failure is dropped. */
async function within<T>(promise: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  promise.catch(() => undefined);
  try {
    return await Promise.race([promise, new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new ProbeTimeout(ms)), ms)))]);
  } finally {
    clearTimeout(timer);
  }
}

/** "no such table" on either dialect (SQLite's message, PostgreSQL's SQLSTATE 42P01). */
function isMissingTable(err: unknown): boolean {
  const e = err as { code?: unknown; message?: unknown } | null;
  return e?.code === '42P01' || (typeof e?.message === 'string' && e.message.startsWith('no such table'));
}

/** The migrations the database recorded (kysely's table); none when it has no such table yet. */
async function recordedMigrations(db: Db): Promise<Set<string>> {
  try {
    const { rows } = await sql<{ name: string }>`select name from kysely_migration`.execute(db.kysely);
    return new Set(rows.map((r) => r.name));
  } catch (err) {
    if (isMissingTable(err)) return new Set();
    throw err;
  }
}

/** How many of the code's migrations the database has not recorded. */
async function missingMigrationCount(open: () => Promise<Db>): Promise<number> {
  const db = await open();
  const recorded = await recordedMigrations(db);
  return Object.keys(migrations(db.dialect)).filter((name) => !recorded.has(name)).length;
}

/** What the probes found now. */
export async function readinessFacts(deps: ReadinessDeps, onDatabaseError: (err: unknown) => void = () => undefined): Promise<ReadinessFacts> {
  const worker = deps.mailWorker() ?? null;
  const mailWorker = worker ? { sinceLastRoundMs: Math.max(0, performance.now() - worker.lastRoundAt()) } : null;
  // Not probed while draining: the answer is 503 whatever the database says.
  if (deps.shuttingDown()) return { shuttingDown: true, database: 'ok', missingMigrations: 0, mailWorker };
  try {
    const missing = await within(missingMigrationCount(deps.db), deps.timeoutMs ?? defaultProbeTimeoutMs);
    return { shuttingDown: false, database: 'ok', missingMigrations: missing, mailWorker };
  } catch (err) {
    onDatabaseError(err);
    return { shuttingDown: false, database: 'down', missingMigrations: null, mailWorker };
  }
}

export interface ReadinessCheckAnswer {
  status: number;
  body: string;
}

/**
 * The /readyz check: probes, decides, answers. A reason is logged when it first appears
 * (with the driver's error for the database), and recovery once: probes come every few
 * seconds, and an outage must not flood the log.
 */
export function createReadinessCheck(deps: ReadinessDeps): () => Promise<ReadinessCheckAnswer> {
  const log = deps.log ?? serverLog;
  let lastReason: NotReadyReason | 'ok' = 'ok';
  return async function readinessCheck(): Promise<ReadinessCheckAnswer> {
    let databaseError: unknown;
    const facts = await readinessFacts(deps, (err) => (databaseError = err));
    const result = readiness(facts, { mailWorkerStaleMs: deps.mailWorkerStaleMs });
    const reason = result.ready ? 'ok' : result.reason;
    if (reason !== lastReason) {
      if (reason === 'ok') log.info(`readiness: ready again (was: ${lastReason})`);
      else if (reason === 'database') log.warn({ err: databaseError }, 'readiness: the database did not answer');
      else if (reason === 'migrations') log.warn(`readiness: the database lacks ${facts.missingMigrations} of this version's migrations`);
      else if (reason === 'mail_worker') log.warn(`readiness: the mail worker has not finished a round in ${Math.round(facts.mailWorker!.sinceLastRoundMs / 1000)} s`);
      lastReason = reason;
    }
    return readinessAnswer(result);
  };
}
