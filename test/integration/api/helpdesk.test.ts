import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createApiKey } from '../../../lib/admin/api-keys';
import { can, type Permission } from '../../../lib/admin/permissions';
import { routes, type RouteKey } from '../../../lib/api/routes';
import { dialects } from '../support/dialects';
import { apiWorld, expectJson, expectProblem, type ApiWorld } from './support';

// Password reset links and invitations are sealed under the app secret (lib/auth/account-tokens.ts).
process.env.PORTCULLIS_SECRET ??= 'contract-test-secret-0123456789abcdef';

/*
 * Issue 18 part 7 over the API: a key with the helpdesk role ("service-desk", used by Hal's
 * ticketing tool) may do the helpdesk's tasks and gets 403 on every other route. Every route
 * of the table is walked (the OpenAPI test proves the table is exactly the route files).
 */
const everyRoute = (Object.keys(routes) as RouteKey[]).filter((key) => routes[key].permission !== 'public');
const refused = everyRoute.filter((key) => !can('helpdesk', routes[key].permission as Permission));
const allowed = everyRoute.filter((key) => can('helpdesk', routes[key].permission as Permission));
const seedActor = { id: null, label: 'seed', clientIp: null };

/** How Hal's key does each allowed route for real: the request, and the status that proves it worked. */
const helpdeskTasks: Record<string, { path: (ids: Ids) => string; body?: unknown; status: number; audited?: string }> = {
  'GET /users': { path: () => '/users', status: 200 },
  'GET /users/{id}': { path: (ids) => `/users/${ids.tom}`, status: 200 },
  'POST /users/{id}/mfa/reset': { path: (ids) => `/users/${ids.tom}/mfa/reset`, body: { enrollmentDays: 3 }, status: 200, audited: 'mfa.totp_reset' },
  'POST /users/{id}/invitation': { path: (ids) => `/users/${ids.ivy}/invitation`, status: 200, audited: 'user.invitation_resent' },
  'POST /users/{id}/password-reset': { path: (ids) => `/users/${ids.tom}/password-reset`, status: 202, audited: 'user.password_reset_sent' },
};
interface Ids {
  tom: string;
  ivy: string;
}

function concrete(key: RouteKey, id: string): { method: string; path: string } {
  const [method, path] = key.split(' ') as [string, string];
  return { method, path: path.replace('{id}', id) };
}

describe.each(dialects)('a helpdesk API key on every route, on %s', (dialect) => {
  let world: ApiWorld;
  let helpdeskKey: string;
  let ids: Ids;

  beforeEach(async () => {
    world = await apiWorld(dialect);
    helpdeskKey = (await createApiKey(world.db.kysely, { name: 'service-desk', role: 'helpdesk' }, seedActor, world.clock)).key;
    // Tom lost his phone; Ivy was invited and has not set a password yet.
    const tom = await world.user('tom', 'active', { email: 'tom@example.org', password: 'Tom-lost-his-phone-in-the-lake-42' });
    await world.addFactor(tom, 'totp');
    const ivy = await world.user('ivy', 'active', { email: 'ivy@example.org', invite: true });
    ids = { tom, ivy };
  });
  afterEach(async () => {
    await world.close();
  });

  it('has a real task here for every route the helpdesk may use, and no other', () => {
    expect(allowed.sort()).toEqual(Object.keys(helpdeskTasks).sort());
  });

  it.each(refused)('%s: 403 with the role named, and nothing changes or is audited', async (key) => {
    const before = await world.db.kysely.selectFrom('audit_log').select('id').execute();
    const usersBefore = await world.db.kysely.selectFrom('users').selectAll().orderBy('id').execute();
    const { method, path } = concrete(key, ids.tom);
    const response = await world.call(method, path, { key: helpdeskKey, body: method === 'GET' || method === 'DELETE' ? undefined : { role: 'admin' } });
    const problem = await expectProblem(response, 403);
    expect(problem.detail).toBe(`The API key "service-desk" has the helpdesk role, which may not do this (${routes[key].permission}).`);
    expect(await world.db.kysely.selectFrom('audit_log').select('id').execute()).toHaveLength(before.length);
    expect(await world.db.kysely.selectFrom('users').selectAll().orderBy('id').execute()).toEqual(usersBefore);
  });

  it.each(allowed)('%s: does the task, audited under the key', async (key) => {
    const task = helpdeskTasks[key]!;
    const { method } = concrete(key, ids.tom);
    const response = await world.call(method, task.path(ids), { key: helpdeskKey, ...(task.body !== undefined ? { body: task.body } : {}) });
    await expectJson(response, task.status);
    if (task.audited) {
      const entry = await world.db.kysely.selectFrom('audit_log').selectAll().where('action', '=', task.audited).executeTakeFirstOrThrow();
      expect(entry.actor_label).toBe('api-key:service-desk');
    }
  });

  it("resets Tom's TOTP: his authenticator app goes and a new enrollment period starts", async () => {
    const result = await expectJson(await world.call('POST', `/users/${ids.tom}/mfa/reset`, { key: helpdeskKey, body: { enrollmentDays: 3 } }), 200);
    expect(result.removedFactors).toBe(1);
    const detail = await expectJson(await world.call('GET', `/users/${ids.tom}`, { key: helpdeskKey }), 200);
    expect(detail.mfa.factors).toEqual([]);
    expect(detail.mfa.status).toBe('enrollment_period');
  });
});

