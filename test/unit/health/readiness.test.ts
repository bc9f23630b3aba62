import { describe, expect, it } from 'vitest';
import { defaultMailWorkerStaleMs, readiness, readinessAnswer, type ReadinessFacts } from '../../../lib/health/readiness';

/*
 * Readiness as a function of what the probes found: a load balancer sends sign-ins to this
 * instance only while it says ready.
 */
const healthy: ReadinessFacts = { shuttingDown: false, database: 'ok', missingMigrations: 0, mailWorker: { sinceLastRoundMs: 2_000 } };

describe('readiness', () => {
  it('is ready with the database answering, every migration recorded and a recent mail round', () => {
    expect(readiness(healthy)).toEqual({ ready: true });
    expect(readinessAnswer(readiness(healthy))).toEqual({ status: 200, body: '{"status":"ok"}' });
  });

  it('is ready without a mail worker in this process (PORTCULLIS_DISABLE_WORKER=1)', () => {
    expect(readiness({ ...healthy, mailWorker: null })).toEqual({ ready: true });
  });

  it('is not ready when the database does not answer', () => {
    const result = readiness({ ...healthy, database: 'down', missingMigrations: null });
    expect(result).toEqual({ ready: false, reason: 'database' });
    expect(readinessAnswer(result)).toEqual({ status: 503, body: '{"status":"unavailable","reason":"database"}' });
  });

  it('is not ready when the database lacks a migration of this version', () => {
    expect(readiness({ ...healthy, missingMigrations: 1 })).toEqual({ ready: false, reason: 'migrations' });
  });

  it('is not ready when the mail worker has not finished a round for too long, and says so', () => {
    expect(readiness({ ...healthy, mailWorker: { sinceLastRoundMs: defaultMailWorkerStaleMs } })).toEqual({ ready: true });
    expect(readiness({ ...healthy, mailWorker: { sinceLastRoundMs: defaultMailWorkerStaleMs + 1 } })).toEqual({ ready: false, reason: 'mail_worker' });
    expect(readiness({ ...healthy, mailWorker: { sinceLastRoundMs: 500 } }, { mailWorkerStaleMs: 100 })).toEqual({ ready: false, reason: 'mail_worker' });
  });

  it('is not ready while shutting down, whatever else holds: draining comes first', () => {
    expect(readiness({ ...healthy, shuttingDown: true })).toEqual({ ready: false, reason: 'shutting_down' });
    expect(readiness({ ...healthy, shuttingDown: true, database: 'down', missingMigrations: null })).toEqual({ ready: false, reason: 'shutting_down' });
  });

  it('names the database before migrations and the worker when several are wrong', () => {
    expect(readiness({ shuttingDown: false, database: 'down', missingMigrations: null, mailWorker: { sinceLastRoundMs: 1e9 } })).toEqual({ ready: false, reason: 'database' });
    expect(readiness({ ...healthy, missingMigrations: 3, mailWorker: { sinceLastRoundMs: 1e9 } })).toEqual({ ready: false, reason: 'migrations' });
  });

  it('answers a fixed shape: a status and at most a reason, nothing else', () => {
    for (const facts of [healthy, { ...healthy, database: 'down' as const, missingMigrations: null }, { ...healthy, missingMigrations: 2 }]) {
      const body = JSON.parse(readinessAnswer(readiness(facts)).body) as Record<string, unknown>;
      expect(Object.keys(body).sort()).toEqual(body.status === 'ok' ? ['status'] : ['reason', 'status']);
    }
  });
});
