import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { Db } from '../../../db';
import { manualClock, oneMinute } from '../../../lib/clock';
import {
  accountTokenHash,
  accountTokenOf,
  inspectAccountLink,
  issueAccountToken,
  passwordResetValidityMs,
  redeemAccountLink,
} from '../../../lib/auth/account-tokens';
import { enqueueAccountLink } from '../../../lib/mail/enqueue';
import { listOutbox } from '../../../lib/mail/outbox';
import { withheldLink } from '../../../lib/mail/templates';
import { smtpTransport, type MailTransport } from '../../../lib/mail/transport';
import { deliverDueMessages } from '../../../lib/mail/worker';
import { dialects, freshDb } from '../support/dialects';
import { startSmtpSink, type SmtpSink } from '../mail/support/smtp-sink';
import { origin, seed, workerOptions } from '../mail/support/world';

/*
 * Links to set one's own password (issue 15): stored only as a hash, single-use under
 * parallel redemption, replaced by a newer link, and mailed without the outbox (or the admin
 * reading it) ever holding the link. Ivy is invited; Rex asks for a reset.
 */
const start = Date.UTC(2026, 11, 3, 9, 0, 0);
const secret = 'a-test-secret-of-at-least-32-characters!!';
const tokenOf = (id: string) => accountTokenOf(id, secret);

