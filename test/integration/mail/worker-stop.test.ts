import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { Db } from '../../../db';
import { manualClock } from '../../../lib/clock';
import { requireMfaForUsers } from '../../../lib/admin/mfa-requirements';
import { smtpTransport, type MailTransport } from '../../../lib/mail/transport';
import { deliverDueMessages, startMailWorker, type RunningWorker } from '../../../lib/mail/worker';
import { queueEnrollmentStartedMessages } from '../../../lib/mail/start-notices';
import { dialects, freshDb } from '../support/dialects';
import { startSmtpSink, type SmtpSink } from './support/smtp-sink';
import { admin, outbox, seed, workerOptions } from './support/world';

/*
 * A worker asked to stop (the server got SIGTERM, scripts/graceful-shutdown.mjs): it takes
 * nothing new, finishes the message in hand, and when the mail server does not answer before
 * the deadline, gives the message back so the next worker sends it at once, not after the
 * 5-minute lease. Either way each message reaches the mail server exactly once.
 */
const start = Date.UTC(2026, 11, 3, 9, 0, 0);

describe.each(dialects)('a mail worker stopping on %s', (dialect) => {
  let db: Db;
  let sink: SmtpSink;
  const transports: MailTransport[] = [];
  const running: RunningWorker[] = [];
  const clock = manualClock(start);

  const smtp = () => {
    const t = smtpTransport(sink.url);
    transports.push(t);
    return t;
  };
  const startWorker = (workerId: string) => {
    const worker = startMailWorker({ ...workerOptions(db, smtp(), clock), workerId }, { pollMs: 20 });
    running.push(worker);
    return worker;
  };
  /** Requires MFA for these people and queues their "period started" messages. */
  async function requireMfaFor(...usernames: string[]): Promise<void> {
    const ids = await seed(db, clock, usernames.map((username) => ({ username })));
    await requireMfaForUsers(db.kysely, { userIds: Object.values(ids) }, admin, clock);
    await queueEnrollmentStartedMessages(db.kysely, clock);
  }
  const until = async (check: () => boolean | Promise<boolean>, what: string, timeoutMs = 10_000) => {
    const deadline = Date.now() + timeoutMs;
    while (!(await check())) {
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
      await new Promise((r) => setTimeout(r, 10));
    }
  };

  beforeAll(async () => {
    sink = await startSmtpSink();
  });
  afterAll(async () => {
    await sink.stop();
  });
  beforeEach(async () => {
    clock.set(start);
    sink.received.length = 0;
    sink.holdData = true;
    db = await freshDb(dialect);
  });
  afterEach(async () => {
    sink.answerHeld(false);
    await Promise.all(running.splice(0).map((w) => w.stop()));
    for (const t of transports.splice(0)) t.close();
    await db.close();
  });

  it('finishes the message in hand when the mail server answers before the deadline: sent once, nothing released', async () => {
    await requireMfaFor('ada');
    const worker = startWorker('worker-a');
    await until(() => sink.held === 1, 'the worker to be mid-send');

    const stopping = worker.stop({ withinMs: 5_000 });
    await new Promise((r) => setTimeout(r, 100));
    sink.answerHeld(true);
    expect(await stopping).toEqual({ finished: true, released: 0 });

    expect(sink.received.map((m) => m.to)).toEqual([['ada@example.com']]);
    expect(await outbox(db)).toMatchObject([{ status: 'sent', attempts: 1, locked_by: null }]);
  });

  it('takes nothing new once asked to stop: the messages behind the one in hand stay pending, untouched', async () => {
    await requireMfaFor('ada', 'ben', 'cleo');
    const worker = startWorker('worker-a');
    await until(() => sink.held === 1, 'the worker to be mid-send');

    const stopping = worker.stop({ withinMs: 5_000 });
    sink.answerHeld(true);
    expect(await stopping).toEqual({ finished: true, released: 0 });

    const rows = await outbox(db);
    expect(rows.filter((r) => r.status === 'sent')).toHaveLength(1);
    expect(rows.filter((r) => r.status === 'pending' && r.attempts === 0 && r.locked_by === null)).toHaveLength(2);
    expect(sink.received).toHaveLength(1);
  });

  it('gives the message back at the deadline when the mail server hangs; the next worker sends it at once, exactly once', async () => {
    await requireMfaFor('ada');
    const worker = startWorker('worker-a');
    await until(() => sink.held === 1, 'the worker to be mid-send');

    expect(await worker.stop({ withinMs: 300 })).toEqual({ finished: false, released: 1 });
    // Due now, not when the lease would have ended.
    expect(await outbox(db)).toMatchObject([{ status: 'pending', locked_by: null, locked_until: null, next_attempt_at: clock.now() }]);

    // The stopped worker's connection goes away unanswered (its process exits); its late
    // outcome cannot touch the row it no longer holds.
    sink.holdData = false;
    sink.answerHeld(false);
    expect(await deliverDueMessages(workerOptions(db, smtp(), clock, { workerId: 'worker-b' }))).toMatchObject({ sent: 1 });

    await new Promise((r) => setTimeout(r, 200));
    expect(sink.received.map((m) => m.to)).toEqual([['ada@example.com']]);
    expect(await outbox(db)).toMatchObject([{ status: 'sent', attempts: 2, locked_by: null }]);
  });

  it('with nothing in hand it stops at once and releases nothing', async () => {
    const worker = startWorker('worker-idle');
    await new Promise((r) => setTimeout(r, 50));
    expect(await worker.stop({ withinMs: 1_000 })).toEqual({ finished: true, released: 0 });
  });
});
