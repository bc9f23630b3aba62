import { expect, test, type Browser, type BrowserContext, type Page } from '@playwright/test';
import { authenticator } from 'otplib';
import { startPortal, type Portal } from './support/server';
import { seedUsers, withDb } from './support/seed';
import { expectPortal, pageAlert, signIn } from './support/pages';
import { cliActor } from '../../lib/admin/actor';
import { enrollmentDaysMessage, requireMfaForUsers } from '../../lib/admin/mfa-requirements';
import { manualClock, oneDay, systemClock } from '../../lib/clock';
import { createPolicy } from '../../lib/admin/policies';
import { randomUUID } from 'node:crypto';
import { formatDateTime } from '../../lib/format';

/*
 * The admin console in a real browser (SPEC A, B, C, F, H). Personas:
 * - Ada, the admin: no second factor at first, so the console sends her to set up TOTP.
 * - Bram, Cleo, Dirk: selected together and required to use MFA (R-B2).
 * - Erin: left out of the bulk change; the one the refused days are tried on.
 * - Nils, a contractor: no admin (403), and the user a deny policy is switched OFF for.
 * - Xena: required long ago; her period ended without TOTP (expired), until Ada resets it.
 */
const password = 'correct horse battery';
const stepMs = 30_000;
let portal: Portal;
let ids: Record<string, string>;

test.describe.configure({ mode: 'serial' });

let admin: { context: BrowserContext; page: Page };
let nils: { context: BrowserContext; page: Page };
let adaTotp: { secret: string; step: number };

test.beforeAll(async ({ browser }) => {
  portal = await startPortal();
  ids = await seedUsers(portal.databaseUrl, [
    { username: 'ada', password, state: 'active', role: 'admin', email: 'ada@example.test' },
    { username: 'bram', password, state: 'active', email: 'bram@example.test', displayName: 'Bram Stoker' },
    { username: 'cleo', password, state: 'active', email: 'cleo@example.test' },
    { username: 'dirk', password, state: 'active', email: 'dirk@example.test' },
    { username: 'erin', password, state: 'active', email: 'erin@example.test' },
    { username: 'nils', password, state: 'active', email: 'nils@example.test' },
    { username: 'xena', password, state: 'active', email: 'xena@example.test' },
  ]);
  // Xena's 7-day period began ten days ago: it ended three days ago, and she never enrolled.
  await withDb(portal.databaseUrl, (db) =>
    requireMfaForUsers(db.kysely, { userIds: [ids.xena], enrollmentDays: 7 }, cliActor, manualClock(Date.now() - 10 * oneDay)),
  );
  admin = await newSession(browser);
  nils = await newSession(browser);
});

test.afterAll(async () => {
  await admin?.context.close();
  await nils?.context.close();
  await portal?.stop();
});

async function newSession(browser: Browser) {
  const context = await browser.newContext();
  return { context, page: await context.newPage() };
}

function codeAt(secret: string, step: number): string {
  return authenticator.clone({ epoch: step * stepMs }).generate(secret);
}

const currentStep = () => Math.floor(Date.now() / stepMs);

async function requirementOf(username: string) {
  return withDb(portal.databaseUrl, (db) =>
    db.kysely.selectFrom('mfa_requirements').selectAll().where('user_id', '=', ids[username]!).executeTakeFirst(),
  );
}

/** The MFA cell of a user's row in the users list. */
function mfaCell(page: Page, username: string) {
  return page.getByRole('row').filter({ has: page.getByRole('link', { name: username, exact: true }) }).getByTestId('mfa-status');
}

/** The details behind a row's MFA status: a disclosure, not a tooltip. */
function mfaDetail(page: Page, username: string) {
  return page.getByRole('row').filter({ has: page.getByRole('link', { name: username, exact: true }) }).getByTestId('mfa-detail');
}

async function openBulkMenu(page: Page) {
  await page.getByText('More actions', { exact: true }).click();
  await expect(page.getByLabel('Enrollment period (days)')).toBeVisible();
}