describe.each(dialects)('PUT /users/{id}/role on %s', (dialect) => {
  let world: ApiWorld;

  beforeEach(async () => {
    world = await apiWorld(dialect);
  });
  afterEach(async () => {
    await world.close();
  });

  it('an admin key makes Hal helpdesk and back to user, each change audited with from and to', async () => {
    const hal = await world.user('hal');
    const made = await expectJson(await world.call('PUT', `/users/${hal}/role`, { body: { role: 'helpdesk' } }), 200);
    expect(made.role).toBe('helpdesk');
    const again = await expectJson(await world.call('PUT', `/users/${hal}/role`, { body: { role: 'helpdesk' } }), 200);
    expect(again.role).toBe('helpdesk');
    await expectJson(await world.call('PUT', `/users/${hal}/role`, { body: { role: 'user' } }), 200);
    const entries = await world.db.kysely
      .selectFrom('audit_log')
      .select(['actor_label', 'details'])
      .where('action', '=', 'user.role_changed')
      .where('target_id', '=', hal)
      .orderBy('id')
      .execute();
    expect(entries.map((e) => [e.actor_label, JSON.parse(e.details!)])).toEqual([
      ['api-key:ops-automation', { from: 'user', to: 'helpdesk' }],
      ['api-key:ops-automation', { from: 'helpdesk', to: 'user' }],
    ]);
  });

  it('refuses an unknown role, other fields, an unknown user, and demoting the last admin to helpdesk', async () => {
    const ada = await world.user('ada', 'active', { role: 'admin' });
    await expectProblem(await world.call('PUT', `/users/${ada}/role`, { body: { role: 'root' } }), 400);
    await expectProblem(await world.call('PUT', `/users/${ada}/role`, { body: { role: 'user', state: 'suspended' } }), 400);
    await expectProblem(await world.call('PUT', '/users/nobody/role', { body: { role: 'user' } }), 404);
    const problem = await expectProblem(await world.call('PUT', `/users/${ada}/role`, { body: { role: 'helpdesk' } }), 409);
    expect(problem.detail).toBe('This is the last admin: make someone else an admin first.');
    expect((await world.db.kysely.selectFrom('users').select('role').where('id', '=', ada).executeTakeFirstOrThrow()).role).toBe('admin');
  });

  it('a read key cannot change a role either', async () => {
    const hal = await world.user('hal');
    await expectProblem(await world.call('PUT', `/users/${hal}/role`, { key: world.readKey, body: { role: 'admin' } }), 403);
  });
});
