import fs from 'node:fs';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import { expect, test, type APIRequestContext, type BrowserContext } from '@playwright/test';
import { startPortal, type Portal } from './support/server';
import { insertEnrolledTotp, seedUsers, withDb } from './support/seed';
import { signIn } from './support/pages';
import { codeAt, currentStep } from './support/totp-codes';
import { cliActor } from '../../lib/admin/actor';
import { systemClock } from '../../lib/clock';
import { saveMfaSettings } from '../../lib/admin/mfa-settings';
import { base32Encode } from '../../lib/factors/totp';

/*
 * Issue 18 part 7 through the production build. Hal works at the helpdesk (role helpdesk,
 * with his own authenticator app). Rita lost her phone: Hal resets her TOTP from her page in
 * the console. The policies page answers him 403. Then, as Hal, every console page found
 * on disk and every console server action in the build's manifest (the same set as on disk)
 * is called on the running server: the ones test/unit/admin/console-permissions.test.ts
 * lists for the helpdesk work, every other answers 403 (an action: forbidden() from its own
 * check, called from a page Hal may open) and changes nothing.
 */
const password = 'helpdesk spec passphrase';
const halSecret = base32Encode(randomBytes(20));
const root = path.resolve(__dirname, '../..');
let portal: Portal;
let ids: Record<string, string>;
let hal: BrowserContext;

test.describe.configure({ mode: 'serial' });

test.beforeAll(async ({ browser }) => {
  portal = await startPortal();
  ids = await seedUsers(portal.databaseUrl, [
    { username: 'hal', password, state: 'active', role: 'helpdesk' },
    { username: 'rita', password, state: 'active', email: 'rita@example.com' },
    { username: 'victor', password, state: 'active', email: 'victor@example.com' },
    { username: 'ada', password, state: 'active', role: 'admin' },
  ]);
  await withDb(portal.databaseUrl, async (db) => {
    await saveMfaSettings(db.kysely, { totp: true, webauthn: true, duo: false }, cliActor, systemClock, { sealSecret: async (s) => s });
    await insertEnrolledTotp(db.kysely, { userId: ids.hal!, secret: halSecret, portalSecret: portal.secret, id: 'factor-hal', name: 'Hal’s phone' });
    await insertEnrolledTotp(db.kysely, { userId: ids.rita!, secret: base32Encode(randomBytes(20)), portalSecret: portal.secret, id: 'factor-rita', name: 'Rita’s phone' });
    await insertEnrolledTotp(db.kysely, { userId: ids.victor!, secret: base32Encode(randomBytes(20)), portalSecret: portal.secret, id: 'factor-victor', name: 'Victor’s phone' });
  });
  hal = await browser.newContext();
});

test.afterAll(async () => {
  await hal?.close();
  await portal?.stop();
});

const auditBy = (actor: string) =>
  withDb(portal.databaseUrl, (db) => db.kysely.selectFrom('audit_log').select(['action', 'target_id']).where('actor_label', '=', actor).orderBy('id').execute());

test("Hal from the helpdesk resets Rita's TOTP in the console, sees only what he may use, and gets 403 on the policies page", async () => {
  const page = await hal.newPage();
  await signIn(page, portal.url, 'hal', password, '/admin');
  await page.getByLabel('Verification code').fill(codeAt(halSecret, currentStep()));
  await page.getByRole('button', { name: 'Verify' }).click();
  await expect(page.getByRole('heading', { name: 'Admin console' })).toBeVisible();
  await expect(page.getByRole('navigation', { name: 'Admin console' }).getByRole('link')).toHaveText(['Overview', 'Users']);

  await page.goto(`${portal.url}/admin/users/${ids.rita}`);
  await expect(page.getByRole('heading', { name: 'Role' })).toBeHidden();
  await expect(page.getByRole('heading', { name: 'Edit' })).toBeHidden();
  await page.getByText('Reset TOTP…').click();
  await page.getByRole('button', { name: 'Reset TOTP MFA' }).click();
  await expect(page.getByRole('main').getByRole('status').first()).toContainText('TOTP reset: a new enrollment period has started');
  await expect(page.getByText('No second factor set up.')).toBeVisible();
  expect(await auditBy('hal')).toContainEqual({ action: 'mfa.totp_reset', target_id: ids.rita });

  const refused = await page.goto(`${portal.url}/admin/policies`);
  expect(refused!.status()).toBe(403);
  await expect(page.getByRole('heading', { name: '403 – Forbidden' })).toBeVisible();
  await page.close();
});