test('an admin without a second factor is sent to set up TOTP first, with no way to skip', async () => {
  const { page } = admin;
  await signIn(page, portal.url, 'ada', password, '/admin');
  await expect(page).toHaveURL(/\/mfa\/setup\/totp\?/);
  expect(new URL(page.url()).searchParams.get('returnTo')).toBe('/admin');
  await expect(page.getByRole('button', { name: 'Skip for now' })).toHaveCount(0);
  // Going around it leads back to it.
  await page.goto(`${portal.url}/admin/users`);
  await expect(page).toHaveURL(/\/mfa\/setup\/totp\?/);

  const secret = (await page.getByTestId('totp-key').textContent())!.replace(/\s+/g, '');
  const step = currentStep();
  await page.getByLabel('Verification code').fill(codeAt(secret, step));
  await page.getByRole('button', { name: 'Verify' }).click();
  await expect(page.getByRole('heading', { name: 'Save your recovery codes' })).toBeVisible();
  await page.getByRole('button', { name: /I saved my recovery codes/ }).click();
  // Back where she was going.
  await expect(page.getByRole('heading', { name: 'Users', exact: true })).toBeVisible();
  await expect(page).toHaveURL(`${portal.url}/admin/users`);
  adaTotp = { secret, step };
});

test('an admin with a factor but a password-only session confirms the factor before the console', async ({ browser }) => {
  const other = await newSession(browser);
  try {
    await signIn(other.page, portal.url, 'ada', password, '/admin');
    await expect(other.page).toHaveURL(/\/mfa\/verify\?/);
    await other.page.getByLabel('Verification code').fill(codeAt(adaTotp.secret, adaTotp.step + 1));
    await other.page.getByRole('button', { name: 'Verify' }).click();
    await expect(other.page.getByRole('heading', { name: 'Admin console' })).toBeVisible();
    await expect(other.page).toHaveURL(`${portal.url}/admin`);
  } finally {
    await other.context.close();
  }
});

test('a non-admin gets 403 on every console page and server action, and nothing changes', async () => {
  const { page } = nils;
  await signIn(page, portal.url, 'nils', password);
  await expectPortal(page, 'nils');
  await expect(page.getByRole('link', { name: 'Admin console' })).toHaveCount(0);
  for (const path of ['/admin', '/admin/users', `/admin/users/${ids.erin}`, '/admin/users/new', '/admin/groups', '/admin/policies',
    '/admin/policies/new', '/admin/policies/what-if', '/admin/settings', '/admin/audit', '/admin/outbox', '/admin/api-keys']) {
    const response = await page.goto(`${portal.url}${path}`);
    expect(response?.status(), path).toBe(403);
    await expect(page.getByRole('heading', { name: '403 – Forbidden' })).toBeVisible();
  }

  // The bulk form as an admin's browser would post it (the action's id included), sent with
  // Nils's session cookie: the action checks the role itself (R-D9).
  await admin.page.goto(`${portal.url}/admin/users`);
  const fields = await admin.page.getByRole('form', { name: 'Users' }).evaluate((form) =>
    [...new FormData(form as HTMLFormElement).entries()].filter(([, v]) => typeof v === 'string') as [string, string][],
  );
  expect(fields.some(([name]) => name.startsWith('$ACTION'))).toBe(true);
  const body = new URLSearchParams(fields.filter(([name]) => name !== 'userIds'));
  body.append('userIds', ids.erin!);
  const response = await nils.context.request.post(`${portal.url}/admin/users`, {
    headers: { origin: portal.url, 'content-type': 'application/x-www-form-urlencoded' },
    data: body.toString(),
    maxRedirects: 0,
  });
  expect(response.status()).toBe(403);
  expect(await requirementOf('erin')).toBeUndefined();
});

test('an admin selects three users and requires MFA with the default: "in enrollment period" with the right dates (R-B2, R-F1)', async () => {
  const { page } = admin;
  await page.goto(`${portal.url}/admin/users`);
  await expect(page.getByRole('columnheader', { name: 'MFA' })).toBeVisible();
  for (const name of ['bram', 'cleo', 'dirk', 'erin']) await expect(mfaCell(page, name)).toHaveText('not enrolled');

  for (const name of ['bram', 'cleo', 'dirk']) await page.getByLabel(`Select ${name}`).check();
  await openBulkMenu(page);
  await expect(page.getByLabel('Enrollment period (days)')).toHaveValue('7');
  const before = Date.now();
  await page.getByRole('button', { name: 'Require MFA on User Portal' }).click();
  await expect(page.getByRole('main').getByRole('status')).toContainText('MFA on the User Portal is now required for 3 users');
  const after = Date.now();

  for (const name of ['bram', 'cleo', 'dirk']) {
    const row = (await requirementOf(name))!;
    expect(row.required).toBe(1);
    expect(row.enrollment_days).toBe(7);
    expect(row.period_starts_at!).toBeGreaterThanOrEqual(before - 1000);
    expect(row.period_starts_at!).toBeLessThanOrEqual(after);
    expect(row.period_ends_at! - row.period_starts_at!).toBe(7 * oneDay);
    const cell = mfaCell(page, name);
    await expect(cell).toHaveText('in enrollment period');
    await expect(mfaDetail(page, name)).toHaveText(
      `Enrollment period ${formatDateTime(row.period_starts_at!)} – ${formatDateTime(row.period_ends_at!)} (7 days).`,
    );
  }
  await expect(mfaCell(page, 'erin')).toHaveText('not enrolled');

  // R-F2: required + inactive (period not ended) finds exactly them.
  await page.getByLabel('MFA requirement', { exact: true }).selectOption('required');
  await page.getByLabel('MFA status', { exact: true }).selectOption('enrollment_period');
  await page.getByRole('button', { name: 'Apply' }).click();
  await expect(page.getByTestId('mfa-status')).toHaveCount(3);
});