describe.each(dialects)('account links on %s', (dialect) => {
  let db: Db;
  let ids: Record<string, string>;
  const clock = manualClock(start);

  beforeEach(async () => {
    clock.set(start);
    db = await freshDb(dialect);
    ids = await seed(db, clock, [{ username: 'ivy' }, { username: 'rex' }]);
  });
  afterEach(async () => {
    await db.close();
  });

  const issue = (userId: string, expiresAt: number | null = start + passwordResetValidityMs) =>
    db.kysely.transaction().execute((trx) =>
      issueAccountToken(trx, { userId, purpose: 'password_reset', now: clock.now(), expiresAt, createdBy: null, secret }),
    );

  it('stores only the hash of the token: the row holds neither the token nor anything it can be read from without the secret', async () => {
    const { id } = await issue(ids.rex);
    const token = tokenOf(id);
    const row = await db.kysely.selectFrom('account_tokens').selectAll().where('id', '=', id).executeTakeFirstOrThrow();
    expect(row.token_hash).toBe(accountTokenHash(token));
    expect(JSON.stringify(row)).not.toContain(token);
    expect(token).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(accountTokenOf(id, `${secret}-other`)).not.toBe(token);
  });

  it('of 20 parallel redemptions of one link exactly one succeeds; the others see it used', async () => {
    const { id } = await issue(ids.rex);
    const token = tokenOf(id);
    const results = await Promise.all(
      Array.from({ length: 20 }, () => db.kysely.transaction().execute((trx) => redeemAccountLink(trx, token, clock.now()))),
    );
    expect(results.filter((r) => r.state === 'open')).toHaveLength(1);
    expect(results.filter((r) => r.state === 'used')).toHaveLength(19);
    expect(await inspectAccountLink(db.kysely, token, clock.now())).toEqual({ state: 'used' });
  });

  it('a link expires at its time, a newer link voids the older, and garbage is unknown', async () => {
    const first = tokenOf((await issue(ids.rex)).id);
    clock.advance(10 * oneMinute);
    const second = tokenOf((await issue(ids.rex)).id);
    expect(await inspectAccountLink(db.kysely, first, clock.now())).toEqual({ state: 'voided' });
    expect(await inspectAccountLink(db.kysely, second, clock.now())).toMatchObject({ state: 'open', userId: ids.rex, purpose: 'password_reset' });
    clock.set(start + passwordResetValidityMs);
    expect(await inspectAccountLink(db.kysely, second, clock.now())).toEqual({ state: 'expired' });
    const late = await db.kysely.transaction().execute((trx) => redeemAccountLink(trx, second, clock.now()));
    expect(late).toEqual({ state: 'expired' });
    for (const junk of ['', 'x'.repeat(43), 'a'.repeat(2000), null, 42, { token: second }]) {
      expect(await inspectAccountLink(db.kysely, junk, clock.now())).toEqual({ state: 'unknown' });
    }
  });

  it('an invitation to a staged user (no expiry yet) is not valid until it is started', async () => {
    const { id } = await issue(ids.ivy, null);
    expect(await inspectAccountLink(db.kysely, tokenOf(id), clock.now())).toEqual({ state: 'unknown' });
  });

  describe('mailing a link', () => {
    let sink: SmtpSink;
    let transport: MailTransport;
    beforeAll(async () => {
      sink = await startSmtpSink();
    });
    afterAll(async () => {
      await sink.stop();
    });
    beforeEach(() => {
      sink.received.length = 0;
      transport = smtpTransport(sink.url);
    });
    afterEach(() => transport.close());

    it('Rex gets the working link by SMTP; the outbox keeps the message with the link withheld', async () => {
      const { id } = await db.kysely.transaction().execute(async (trx) => {
        const issued = await issueAccountToken(trx, { userId: ids.rex, purpose: 'password_reset', now: start, expiresAt: start + passwordResetValidityMs, createdBy: null, secret });
        await enqueueAccountLink(trx, { userId: ids.rex, kind: 'password_reset', tokenId: issued.id, expiresAt: start + passwordResetValidityMs, at: start, requestedBy: 'self' });
        return issued;
      });
      expect(await deliverDueMessages(workerOptions(db, transport, clock, { accountToken: tokenOf }))).toMatchObject({ sent: 1 });
      const mail = await sink.waitFor((m) => m.to.includes('rex@example.com'));
      expect(mail.subject).toBe('Reset your password');
      expect(mail.text).toContain(`${origin}/account/password?token=${tokenOf(id)}`);
      expect(mail.text).toContain('Your username is: rex');
      const { messages } = await listOutbox(db.kysely, { limit: 10 });
      expect(messages[0]).toMatchObject({ kind: 'password_reset', status: 'sent' });
      expect(messages[0]!.text).toContain(withheldLink);
      expect(messages[0]!.text).not.toContain(tokenOf(id));
      const stored = await db.kysely.selectFrom('mail_outbox').selectAll().executeTakeFirstOrThrow();
      expect(JSON.stringify(stored)).not.toContain(tokenOf(id));
    });

    it('a link replaced before the worker ran is not sent: only the newer one is', async () => {
      const send = (now: number) =>
        db.kysely.transaction().execute(async (trx) => {
          const issued = await issueAccountToken(trx, { userId: ids.rex, purpose: 'password_reset', now, expiresAt: now + passwordResetValidityMs, createdBy: null, secret });
          await enqueueAccountLink(trx, { userId: ids.rex, kind: 'password_reset', tokenId: issued.id, expiresAt: now + passwordResetValidityMs, at: now });
          return issued.id;
        });
      const older = await send(start);
      const newer = await send(start + 1000);
      clock.set(start + 2000);
      expect(await deliverDueMessages(workerOptions(db, transport, clock, { accountToken: tokenOf }))).toMatchObject({ sent: 1, skipped: 1 });
      const mails = sink.received.filter((m) => m.to.includes('rex@example.com'));
      expect(mails).toHaveLength(1);
      expect(mails[0]!.text).toContain(tokenOf(newer));
      expect(mails[0]!.text).not.toContain(tokenOf(older));
    });

    describe('across a secret rotation (the link was queued under the old secret)', () => {
      const newer = 'the-new-secret-of-at-least-32-characters';
      const queue = () =>
        db.kysely.transaction().execute(async (trx) => {
          const issued = await issueAccountToken(trx, { userId: ids.rex, purpose: 'password_reset', now: start, expiresAt: start + passwordResetValidityMs, createdBy: null, secret });
          await enqueueAccountLink(trx, { userId: ids.rex, kind: 'password_reset', tokenId: issued.id, expiresAt: start + passwordResetValidityMs, at: start });
          return issued.id;
        });

      it('a worker with the new secret first still mails the link the old secret made, and it works', async () => {
        const id = await queue();
        expect(await deliverDueMessages(workerOptions(db, transport, clock, { appSecrets: [newer, secret] }))).toMatchObject({ sent: 1 });
        const mail = await sink.waitFor((m) => m.to.includes('rex@example.com'));
        expect(mail.text).toContain(`${origin}/account/password?token=${tokenOf(id)}`);
        expect(await inspectAccountLink(db.kysely, tokenOf(id), clock.now())).toMatchObject({ state: 'open', userId: ids.rex });
      });

      it('a worker without the old secret sends no broken link: it retries, as for a failed delivery', async () => {
        await queue();
        expect(await deliverDueMessages(workerOptions(db, transport, clock, { appSecrets: [newer] }))).toMatchObject({ sent: 0, retry: 1 });
        expect(sink.received.filter((m) => m.to.includes('rex@example.com'))).toEqual([]);
        const { messages } = await listOutbox(db.kysely, { limit: 10 });
        expect(messages[0]).toMatchObject({ kind: 'password_reset', status: 'pending' });
        expect(messages[0]!.lastError).toMatch(/no secret in PORTCULLIS_SECRET makes this link/);
      });
    });
  });
});