/** Console pages on disk, as paths: [id] is Victor (a user page) or an id nothing has (403 comes before the lookup). */
function consolePages(): { file: string; url: string }[] {
  const found: string[] = [];
  const walk = (dir: string) => {
    for (const d of fs.readdirSync(dir, { withFileTypes: true })) {
      if (d.isDirectory()) walk(path.join(dir, d.name));
      else if (d.name === 'page.tsx' || d.name === 'route.ts') found.push(path.relative(root, path.join(dir, d.name)).split(path.sep).join('/'));
    }
  };
  walk(path.join(root, 'app/admin'));
  return found.sort().map((file) => ({
    file,
    url: path.posix.dirname(file).replace(/^app/, '').replace(/\[id\]/g, file.startsWith('app/admin/users/') ? ids.victor! : 'no-such-id'),
  }));
}

/** Console server actions in the build, with the page that serves each. */
function consoleActions(): { id: string; name: string; file: string; page: string }[] {
  const manifest = JSON.parse(fs.readFileSync(path.join(root, '.next/server/server-reference-manifest.json'), 'utf8')) as {
    node: Record<string, { workers: Record<string, unknown>; filename: string; exportedName: string }>;
  };
  return Object.entries(manifest.node)
    .filter(([, a]) => a.filename.startsWith('app/admin/'))
    .map(([id, a]) => {
      const worker = Object.keys(a.workers).find((w) => w.startsWith('app/admin/'))!;
      return { id, name: a.exportedName, file: a.filename, page: worker.replace(/^app/, '').replace(/\/page$/, '').replace(/\[id\]/g, ids.victor!) };
    });
}

/** The server actions a file on disk exports, and whether each takes (state, formData) or (formData). */
function actionsOnDisk(): Map<string, boolean> {
  const out = new Map<string, boolean>();
  const walk = (dir: string) => {
    for (const d of fs.readdirSync(dir, { withFileTypes: true })) {
      const full = path.join(dir, d.name);
      if (d.isDirectory()) walk(full);
      else if (/\.tsx?$/.test(d.name)) {
        const text = fs.readFileSync(full, 'utf8');
        if (!/^'use server';/.test(text)) continue;
        const file = path.relative(root, full).split(path.sep).join('/');
        for (const m of text.matchAll(/export async function (\w+)\(([^)]*)\)/g)) out.set(`${file}#${m[1]}`, m[2]!.split(',').length === 2);
      }
    }
  };
  walk(path.join(root, 'app/admin'));
  return out;
}

/** What the helpdesk may use (the same list as test/unit/admin/console-permissions.test.ts). */
const helpdeskMay = new Set([
  'app/admin/page.tsx',
  'app/admin/users/page.tsx',
  'app/admin/users/[id]/page.tsx',
  'app/admin/users/[id]/actions.ts#resetTotpAction',
  'app/admin/users/[id]/actions.ts#unlockUserAction',
  'app/admin/users/[id]/actions.ts#revokeSessionsAction',
  'app/admin/users/[id]/actions.ts#forgetDeviceAction',
  'app/admin/users/[id]/actions.ts#forgetDevicesAction',
  'app/admin/users/[id]/actions.ts#resendInvitationAction',
  'app/admin/users/[id]/actions.ts#sendPasswordResetAction',
]);

