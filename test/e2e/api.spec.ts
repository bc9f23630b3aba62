import { expect, test } from '@playwright/test';
import { cliActor } from '../../lib/admin/actor';
import { createApiKey } from '../../lib/admin/api-keys';
import { systemClock } from '../../lib/clock';
import { seedUsers, withDb } from './support/seed';
import { startPortal, type Portal } from './support/server';

/**
 * Every REST write through the built server (`npm start`), on the database the run is for
 * (scripts/test.sh runs this on SQLite and on PostgreSQL). Once, on PostgreSQL the
 * production bundle sent SQLite's SQL from the bulk paths (PUT …/members, anything that
 * queues mail) and answered 500; the contract suites, which don't bundle, could not see it.
 *
 * Personas: ops-automation (an admin API key) manages ada, bob and cleo.
 */
let portal: Portal;
let key: string;
let ids: Record<string, string>;

test.beforeAll(async () => {
  portal = await startPortal();
  ids = await seedUsers(portal.databaseUrl, [
    { username: 'ada', email: 'ada@example.test', password: 'correct horse battery staple', state: 'active' },
    { username: 'bob', email: 'bob@example.test', password: 'correct horse battery staple', state: 'active' },
    { username: 'cleo', email: 'cleo@example.test', password: 'correct horse battery staple', state: 'active' },
  ]);
  key = await withDb(portal.databaseUrl, async (db) => (await createApiKey(db.kysely, { name: 'ops-automation', role: 'admin' }, cliActor, systemClock)).key);
});

test.afterAll(async () => {
  await portal?.stop();
});

async function call(method: string, path: string, body?: unknown): Promise<{ status: number; json: any }> {
  const response = await fetch(`${portal.url}/api/v1${path}`, {
    method,
    headers: { authorization: `Bearer ${key}`, ...(body !== undefined ? { 'content-type': 'application/json' } : {}) },
    ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
  });
  const text = await response.text();
  return { status: response.status, json: text ? JSON.parse(text) : null };
}

/** The call's JSON, after checking its status (the body is in the message when it differs). */
async function expectStatus(method: string, path: string, status: number, body?: unknown) {
  const result = await call(method, path, body);
  expect(result.status, `${method} ${path}: ${JSON.stringify(result.json)}`).toBe(status);
  return result.json;
}

test('@pg users: create, patch (profile, state, requirement), bulk require and reset, with their mail queued', async () => {
  const dora = await expectStatus('POST', '/users', 201, { username: 'dora', email: 'dora@example.test', displayName: 'Dora', state: 'staged' });
  expect(dora).toMatchObject({ username: 'dora', state: 'staged' });

  const patched = await expectStatus('PATCH', `/users/${dora.id}`, 200, { displayName: 'Dora Explorer', state: 'active', mfa: { required: true, enrollmentDays: 7 } });
  expect(patched).toMatchObject({ displayName: 'Dora Explorer', state: 'active', mfa: { required: true, enrollmentDays: 7 } });

  // The bulk path: one id list as one parameter, and the enrollment mail queued in one statement.
  const required = await expectStatus('POST', '/users/mfa/require', 200, { userIds: [ids.ada, ids.bob, ids.cleo], enrollmentDays: 14 });
  expect(JSON.stringify(required)).toContain(ids.ada);
  for (const name of ['ada', 'bob', 'cleo']) {
    expect((await expectStatus('GET', `/users/${ids[name]}`, 200)).mfa).toMatchObject({ required: true, enrollmentDays: 14 });
  }

  const reset = await expectStatus('POST', `/users/${ids.bob}/mfa/reset`, 200, { enrollmentDays: 3 });
  expect(reset).toBeTruthy();
  expect((await expectStatus('GET', `/users/${ids.bob}`, 200)).mfa).toMatchObject({ required: true, enrollmentDays: 3 });

  // The server's mail worker queues each started period's message (R-B5) on its next tick.
  const queuedFor = async () =>
    new Set((await withDb(portal.databaseUrl, (db) => db.kysely.selectFrom('mail_outbox').select('user_id').execute())).map((m) => m.user_id));
  await expect.poll(queuedFor, { timeout: 30_000 }).toEqual(new Set([dora.id, ids.ada, ids.bob, ids.cleo]));
});

test('@pg groups: create, then PUT the members (set, replace, empty)', async () => {
  const group = await expectStatus('POST', '/groups', 201, { name: 'Contractors' });
  expect(await expectStatus('PUT', `/groups/${group.id}/members`, 200, { userIds: [ids.ada, ids.bob] })).toEqual({ count: 2, added: 2, removed: 0 });
  expect(await expectStatus('PUT', `/groups/${group.id}/members`, 200, { userIds: [ids.cleo] })).toEqual({ count: 1, added: 1, removed: 2 });
  const listed = await expectStatus('GET', '/groups', 200);
  expect(listed.groups.find((g: { id: string }) => g.id === group.id)).toMatchObject({ name: 'Contractors' });
  expect((await expectStatus('GET', `/users/${ids.cleo}`, 200)).groups).toEqual([expect.objectContaining({ id: group.id })]);
  expect(await expectStatus('PUT', `/groups/${group.id}/members`, 200, { userIds: [] })).toEqual({ count: 0, added: 0, removed: 1 });
  // Unknown ids are a 404 naming them, and change nothing.
  const problem = await expectStatus('PUT', `/groups/${group.id}/members`, 404, { userIds: [ids.ada, 'no-such-user'] });
  expect(problem).toMatchObject({ resource: 'user', unknownIds: ['no-such-user'] });
});

test('@pg policies: create, patch, delete', async () => {
  const officeOnly = {
    name: 'Office network needs MFA',
    conditions: { ipNotIn: ['203.0.113.0/24'] },
    resources: ['portal'],
    action: 'require_mfa',
  };
  const policy = await expectStatus('POST', '/policies', 201, officeOnly);
  // A new policy starts OFF unless the request says otherwise (issue 16).
  expect(policy).toMatchObject({ ...officeOnly, enabled: false });
  expect(await expectStatus('PATCH', `/policies/${policy.id}`, 200, { enabled: true, priority: 5 })).toMatchObject({ enabled: true, priority: 5 });
  expect((await expectStatus('POST', '/policies', 409, { ...officeOnly, name: officeOnly.name.toUpperCase() })).status).toBe(409);
  expect((await call('DELETE', `/policies/${policy.id}`)).status).toBe(204);
  expect((await expectStatus('GET', `/policies/${policy.id}`, 404)).status).toBe(404);
});

test('@pg settings: PUT the MFA methods', async () => {
  const saved = await expectStatus('PUT', '/settings/mfa', 200, { totp: true, webauthn: true, duo: false });
  expect(saved).toMatchObject({ totp: true, webauthn: true, duo: false });
  expect(await expectStatus('GET', '/settings/mfa', 200)).toMatchObject({ totp: true, webauthn: true, duo: false });
  const refused = await expectStatus('PUT', '/settings/mfa', 400, { totp: false, webauthn: true, duo: false });
  expect(refused.errors.webauthn[0]).toContain('WebAuthn cannot be the only enabled method');
});
