import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createSession } from '../../../lib/auth/sessions';
import { encodeSessionCookie, sessionCookieName } from '../../../lib/auth/cookie';
import { can, type Permission } from '../../../lib/admin/permissions';
import { routes, type RouteKey } from '../../../lib/api/routes';
import { dialects } from '../support/dialects';
import { apiWorld, expectJson, expectProblem, origin, type ApiWorld } from './support';

process.env.PORTCULLIS_SECRET ??= 'contract-test-secret-0123456789abcdef';

/** Every route with a concrete path (ids of things that need not exist: auth comes first). */
const everyRoute = (Object.keys(routes) as RouteKey[])
  .filter((key) => routes[key].permission !== 'public')
  .map((key) => {
    const [method, path] = key.split(' ') as [string, string];
    const permission = routes[key].permission as Permission;
    return { key, method, path: path.replace('{id}', '00000000-0000-4000-8000-000000000000'), readable: can('read', permission) };
  });
const writes = everyRoute.filter((r) => !r.readable);
const reads = everyRoute.filter((r) => r.readable);
const withBody = (Object.keys(routes) as RouteKey[])
  .filter((key) => 'body' in routes[key])
  .map((key) => {
    const [method, path] = key.split(' ') as [string, string];
    return { key, method, path: path.replace('{id}', '00000000-0000-4000-8000-000000000000'), limit: (routes[key] as { maxBodyBytes?: number }).maxBodyBytes ?? 64 * 1024 };
  });

describe.each(dialects)('API keys, cookies and body limits on every route, on %s', (dialect) => {
  let world: ApiWorld;

  beforeEach(async () => {
    world = await apiWorld(dialect);
  });
  afterEach(async () => {
    await world.close();
  });

  it.each(everyRoute)('$key without a key: 401 with WWW-Authenticate', async ({ method, path }) => {
    const response = await world.call(method, path, { key: null, body: method === 'GET' || method === 'DELETE' ? undefined : {} });
    const problem = await expectProblem(response, 401);
    expect(problem.type).toBe('urn:portcullis:problem:unauthorized');
    expect(response.headers.get('www-authenticate')).toMatch(/^Bearer realm="portcullis-api"/);
  });

  it.each(everyRoute)("$key with only an admin's session cookie: 401 (the API takes no cookies)", async ({ method, path }) => {
    const ada = await world.user('ada.admin', 'active', { role: 'admin' });
    const token = await createSession(world.db.kysely, ada, { ip: null, userAgent: null }, world.clock);
    const cookie = `${sessionCookieName(origin)}=${await encodeSessionCookie(token)}`;
    const response = await world.call(method, path, { key: null, headers: { cookie }, body: method === 'GET' || method === 'DELETE' ? undefined : {} });
    await expectProblem(response, 401);
  });

  it.each(writes)('$key with the read-only key "dashboards": 403, and nothing is audited', async ({ method, path }) => {
    const before = await world.db.kysely.selectFrom('audit_log').select('id').execute();
    const response = await world.call(method, path, { key: world.readKey, body: method === 'DELETE' ? undefined : {} });
    const problem = await expectProblem(response, 403);
    expect(problem.detail).toContain('read-only');
    expect(await world.db.kysely.selectFrom('audit_log').select('id').execute()).toHaveLength(before.length);
  });

  it.each(reads)('$key with the read-only key: allowed', async ({ method, path }) => {
    const response = await world.call(method, path, { key: world.readKey });
    // Reads of a made-up id are 404s, the outbox is 503 without a mail module: all past auth.
    expect([200, 404, 503]).toContain(response.status);
  });

  it('refuses unknown, revoked and malformed keys alike', async () => {
    const unknown = await world.call('GET', '/users', { key: 'pcl_' + 'A'.repeat(43) });
    expect((await expectProblem(unknown, 401)).detail).toBe('The API key is unknown, revoked or expired.');
    expect(unknown.headers.get('www-authenticate')).toContain('error="invalid_token"');
    await world.db.kysely.updateTable('api_keys').set({ revoked_at: world.clock.now() }).where('name', '=', 'ops-automation').execute();
    await expectProblem(await world.call('GET', '/users'), 401);
    for (const authorization of ['Basic b3BzOnNlY3JldA==', `Bearer`, `Bearer ${world.readKey} extra`, `Token ${world.readKey}`, `Bearer ${'x'.repeat(400)}`]) {
      const response = await world.handlers['GET /users'](new Request(`${origin}/api/v1/users`, { headers: { authorization } }));
      await expectProblem(response, 401);
    }
    // The scheme is case-insensitive (RFC 7235).
    const lower = await world.handlers['GET /users'](new Request(`${origin}/api/v1/users`, { headers: { authorization: `bearer ${world.readKey}` } }));
    await expectJson(lower, 200);
  });

  it.each(withBody)('$key: a body over $limit bytes is 413; text/plain is 415; broken JSON is 400', async ({ method, path, limit }) => {
    const big = JSON.stringify({ userIds: ['x'.repeat(limit)] });
    const problem = await expectProblem(await world.call(method, path, { rawBody: big }), 413);
    expect(problem.detail).toContain(String(limit));
    await expectProblem(await world.call(method, path, { rawBody: '{}', contentType: 'text/plain' }), 415);
    await expectProblem(await world.call(method, path, { rawBody: '<xml/>', contentType: 'application/xml' }), 415);
    const malformed = await expectProblem(await world.call(method, path, { rawBody: '{"name": ' }), 400);
    expect(malformed.type).toBe('urn:portcullis:problem:malformed-json');
  });

  it('records the API key and client address as the actor of a change', async () => {
    process.env.PORTCULLIS_ENTRY_TOKEN = 'entry-token-for-tests';
    try {
      const created = await expectJson(
        await world.call('POST', '/groups', {
          body: { name: 'Night shift' },
          headers: { 'x-portcullis-entry': 'entry-token-for-tests', 'x-portcullis-client-ip': '203.0.113.9' },
        }),
        201,
      );
      const entry = await world.db.kysely.selectFrom('audit_log').selectAll().where('action', '=', 'group.created').executeTakeFirstOrThrow();
      expect(entry).toMatchObject({ actor_id: null, actor_label: 'api-key:ops-automation', client_ip: '203.0.113.9', target_id: created.id });
      // A client's own header without the entry token changes nothing (R-I1).
      await world.call('POST', '/groups', { body: { name: 'Day shift' }, headers: { 'x-portcullis-client-ip': '10.0.0.1' } });
      const second = await world.db.kysely.selectFrom('audit_log').select('client_ip').where('details', 'like', '%Day shift%').executeTakeFirstOrThrow();
      expect(second.client_ip).toBe('unknown');
    } finally {
      delete process.env.PORTCULLIS_ENTRY_TOKEN;
    }
  });

  it('answers 503 problem+json when the database cannot be opened (fail closed)', async () => {
    const { createApiHandlers } = await import('../../../lib/api/handler');
    const broken = createApiHandlers({ db: () => Promise.reject(new Error('ECONNREFUSED')), clock: world.clock, sealDuoSecret: (s) => s });
    const response = await broken['GET /users'](new Request(`${origin}/api/v1/users`, { headers: { authorization: `Bearer ${world.adminKey}` } }));
    const problem = await expectProblem(response, 503);
    expect(JSON.stringify(problem)).not.toContain('ECONNREFUSED');
  });
});
