import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { Db } from '../../../db';
import { manualClock, oneDay } from '../../../lib/clock';
import { formatDateTime } from '../../../lib/format';
import { requireMfaForUsers } from '../../../lib/admin/mfa-requirements';
import { ConflictError, NotFoundError, ValidationError } from '../../../lib/admin/errors';
import { listOutbox, resendMessage } from '../../../lib/mail/outbox';
import { messageIdFor, outboxTransport, smtpTransport, transportFor, type MailTransport } from '../../../lib/mail/transport';
import { deliverDueMessages, retryDelayMs } from '../../../lib/mail/worker';
import { queueEnrollmentStartedMessages } from '../../../lib/mail/start-notices';
import { dialects, freshDb } from '../support/dialects';
import { startSmtpSink, type SmtpSink } from './support/smtp-sink';
import { admin, origin, outbox, seed, workerOptions } from './support/world';

/*
 * Delivery through a real SMTP server in the test process (smtp-server), and the outbox
 * as admins see it. Ada is required to enroll; the worker delivers her message.
 */
const start = Date.UTC(2026, 10, 2, 9, 0, 0);

describe.each(dialects)('delivering mail on %s', (dialect) => {
  let db: Db;
  let sink: SmtpSink;
  let transport: MailTransport;
  const clock = manualClock(start);
  let ids: Record<string, string>;

  beforeAll(async () => {
    sink = await startSmtpSink();
  });
  afterAll(async () => {
    await sink.stop();
  });
  beforeEach(async () => {
    clock.set(start);
    await sink.up();
    sink.received.length = 0;
    sink.failTransiently = false;
    sink.refuse.clear();
    transport = smtpTransport(sink.url);
    db = await freshDb(dialect);
    ids = await seed(db, clock, [{ username: 'ada', displayName: 'Ada Lovelace' }, { username: 'bob' }]);
  });
  afterEach(async () => {
    transport.close();
    await db.close();
  });

  const deliver = (extra = {}) => deliverDueMessages(workerOptions(db, transport, clock, extra));

  it('Ada receives "period started" over SMTP: the days, the end date and the link to TOTP setup (R-B5)', async () => {
    await requireMfaForUsers(db.kysely, { userIds: [ids.ada], enrollmentDays: 7 }, admin, clock);
    expect(await deliver()).toMatchObject({ sent: 1, retry: 0 });

    const mail = await sink.waitFor((m) => m.to.includes('ada@example.com'));
    const ends = start + 7 * oneDay;
    expect(mail.subject).toBe('Set up multi-factor authentication within 7 days');
    expect(mail.text).toContain('You have 7 days to set up an authenticator app (TOTP)');
    expect(mail.text).toContain(`until ${formatDateTime(ends)}`);
    expect(formatDateTime(ends)).toBe('9 Nov 2026, 09:00 UTC');
    expect(mail.text).toContain(`${origin}/login?returnTo=/mfa/setup/totp`);
    expect(mail.html).toContain(`href="${origin}/login?returnTo=/mfa/setup/totp"`);
    expect(mail.html).toContain('Hello Ada Lovelace,');
    expect(mail.from).toBe('no-reply@mfa.example.com');
    expect(mail.messageId).toBe(messageIdFor(`enrollment_started:${ids.ada}:${start}`, origin));
    expect(mail.headers['auto-submitted']).toBe('auto-generated');

    const [row] = await outbox(db);
    expect(row).toMatchObject({ status: 'sent', attempts: 1, delivered_via: 'smtp', sent_at: start, locked_by: null, last_error: null });
    expect(row!.text_body).toBe(mail.text);
  });

  it('SMTP down: the message is kept and retried with backoff; when SMTP is back it is delivered exactly once', async () => {
    await sink.down();
    await requireMfaForUsers(db.kysely, { userIds: [ids.ada] }, admin, clock);

    expect(await deliver()).toMatchObject({ sent: 0, retry: 1 });
    let [row] = await outbox(db);
    expect(row).toMatchObject({ status: 'pending', attempts: 1, next_attempt_at: start + retryDelayMs(1) });
    expect(row!.last_error).toMatch(/ECONNREFUSED|connect/i);

    // Not due yet: nothing is tried.
    expect(await deliver()).toMatchObject({ sent: 0, retry: 0 });
    for (const attempts of [1, 2, 3]) {
      clock.advance(retryDelayMs(attempts));
      expect(await deliver()).toMatchObject({ retry: 1 });
    }
    [row] = await outbox(db);
    expect(row).toMatchObject({ status: 'pending', attempts: 4, next_attempt_at: clock.now() + retryDelayMs(4) });

    await sink.up();
    clock.advance(retryDelayMs(4));
    expect(await deliver()).toMatchObject({ sent: 1 });
    clock.advance(oneDay);
    expect(await deliver()).toMatchObject({ sent: 0, retry: 0 });
    expect(sink.received).toHaveLength(1);
    expect((await outbox(db))[0]).toMatchObject({ status: 'sent', attempts: 5, last_error: null });
  });

  it('a "451 try again later" is retried like a refused connection', async () => {
    sink.failTransiently = true;
    await requireMfaForUsers(db.kysely, { userIds: [ids.ada] }, admin, clock);
    expect(await deliver()).toMatchObject({ retry: 1 });
    expect((await outbox(db))[0]!.last_error).toContain('451');
    sink.failTransiently = false;
    clock.advance(retryDelayMs(1));
    expect(await deliver()).toMatchObject({ sent: 1 });
    expect(sink.received).toHaveLength(1);
  });

  it('after the last attempt the message is failed, not dropped: the admin sees it and resends it (audited)', async () => {
    sink.failTransiently = true;
    await requireMfaForUsers(db.kysely, { userIds: [ids.ada] }, admin, clock);
    for (let attempt = 1; attempt <= 3; attempt++) {
      await deliver({ maxAttempts: 3 });
      clock.advance(retryDelayMs(attempt));
    }
    const failed = await listOutbox(db.kysely, { status: 'failed', limit: 10 });
    expect(failed.messages).toMatchObject([{ userId: ids.ada, status: 'failed', attempts: 3, resendable: true, to: 'ada@example.com' }]);
    expect(failed.messages[0]!.lastError).toContain('451');
    expect(await deliver()).toMatchObject({ sent: 0, retry: 0, failed: 0 });

    sink.failTransiently = false;
    const resent = await resendMessage(db.kysely, failed.messages[0]!.id, admin, clock);
    expect(resent).toMatchObject({ status: 'pending', attempts: 0, nextAttemptAt: clock.now(), lastError: null });
    const [audit] = await db.kysely.selectFrom('audit_log').selectAll().where('action', '=', 'mail.resent').execute();
    expect(audit).toMatchObject({ actor_label: 'ada.admin', target_type: 'mail', target_id: resent.id, client_ip: '198.51.100.7' });
    expect(JSON.parse(audit!.details!)).toMatchObject({ kind: 'enrollment_started', previousStatus: 'failed', previousAttempts: 3 });

    expect(await deliver()).toMatchObject({ sent: 1 });
    expect(sink.received).toHaveLength(1);
    await expect(resendMessage(db.kysely, resent.id, admin, clock)).rejects.toBeInstanceOf(ConflictError);
    await expect(resendMessage(db.kysely, 'no-such-message', admin, clock)).rejects.toBeInstanceOf(NotFoundError);
  });

  it('an address the server refuses (550) is dead at once; after the admin corrects it, a resend reaches the new one', async () => {
    sink.refuse.add('ada@example.com');
    await requireMfaForUsers(db.kysely, { userIds: [ids.ada] }, admin, clock);
    expect(await deliver()).toMatchObject({ dead: 1 });
    const [dead] = (await listOutbox(db.kysely, { status: 'dead', limit: 5 })).messages;
    expect(dead).toMatchObject({ attempts: 1, resendable: true });
    expect(dead!.lastError).toContain('550');

    await db.kysely.updateTable('users').set({ email: 'ada.lovelace@example.com' }).where('id', '=', ids.ada!).execute();
    const resent = await resendMessage(db.kysely, dead!.id, admin, clock);
    expect(resent.to).toBe('ada.lovelace@example.com');
    expect(await deliver()).toMatchObject({ sent: 1 });
    expect(sink.received.map((m) => m.to)).toEqual([['ada.lovelace@example.com']]);
  });

  it('without SMTP_URL (the embedded default) the outbox is the mailbox: the admin reads it, the log shows the link', async () => {
    const lines: string[] = [];
    const embedded = outboxTransport((line) => lines.push(line));
    await requireMfaForUsers(db.kysely, { userIds: [ids.ada] }, admin, clock);
    expect(await deliverDueMessages(workerOptions(db, embedded, clock))).toMatchObject({ sent: 1 });
    const [message] = (await listOutbox(db.kysely, { limit: 5 })).messages;
    expect(message).toMatchObject({ status: 'sent', deliveredVia: 'outbox', to: 'ada@example.com' });
    expect(message!.text).toContain(`${origin}/login?returnTo=/mfa/setup/totp`);
    expect(lines).toEqual([
      `[portcullis] mail (outbox, no SMTP_URL) to ada@example.com: Set up multi-factor authentication within 7 days — ${origin}/login?returnTo=/mfa/setup/totp`,
    ]);
    expect(sink.received).toHaveLength(0);
  });

  it('the outbox log is on in production too (README: SMTP_URL), and prints only links marked loggable, never the body', async () => {
    const lines: string[] = [];
    const previous = process.env.NODE_ENV;
    (process.env as Record<string, string>).NODE_ENV = 'production';
    const embedded = transportFor(undefined, (line) => lines.push(line));
    (process.env as Record<string, string | undefined>).NODE_ENV = previous;
    await requireMfaForUsers(db.kysely, { userIds: [ids.ada] }, admin, clock);
    expect(await deliverDueMessages(workerOptions(db, embedded, clock))).toMatchObject({ sent: 1 });
    expect(lines).toEqual([
      `[portcullis] mail (outbox, no SMTP_URL) to ada@example.com: Set up multi-factor authentication within 7 days — ${origin}/login?returnTo=/mfa/setup/totp`,
    ]);

    // A link the template did not mark stays out of the log, even when the text holds a URL.
    lines.length = 0;
    await embedded.send({ from: 'a@example.com', to: 'bob@example.com', subject: 'S', text: 'https://secret.example/t?token=x', html: '', messageId: '<m@x>', kind: 'k' });
    expect(lines).toEqual(['[portcullis] mail (outbox, no SMTP_URL) to bob@example.com: S']);
  });

  it('listOutbox: newest first, keyset pages that neither skip nor repeat, a status filter, and refused input', async () => {
    for (let i = 0; i < 5; i++) {
      await requireMfaForUsers(db.kysely, { userIds: [ids.ada, ids.bob] }, admin, clock);
      await queueEnrollmentStartedMessages(db.kysely, clock);
      clock.advance(60_000);
    }
    const seen: string[] = [];
    let cursor: string | undefined;
    let pages = 0;
    do {
      const page = await listOutbox(db.kysely, { limit: '3', ...(cursor ? { cursor } : {}) });
      seen.push(...page.messages.map((m) => m.id));
      cursor = page.nextCursor ?? undefined;
      pages++;
    } while (cursor);
    expect(pages).toBe(4);
    const all = await outbox(db);
    expect(new Set(seen).size).toBe(10);
    expect(seen).toEqual(
      [...all].sort((a, b) => b.created_at - a.created_at || (a.id < b.id ? 1 : -1)).map((r) => r.id),
    );

    // Each requirement restarted the period: only the latest period's messages still apply.
    expect(await deliver()).toMatchObject({ sent: 2, skipped: 8 });
    expect((await listOutbox(db.kysely, { status: 'sent', limit: 50 })).messages.map((m) => m.createdAt)).toEqual([
      clock.now() - 60_000,
      clock.now() - 60_000,
    ]);
    const skipped = await listOutbox(db.kysely, { status: 'skipped', limit: 50 });
    expect(skipped.messages).toHaveLength(8);
    expect(skipped.messages[0]!.lastError).toMatch(/no longer applies/);
    expect((await listOutbox(db.kysely, { status: 'pending', limit: 50 })).messages).toHaveLength(0);

    for (const bad of [{ limit: 0 }, { limit: 201 }, { limit: 2.5 }, { limit: '5e1' }, { status: 'lost' }, { cursor: 'nonsense' }]) {
      await expect(listOutbox(db.kysely, bad as never)).rejects.toBeInstanceOf(ValidationError);
    }
    expect((await listOutbox(db.kysely)).messages).toHaveLength(10); // limit defaults to 50
  });
});
