/**
 * Readiness as a pure function of what the probes found (./probe.ts gathers them). A load
 * balancer sends traffic to an instance only while this says ready.
 *
 * The answer names a reason from a fixed list and nothing else: no versions, no
 * configuration, no driver error text (the probe logs that).
 */

export type NotReadyReason = 'shutting_down' | 'starting' | 'database' | 'migrations' | 'mail_worker';

export interface ReadinessFacts {
  /** The server is draining before it stops (graceful shutdown): new traffic should go elsewhere. */
  shuttingDown: boolean;
  /** The database answered the probe within its deadline. */
  database: 'ok' | 'down';
  /**
   * Migrations the code has that the database has not recorded (null when the database did
   * not answer). Recorded ones the code does not know are a newer version's, during a
   * rolling update: not a reason to stop serving.
   */
  missingMigrations: number | null;
  /**
   * The mail worker running in this process, null when none does (PORTCULLIS_DISABLE_WORKER=1):
   * how long ago its last round finished, or since it started when none has yet (ms).
   */
  mailWorker: { sinceLastRoundMs: number } | null;
}

/** A round is every 2 s; one that sends a long queue takes longer. Past this, the worker is stuck. */
export const defaultMailWorkerStaleMs = 5 * 60_000;

export type Readiness = { ready: true } | { ready: false; reason: NotReadyReason };

export function readiness(facts: ReadinessFacts, options: { mailWorkerStaleMs?: number } = {}): Readiness {
  const staleMs = options.mailWorkerStaleMs ?? defaultMailWorkerStaleMs;
  if (facts.shuttingDown) return { ready: false, reason: 'shutting_down' };
  if (facts.database !== 'ok') return { ready: false, reason: 'database' };
  if (facts.missingMigrations === null || facts.missingMigrations > 0) return { ready: false, reason: 'migrations' };
  if (facts.mailWorker && facts.mailWorker.sinceLastRoundMs > staleMs) return { ready: false, reason: 'mail_worker' };
  return { ready: true };
}

/** The HTTP answer for a readiness: 200 `{"status":"ok"}` or 503 with the reason. */
export function readinessAnswer(result: Readiness): { status: number; body: string } {
  return result.ready
    ? { status: 200, body: JSON.stringify({ status: 'ok' }) }
    : { status: 503, body: JSON.stringify({ status: 'unavailable', reason: result.reason }) };
}
