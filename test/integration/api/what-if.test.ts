import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createApiKey } from '../../../lib/admin/api-keys';
import { dialects } from '../support/dialects';
import { apiWorld, expectJson, expectProblem, iso, seedActor, start, type ApiWorld } from './support';

/*
 * POST /api/v1/policies/what-if (issue 18 §4). Personas: Nils, a contractor, and the
 * "Block contractors on demo" policy; Ivan, in no group.
 */
describe.each(dialects)('POST /api/v1/policies/what-if on %s', (dialect) => {
  let world: ApiWorld;
  let nils: string;

  beforeEach(async () => {
    world = await apiWorld(dialect);
    nils = await world.user('nils');
    await world.user('ivan');
    const group = await expectJson(await world.call('POST', '/groups', { body: { name: 'Contractors' } }), 201);
    await expectJson(await world.call('PUT', `/groups/${group.id}/members`, { body: { userIds: [nils] } }), 200);
    await expectJson(
      await world.call('POST', '/policies', {
        body: { name: 'Block contractors on demo', enabled: true, scope: 'groups', includeGroupIds: [group.id], resources: ['demo'], action: 'deny' },
      }),
      201,
    );
  });
  afterEach(async () => {
    await world.close();
  });

  const nilsOnDemo = { user: { username: 'nils' }, resource: 'demo', ip: '203.0.113.9', os: 'windows', browser: 'chrome' };

  it('answers the deny, the policy that made it and its criteria; times on the wire; nothing audited', async () => {
    const auditBefore = await world.db.kysely.selectFrom('audit_log').select('id').execute();
    const body = await expectJson(await world.call('POST', '/policies/what-if', { body: nilsOnDemo }), 200);
    expect(body.decision).toEqual({ kind: 'deny', rule: 'R-D2', policy: { id: expect.any(String), name: 'Block contractors on demo' } });
    expect(body.user).toEqual({ id: nils, username: 'nils', state: 'active' });
    expect(body.at).toBe(iso(start));
    expect(body.policies).toHaveLength(1);
    expect(body.policies[0]).toMatchObject({
      name: 'Block contractors on demo',
      applies: true,
      strictest: true,
      criteria: { scope: { outcome: 'pass', why: 'In Contractors' }, resource: { outcome: 'pass' }, status: { outcome: 'pass', why: 'ON' } },
    });
    expect(await world.db.kysely.selectFrom('audit_log').select('id').execute()).toEqual(auditBefore);
  });

  it('Ivan at a given time, by id: allowed, no policy, the scope criterion failing', async () => {
    const ivan = (await world.db.kysely.selectFrom('users').select('id').where('username', '=', 'ivan').executeTakeFirstOrThrow()).id;
    const at = '2026-12-24T18:00:00+01:00';
    const body = await expectJson(await world.call('POST', '/policies/what-if', { body: { ...nilsOnDemo, user: { id: ivan }, at } }), 200);
    expect(body.decision).toEqual({ kind: 'allow', rule: 'R-D8', policy: null });
    expect(body.at).toBe('2026-12-24T17:00:00.000Z');
    expect(body.policies[0]).toMatchObject({ applies: false, strictest: false, criteria: { scope: { outcome: 'fail', why: 'In none of Contractors' } } });
  });

  it('400 with per-field errors, 404 for an unknown user', async () => {
    const bad = await expectProblem(await world.call('POST', '/policies/what-if', { body: { ...nilsOnDemo, ip: 'not an address', colour: 'red' } }), 400);
    expect(Object.keys(bad.errors).sort()).toEqual(['_', 'ip']);
    expect(bad.errors._).toEqual(['Unknown field: colour.']);
    const badIp = await expectProblem(await world.call('POST', '/policies/what-if', { body: { ...nilsOnDemo, ip: 'not an address' } }), 400);
    expect(Object.keys(badIp.errors)).toEqual(['ip']);
    const badResource = await expectProblem(await world.call('POST', '/policies/what-if', { body: { ...nilsOnDemo, resource: 'payroll' } }), 400);
    expect(badResource.errors).toEqual({ resource: ['Unknown resource "payroll": choose from portal, demo.'] });
    const unknown = await expectProblem(await world.call('POST', '/policies/what-if', { body: { ...nilsOnDemo, user: { username: 'nobody' } } }), 404);
    expect(unknown.resource).toBe('user');
  });

  it('needs an admin key: 401 without one, 403 for a read-only or a helpdesk key', async () => {
    await expectProblem(await world.call('POST', '/policies/what-if', { key: null, body: nilsOnDemo }), 401);
    await expectProblem(await world.call('POST', '/policies/what-if', { key: world.readKey, body: nilsOnDemo }), 403);
    const helpdeskKey = (await createApiKey(world.db.kysely, { name: 'service-desk', role: 'helpdesk' }, seedActor, world.clock)).key;
    await expectProblem(await world.call('POST', '/policies/what-if', { key: helpdeskKey, body: nilsOnDemo }), 403);
  });
});