for (const days of ['0', '366', '7.5', 'seven']) {
  test(`days "${days}" are refused with a clear message; nothing changes and the typed value stays (R-B2)`, async () => {
    const { page } = admin;
    await page.goto(`${portal.url}/admin/users`);
    await page.getByLabel('Select erin').check();
    await openBulkMenu(page);
    await page.getByLabel('Enrollment period (days)').fill(days);
    await page.getByRole('button', { name: 'Require MFA on User Portal' }).click();

    await expect(page.getByText(enrollmentDaysMessage)).toBeVisible();
    await expect(pageAlert(page)).toBeVisible();
    await expect(page.getByLabel('Enrollment period (days)')).toHaveValue(days);
    await expect(page.getByLabel('Enrollment period (days)')).toHaveAttribute('aria-invalid', 'true');
    await expect(page.getByLabel('Select erin')).toBeChecked();
    await expect(mfaCell(page, 'erin')).toHaveText('not enrolled');
    expect(await requirementOf('erin')).toBeUndefined();
  });
}

test('a duplicate policy name is refused with a clear message (R-C1)', async () => {
  const { page } = admin;
  // A group for the contractors, made and filled in the console.
  await page.goto(`${portal.url}/admin/groups`);
  await page.getByLabel('Group name').fill('Contractors');
  await page.getByRole('button', { name: 'Create group' }).click();
  await expect(page.getByRole('heading', { name: 'Group Contractors' })).toBeVisible();
  await page.getByLabel('Usernames').fill('nils');
  await page.getByRole('button', { name: 'Add members' }).click();
  await expect(page.getByRole('form', { name: 'Add members' }).getByRole('status')).toContainText('1 member added');
  await expect(page.getByRole('link', { name: 'nils', exact: true })).toBeVisible();

  const fillPolicy = async (name: string) => {
    await page.goto(`${portal.url}/admin/policies/new`);
    await page.getByLabel('Name', { exact: true }).fill(name);
    await page.getByLabel('Description').fill('Contractors may not use the demo app.');
    await page.getByRole('radio', { name: 'Selected User Groups' }).check();
    await page.getByRole('group', { name: 'Selected User Groups' }).getByLabel('Contractors').check();
    await page.getByRole('group', { name: 'Target resources' }).getByLabel('User Portal').uncheck();
    await page.getByRole('group', { name: 'Target resources' }).getByRole('checkbox', { name: /^demo/ }).check();
    await page.getByRole('radio', { name: 'Deny' }).check();
  };
  await fillPolicy('Block contractors on demo');
  await page.getByRole('button', { name: 'Create policy' }).click();
  await expect(page.getByRole('main').getByRole('status')).toHaveText('Policy created.');
  const row = page.getByRole('row').filter({ hasText: 'Block contractors on demo' });
  // New policies start OFF: switching one ON is a second, deliberate step.
  await expect(row.getByTestId('policy-status')).toHaveText('OFF');
  // Switching ON shows its impact first (issue 18 §5): Nils, the one contractor, will be denied.
  await row.getByRole('link', { name: 'Switch Block contractors on demo policy ON', exact: true }).click();
  await expect(page.getByTestId('impact-deny').getByTestId('impact-sample')).toHaveText('nils');
  await page.getByRole('button', { name: 'Confirm: switch Block contractors on demo ON' }).click();
  await expect(page.getByRole('main').getByRole('status')).toContainText('Policy switched ON');
  await expect(row.getByTestId('policy-status')).toHaveText('ON');

  await fillPolicy('BLOCK contractors on Demo');
  await page.getByRole('button', { name: 'Create policy' }).click();
  await expect(page.getByText('A policy named "BLOCK contractors on Demo" already exists.')).toBeVisible();
  await expect(page.getByLabel('Name', { exact: true })).toHaveValue('BLOCK contractors on Demo');
  await expect(page.getByLabel('Name', { exact: true })).toHaveAttribute('aria-invalid', 'true');
  await expect(page.getByRole('radio', { name: 'Deny' })).toBeChecked();
  const policies = await withDb(portal.databaseUrl, (db) => db.kysely.selectFrom('policies').select('name').execute());
  expect(policies.map((p) => p.name)).toEqual(['Block contractors on demo']);
});

