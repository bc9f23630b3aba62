import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Db } from '../../../db';
import { manualClock } from '../../../lib/clock';
import { isNotFoundError } from '../../../lib/errors/brand';
import { sendPasswordReset } from '../../../lib/admin/password-reset';
import { requireMfaForUsers } from '../../../lib/admin/mfa-requirements';
import { getOutboxMessage, keptWithoutSmtp, listOutbox } from '../../../lib/mail/outbox';
import { withheldLink } from '../../../lib/mail/templates';
import { outboxTransport } from '../../../lib/mail/transport';
import { deliverDueMessages } from '../../../lib/mail/worker';
import { dialects, freshDb } from '../support/dialects';
import { admin, origin, seed, workerOptions } from './support/world';

/*
 * The outbox as Ada the admin reads it when no SMTP server is configured: every message is
 * kept, says it was not sent, and opens to its stored text, in which secret links are withheld.
 */
const start = Date.UTC(2026, 10, 2, 9, 0, 0);
const secretToken = 'tok_secret_for_bob_only_0123456789';

describe.each(dialects)('reading the outbox without SMTP on %s', (dialect) => {
  let db: Db;
  const clock = manualClock(start);
  let ids: Record<string, string>;

  beforeEach(async () => {
    clock.set(start);
    db = await freshDb(dialect);
    ids = await seed(db, clock, [{ username: 'bob', displayName: 'Bob Builder' }, { username: 'nina' }]);
  });
  afterEach(async () => {
    await db.close();
  });

  const deliverWithoutSmtp = () =>
    deliverDueMessages(workerOptions(db, outboxTransport(null), clock, { accountToken: () => secretToken }));

  it('a message kept for want of SMTP is "not sent", and its text opens with the reset link withheld', async () => {
    await sendPasswordReset(db.kysely, ids.bob!, admin, clock);
    await requireMfaForUsers(db.kysely, { userIds: [ids.nina!], enrollmentDays: 7 }, admin, clock);
    await deliverWithoutSmtp();
    await deliverWithoutSmtp();

    const { messages } = await listOutbox(db.kysely, {});
    expect(messages.length).toBeGreaterThanOrEqual(2);
    for (const m of messages) expect(keptWithoutSmtp(m)).toBe(true);

    const reset = messages.find((m) => m.userId === ids.bob)!;
    const opened = await getOutboxMessage(db.kysely, reset.id);
    expect(opened).toMatchObject({ id: reset.id, to: 'bob@example.com', subject: 'Reset your password', deliveredVia: 'outbox' });
    expect(opened.text).toContain(withheldLink);
    expect(opened.text).not.toContain(secretToken);
    expect(opened.text).not.toContain(`${origin}/account/password?token=`);

    const period = messages.find((m) => m.userId === ids.nina)!;
    expect((await getOutboxMessage(db.kysely, period.id)).text).toContain(`${origin}/login?returnTo=/mfa/setup/totp`);
  });

  it('a message not yet taken by the worker has no text yet and is not "kept without SMTP"', async () => {
    await sendPasswordReset(db.kysely, ids.bob!, admin, clock);
    const [queued] = (await listOutbox(db.kysely, {})).messages;
    const opened = await getOutboxMessage(db.kysely, queued!.id);
    expect(opened).toMatchObject({ status: 'pending', text: null });
    expect(keptWithoutSmtp(opened)).toBe(false);
  });

  it('an unknown or malformed id is NotFound', async () => {
    for (const id of ['00000000-0000-4000-8000-000000000000', '', 'x'.repeat(65), "1' or '1'='1"]) {
      const error = await getOutboxMessage(db.kysely, id).catch((e: unknown) => e);
      expect(isNotFoundError(error)).toBe(true);
    }
  });
});