/** Calls a server action the way the browser does: its id in Next-Action, the arguments as React encodes them. */
async function callAction(request: APIRequestContext, action: { id: string; page: string }, twoArgs: boolean, fields: Record<string, string>) {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const { encodeReply } = require('next/dist/compiled/react-server-dom-webpack/client.node.js') as {
    encodeReply: (value: unknown) => Promise<string | FormData>;
  };
  const form = new FormData();
  for (const [k, v] of Object.entries(fields)) form.set(k, v);
  const encoded = await encodeReply(twoArgs ? [{}, form] : [form]);
  // As encoded, in its order: the form's fields before the root ("0") that refers to them.
  const multipart = typeof encoded === 'string' ? new FormData() : encoded;
  if (typeof encoded === 'string') multipart.set('0', encoded);
  return request.post(`${portal.url}${action.page}`, {
    headers: { 'next-action': action.id, accept: 'text/x-component', origin: portal.url },
    multipart,
    maxRedirects: 0,
  });
}

test('as Hal, every console page and server action on disk: the helpdesk ones work, every other is 403 and changes nothing', async () => {
  const request = hal.request;
  for (const { file, url } of consolePages()) {
    const response = await request.get(`${portal.url}${url}`, { maxRedirects: 0 });
    expect(response.status(), `${file} → ${url}`).toBe(helpdeskMay.has(file) ? 200 : 403);
  }

  const onDisk = actionsOnDisk();
  const built = consoleActions();
  expect(built.map((a) => `${a.file}#${a.name}`).sort()).toEqual([...onDisk.keys()].sort());
  const victimFields = { userId: ids.victor!, groupId: 'no-such-id', policyId: 'no-such-id', keyId: 'no-such-id', messageId: 'no-such-id', factorId: 'factor-victor', role: 'admin', name: 'Hal was here', enabled: 'off', op: 'remove', userIds: ids.victor!, username: 'mallory', state: 'suspended', totp: 'on', enrollmentDays: '7' };
  const before = await auditBy('hal');
  const usersBefore = await withDb(portal.databaseUrl, (db) => db.kysely.selectFrom('users').selectAll().orderBy('id').execute());
  for (const action of built) {
    const key = `${action.file}#${action.name}`;
    if (helpdeskMay.has(key)) continue;
    // Posted to the overview, which Hal may see: the refusal is the action's own check, not the page's.
    const response = await callAction(request, { ...action, page: '/admin' }, onDisk.get(key)!, victimFields);
    expect(await response.text(), key).toContain('"digest":"NEXT_HTTP_ERROR_FALLBACK;403"');
  }
  expect(await auditBy('hal')).toEqual(before);
  expect(await withDb(portal.databaseUrl, (db) => db.kysely.selectFrom('users').selectAll().orderBy('id').execute())).toEqual(usersBefore);
  expect(await withDb(portal.databaseUrl, (db) => db.kysely.selectFrom('factors').select('id').where('id', '=', 'factor-victor').execute())).toHaveLength(1);

  // The helpdesk's own tasks on Victor, each audited under Hal's name.
  const expectedAudit: Record<string, string> = {
    unlockUserAction: 'user.unlocked',
    revokeSessionsAction: 'user.sessions_revoked',
    forgetDevicesAction: 'mfa.devices_forgotten',
    sendPasswordResetAction: 'user.password_reset_sent',
    resetTotpAction: 'mfa.totp_reset',
  };
  for (const action of built.filter((a) => expectedAudit[a.name] !== undefined)) {
    const response = await callAction(request, action, onDisk.get(`${action.file}#${action.name}`)!, { userId: ids.victor!, enrollmentDays: '7' });
    expect(response.status(), action.name).toBeLessThan(400);
  }
  const done = (await auditBy('hal')).slice(before.length);
  expect(done.map((e) => e.action).sort()).toEqual(Object.values(expectedAudit).sort());
  expect(done.every((e) => e.target_id === ids.victor)).toBe(true);
});