test('what if: Ada asks about Nils on demo and sees the deny policy named with the criteria that matched (issue 18 §4)', async () => {
  const { page } = admin;
  const audited = () => withDb(portal.databaseUrl, (db) => db.kysely.selectFrom('audit_log').select('id').execute());
  const before = await audited();
  await page.goto(`${portal.url}/admin/policies`);
  await page.getByRole('link', { name: 'What if…' }).click();
  await page.getByLabel('Username or user id').fill('nils');
  await page.getByLabel('Resource').selectOption('demo');
  await page.getByLabel('IP address').fill('203.0.113.9');
  await page.getByRole('button', { name: 'Ask' }).click();
  await expect(page.getByTestId('what-if-decision')).toHaveText('Denied (R-D2), by the policy “Block contractors on demo”.');
  const row = page.getByTestId('what-if-policy').filter({ hasText: 'Block contractors on demo' });
  await expect(row.getByTestId('what-if-result')).toHaveText('Applies: the strictest that does');
  await expect(row).toContainText('Yes: ON');
  await expect(row).toContainText('Yes: demo is one of its resources (demo)');
  await expect(row).toContainText('Yes: In Contractors');
  // Asking writes nothing: no denial is audited for Nils.
  expect(await audited()).toEqual(before);
});

test('a policy switched OFF stops applying at the user\'s next request (R-C1)', async () => {
  await nils.page.goto(`${portal.url}/apps/demo`);
  await expect(nils.page.getByRole('heading', { name: 'Access denied' })).toBeVisible();

  const { page } = admin;
  await page.goto(`${portal.url}/admin/policies`);
  const row = page.getByRole('row').filter({ hasText: 'Block contractors on demo' });
  await row.getByRole('button', { name: 'Switch Block contractors on demo policy OFF', exact: true }).click();
  await expect(page.getByRole('main').getByRole('status')).toContainText('Policy switched OFF');
  await expect(row.getByTestId('policy-status')).toHaveText('OFF');

  await nils.page.goto(`${portal.url}/apps/demo`);
  await expect(nils.page.getByRole('heading', { name: 'Demo App' })).toBeVisible();

  const audit = await withDb(portal.databaseUrl, (db) =>
    db.kysely.selectFrom('audit_log').selectAll().where('action', '=', 'policy.disabled').execute(),
  );
  expect(audit).toHaveLength(1);
  expect(audit[0]!.actor_label).toBe('ada');
  expect(audit[0]!.client_ip).toBeTruthy();
});

test('expired → reset → in enrollment period again (R-F4)', async () => {
  const { page } = admin;
  const expired = (await requirementOf('xena'))!;
  await page.goto(`${portal.url}/admin/users?required=required&status=expired`);
  await expect(mfaCell(page, 'xena')).toHaveText('enrollment expired');
  // The details open by keyboard: a disclosure, not a tooltip.
  await mfaCell(page, 'xena').focus();
  await page.keyboard.press('Enter');
  await expect(mfaDetail(page, 'xena')).toBeVisible();
  await expect(mfaDetail(page, 'xena')).toHaveText(new RegExp(`^Enrollment expired ${escapeRegExp(formatDateTime(expired.period_ends_at!))}`));

  await page.getByRole('link', { name: 'xena', exact: true }).click();
  await expect(page.getByRole('heading', { name: 'User xena' })).toBeVisible();
  await expect(page.getByTestId('mfa-status')).toHaveText('enrollment expired');
  const before = Date.now();
  await page.getByText('Reset TOTP…').click(); // the confirm step
  await page.getByRole('button', { name: 'Reset TOTP MFA' }).click();
  await expect(page.getByRole('main').getByRole('status').first()).toContainText('TOTP reset');
  await expect(page.getByTestId('mfa-status')).toHaveText('in enrollment period');

  const renewed = (await requirementOf('xena'))!;
  expect(renewed.period_starts_at!).toBeGreaterThanOrEqual(before - 1000);
  expect(renewed.period_ends_at! - renewed.period_starts_at!).toBe(7 * oneDay);
  await page.goto(`${portal.url}/admin/users?q=xena`);
  await expect(mfaCell(page, 'xena')).toHaveText('in enrollment period');

  // R-F4: she is emailed about the new period (queued by the server's mail worker within its
  // 2 s round); the reset is audited with Ada's address.
  await expect
    .poll(async () => {
      const mail = await withDb(portal.databaseUrl, (db) =>
        db.kysely.selectFrom('mail_outbox').select(['kind', 'to_address']).where('user_id', '=', ids.xena!).where('kind', '=', 'enrollment_started').execute(),
      );
      return mail.map((m) => m.to_address);
    }, { timeout: 10_000 })
    .toContain('xena@example.test');
  const audit = await withDb(portal.databaseUrl, (db) => db.kysely.selectFrom('audit_log').selectAll().where('action', '=', 'mfa.totp_reset').execute());
  expect(audit).toHaveLength(1);
  expect(audit[0]!.actor_label).toBe('ada');
  expect(audit[0]!.target_id).toBe(ids.xena);
});

