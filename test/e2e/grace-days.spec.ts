import { expect, test } from '@playwright/test';
import { startPortal, type Portal } from './support/server';
import { seedUsers, withDb } from './support/seed';
import { expectPortal, signIn } from './support/pages';
import { cliActor } from '../../lib/admin/actor';
import { systemClock } from '../../lib/clock';
import { createGroup, setGroupMembers } from '../../lib/admin/groups';
import { createPolicy } from '../../lib/admin/policies';

/*
 * Issue 18 part 6 in Chromium. "Sales MFA" forces MFA on the User Portal for Sales, with 7
 * grace days for people who join. Gus joins Sales (the service a console or API change
 * calls), signs in, and sees Set Up with "Skip for now" and his deadline; skipping reaches
 * the portal. Then his window's times are moved into the past (as 7 days passing would):
 * the next sign-in is a forced Set Up.
 */
const password = 'correct horse battery';
let portal: Portal;
let gusId: string;

test.beforeAll(async () => {
  portal = await startPortal();
  ({ gus: gusId } = await seedUsers(portal.databaseUrl, [{ username: 'gus', password, state: 'active', email: 'gus@example.org' }]));
  await withDb(portal.databaseUrl, async (db) => {
    const sales = await createGroup(db.kysely, { name: 'Sales' }, cliActor, systemClock);
    await createPolicy(
      db.kysely,
      { name: 'Sales MFA', enabled: true, scope: 'groups', includeGroupIds: [sales.id], resources: ['portal'], action: 'require_mfa', graceDays: 7 },
      cliActor,
      systemClock,
    );
    await setGroupMembers(db.kysely, sales.id, { userIds: [gusId!] }, cliActor, systemClock);
  });
});

test.afterAll(async () => {
  await portal?.stop();
});

test('Gus joins Sales: "Skip for now" with his deadline for 7 days, then a forced Set Up', async ({ page }) => {
  const window = await withDb(portal.databaseUrl, (db) =>
    db.kysely.selectFrom('policy_grace').select(['starts_at', 'ends_at']).where('user_id', '=', gusId).executeTakeFirstOrThrow(),
  );
  expect(Number(window.ends_at) - Number(window.starts_at)).toBe(7 * 86_400_000);

  await signIn(page, portal.url, 'gus', password);
  await expect(page.getByRole('heading', { name: 'Set Up Multi-Factor Authentication' })).toBeVisible();
  await expect(page.getByTestId('enrollment-deadline')).toContainText(/in [67] days/);
  await page.getByRole('button', { name: 'Skip for now' }).click();
  await expectPortal(page, 'gus');
  await expect(page.getByTestId('enrollment-reminder')).toContainText(/in [67] days/);

  // Seven days pass: his window now lies in the past.
  await withDb(portal.databaseUrl, (db) =>
    db.kysely
      .updateTable('policy_grace')
      .set({ starts_at: Date.now() - 8 * 86_400_000, ends_at: Date.now() - 86_400_000 })
      .where('user_id', '=', gusId)
      .execute(),
  );
  await page.context().clearCookies();
  await signIn(page, portal.url, 'gus', password);
  await expect(page.getByRole('heading', { name: 'Set Up Multi-Factor Authentication' })).toBeVisible();
  await expect(page.getByText('Your organization requires a second factor before you continue.')).toBeVisible();
  await expect(page.getByRole('button', { name: 'Skip for now' })).toHaveCount(0);
});
