import { expect, test } from '@playwright/test';
import { randomBytes } from 'node:crypto';
import { authenticator } from 'otplib';
import { startPortal, type Portal } from './support/server';
import { seedUsers, withDb } from './support/seed';
import { expectPortal, pageAlert, signIn } from './support/pages';
import { insertTotpFactor } from '../../db/queries/factors';
import { createKeyring, sealSecret } from '../../lib/crypto/secret-box';
import { base32Encode, totpSecretContext } from '../../lib/factors/totp';
import { cliActor } from '../../lib/admin/actor';
import { systemClock } from '../../lib/clock';
import { requireMfaForUsers } from '../../lib/admin/mfa-requirements';

/*
 * Second-factor guess throttling in a browser (R-I2), through the production build: mallory knows bob's
 * password and guesses his codes in her own browser; bob, in his, signs in with the code his
 * app shows. Only mallory's pending sign-in is held back. Both browsers share 127.0.0.1, so
 * this is the pending sign-in's budget (5) at work, below the address's (9).
 */
const password = 'correct horse battery';
const stepMs = 30_000;
const bobSecret = base32Encode(randomBytes(20));
let portal: Portal;
let bobId: string;

test.describe.configure({ mode: 'serial' });

test.beforeAll(async () => {
  portal = await startPortal();
  ({ bob: bobId } = (await seedUsers(portal.databaseUrl, [{ username: 'bob', password, state: 'active', email: 'bob@example.test' }])) as { bob: string });
  const ring = createKeyring([portal.secret]);
  const now = Date.now();
  await withDb(portal.databaseUrl, async (db) => {
    await insertTotpFactor(db.kysely, {
      id: 'factor-bob',
      userId: bobId,
      name: 'Bob’s phone',
      secretSealed: sealSecret(bobSecret, totpSecretContext(bobId), ring),
      enrolledStep: Math.floor(now / stepMs) - 10,
      now,
    });
    await requireMfaForUsers(db.kysely, { userIds: [bobId], enrollmentDays: 7 }, cliActor, systemClock);
  });
});

test.afterAll(async () => {
  await portal?.stop();
});

const codeAt = (step: number) => authenticator.clone({ epoch: step * stepMs }).generate(bobSecret);
const currentStep = () => Math.floor(Date.now() / stepMs);
function wrongCode(i: number): string {
  const near = new Set([-2, -1, 0, 1, 2].map((o) => codeAt(currentStep() + o)));
  for (let n = i; ; n++) {
    const candidate = String(100_000 + n * 7_919);
    if (!near.has(candidate)) return candidate;
  }
}

/** Wrong codes that were checked (the audit log names refusals while throttled apart). */
const charged = () =>
  withDb(portal.databaseUrl, async (db) =>
    (
      await db.kysely
        .selectFrom('audit_log')
        .select('id')
        .where('action', '=', 'mfa.verify_failed')
        .where('target_id', '=', bobId)
        .where('details', 'like', '%"reason":"wrong"%')
        .execute()
    ).length,
  );

test('mallory’s wrong codes hold back her own pending sign-in; bob, in his browser, signs in with his code', async ({ browser }) => {
  // Mallory posts plain forms (no JavaScript): each Verify is a full page load to wait for.
  const malloryContext = await browser.newContext({ javaScriptEnabled: false });
  const bobContext = await browser.newContext();
  try {
    const mallory = await malloryContext.newPage();
    await signIn(mallory, portal.url, 'bob', password);
    await expect(mallory).toHaveURL(/\/mfa\/verify\?/);
    for (let i = 0; i < 5; i++) {
      await mallory.getByLabel('Verification code').fill(wrongCode(i));
      await mallory.getByRole('button', { name: 'Verify' }).click();
      await expect(pageAlert(mallory)).toContainText('That code didn’t work');
      await expect.poll(charged).toBe(i + 1);
    }
    // Her budget is spent: even the right code is refused now, unchecked and uncounted.
    for (const code of [wrongCode(9), codeAt(currentStep())]) {
      await mallory.getByLabel('Verification code').fill(code);
      await mallory.getByRole('button', { name: 'Verify' }).click();
      await expect(pageAlert(mallory)).toContainText(/Too many attempts from here\. Wait \d+ seconds and try again\./);
    }
    await expect(mallory).toHaveURL(/\/mfa\/verify\?/);

    const bob = await bobContext.newPage();
    await signIn(bob, portal.url, 'bob', password);
    await expect(bob).toHaveURL(/\/mfa\/verify\?/);
    await bob.getByLabel('Verification code').fill(codeAt(currentStep() + 1));
    await bob.getByRole('button', { name: 'Verify' }).click();
    await expectPortal(bob, 'bob');

    // Only the five checked guesses count; the refused ones and bob's success do not.
    expect(await charged()).toBe(5);
  } finally {
    await malloryContext.close();
    await bobContext.close();
  }
});