test('impact preview: Ada switches an all-users require-MFA policy ON after seeing who is challenged and who must enroll (issue 18 §5)', async () => {
  // Seeded, not clicked: an OFF policy on demo for everyone but the contractors, and a TOTP factor for Erin.
  await withDb(portal.databaseUrl, async (db) => {
    const contractors = await db.kysely.selectFrom('groups').select('id').where('name', '=', 'Contractors').executeTakeFirstOrThrow();
    await createPolicy(db.kysely, { name: 'Demo needs MFA', resources: ['demo'], action: 'require_mfa', excludeGroupIds: [contractors.id] }, cliActor, systemClock);
    await db.kysely
      .insertInto('factors')
      .values({ id: randomUUID(), user_id: ids.erin!, type: 'totp', name: 'Phone', created_at: Date.now(), last_used_at: null, secret_enc: 'sealed', last_used_step: null, credential_id: null, public_key: null, sign_count: null, transports: null })
      .execute();
  });
  const { page } = admin;
  await page.goto(`${portal.url}/admin/policies`);
  await page.getByRole('link', { name: 'Switch Demo needs MFA policy ON', exact: true }).click();
  // Active users but Nils (excluded): Ada and Erin have TOTP; the others have no factor yet.
  await expect(page.getByTestId('impact-in-scope')).toHaveText('6 active users are in its scope.');
  const cells = (id: string) => page.getByTestId(`impact-${id}`);
  await expect(cells('challenge').getByTestId('impact-count')).toHaveText('2');
  await expect(cells('challenge').getByTestId('impact-sample')).toHaveText('ada, erin');
  await expect(cells('enroll-has-none').getByTestId('impact-count')).toHaveText('4');
  await expect(cells('enroll-has-none').getByTestId('impact-sample')).toHaveText('bram, cleo, dirk, xena');
  await expect(cells('enroll-has-factor').getByTestId('impact-count')).toHaveText('0');
  await expect(cells('deny').getByTestId('impact-count')).toHaveText('0');
  const stillOff = await withDb(portal.databaseUrl, (db) => db.kysely.selectFrom('policies').select('enabled').where('name', '=', 'Demo needs MFA').executeTakeFirstOrThrow());
  expect(Number(stillOff.enabled)).toBe(0);

  await page.getByRole('button', { name: 'Confirm: switch Demo needs MFA ON' }).click();
  await expect(page.getByRole('main').getByRole('status')).toContainText('Policy switched ON');
  const row = page.getByRole('row').filter({ hasText: 'Demo needs MFA' });
  await expect(row.getByTestId('policy-status')).toHaveText('ON');

  // Changing it while ON previews too; Confirm applies only the draft previewed.
  await row.getByRole('link', { name: 'Demo needs MFA' }).click();
  await page.getByLabel('Priority').fill('5');
  await page.getByRole('button', { name: 'Save policy' }).click();
  await expect(page.getByTestId('policy-preview').getByTestId('impact-challenge').getByTestId('impact-sample')).toHaveText('ada, erin');
  await page.getByLabel('Priority').fill('6');
  await page.getByRole('button', { name: 'Confirm: save policy' }).click();
  await expect(page.getByTestId('policy-preview').getByRole('alert')).toContainText('The form changed since the preview');
  await page.getByRole('button', { name: 'Confirm: save policy' }).click();
  await expect(page.getByRole('main').getByRole('status')).toHaveText('Policy saved.');
  await expect(row.getByTestId('policy-priority')).toHaveText('6');
});

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
