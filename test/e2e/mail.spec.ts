import { expect, test } from '@playwright/test';
import { startPortal, type Portal } from './support/server';
import { seedUsers, withDb } from './support/seed';
import { cliActor } from '../../lib/admin/actor';
import { oneDay, systemClock } from '../../lib/clock';
import { formatDateTime } from '../../lib/format';
import { requireMfaForUsers } from '../../lib/admin/mfa-requirements';
import { listOutbox } from '../../lib/mail/outbox';
import { startSmtpSink, type SmtpSink } from '../integration/mail/support/smtp-sink';

/*
 * The enrollment email end to end (R-B5). The portal runs with SMTP_URL pointing at
 * an SMTP server inside this spec; its own worker (started with the server) sends the mail.
 * Grace is required to enroll through the admin services; she follows the link in the mail,
 * signs in, and lands on TOTP setup. Then, without SMTP_URL (the embedded default), Hugo's
 * message is delivered to the outbox the admin console lists.
 */
const password = 'correct horse battery';
let portal: Portal;
let sink: SmtpSink;
let ids: Record<string, string>;

test.beforeAll(async () => {
  sink = await startSmtpSink();
  portal = await startPortal({ env: { SMTP_URL: sink.url } });
  ids = await seedUsers(portal.databaseUrl, [
    { username: 'grace', password, state: 'active', email: 'grace@example.com', displayName: 'Grace Hopper' },
    { username: 'hugo', password, state: 'active', email: 'hugo@example.com' },
  ]);
});

test.afterAll(async () => {
  await portal?.stop();
  await sink?.stop();
});

test('Grace gets the "period started" email and its link takes her, after sign-in, to TOTP setup', async ({ page }) => {
  const result = await withDb(portal.databaseUrl, (db) =>
    requireMfaForUsers(db.kysely, { userIds: [ids.grace], enrollmentDays: 10 }, cliActor, systemClock),
  );
  expect(result.periodEndsAt - result.periodStartsAt).toBe(10 * oneDay);

  const mail = await sink.waitFor((m) => m.to.includes('grace@example.com'), 30_000);
  expect(mail.subject).toBe('Set up multi-factor authentication within 10 days');
  expect(mail.text).toContain('Hello Grace Hopper,');
  expect(mail.text).toContain(`You have 10 days to set up an authenticator app (TOTP): until ${formatDateTime(result.periodEndsAt)}.`);
  const link = /https?:\/\/\S+/.exec(mail.text)?.[0];
  expect(link).toBe(`${portal.url}/login?returnTo=/mfa/setup/totp`);
  expect(mail.html).toContain(`href="${link}"`);

  await page.goto(link!);
  await page.getByLabel('Username').fill('grace');
  await page.getByLabel('Password').fill(password);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await expect(page).toHaveURL((url) => url.pathname === '/mfa/setup/totp');
  await expect(page.getByRole('img', { name: 'QR code' })).toBeVisible();

  // Delivered once: the row says sent, and no second copy arrives on the next polls.
  await page.waitForTimeout(2_500);
  expect(sink.received.filter((m) => m.to.includes('grace@example.com'))).toHaveLength(1);
  const sent = await withDb(portal.databaseUrl, (db) => listOutbox(db.kysely, { status: 'sent', limit: 10 }));
  expect(sent.messages).toMatchObject([{ userId: ids.grace, kind: 'enrollment_started', deliveredVia: 'smtp', attempts: 1 }]);
});

test('without SMTP_URL the message is delivered to the outbox, where the admin reads it', async () => {
  await portal.restart({ env: { SMTP_URL: '' } });
  await withDb(portal.databaseUrl, (db) => requireMfaForUsers(db.kysely, { userIds: [ids.hugo] }, cliActor, systemClock));
  await expect
    .poll(
      async () =>
        (await withDb(portal.databaseUrl, (db) => listOutbox(db.kysely, { limit: 10 }))).messages.find((m) => m.userId === ids.hugo),
      { timeout: 20_000 },
    )
    .toMatchObject({ status: 'sent', deliveredVia: 'outbox', to: 'hugo@example.com' });
  const { messages } = await withDb(portal.databaseUrl, (db) => listOutbox(db.kysely, { status: 'sent', limit: 10 }));
  expect(messages.find((m) => m.userId === ids.hugo)!.text).toContain(`${portal.url}/login?returnTo=/mfa/setup/totp`);
  expect(sink.received.filter((m) => m.to.includes('hugo@example.com'))).toHaveLength(0);
});
