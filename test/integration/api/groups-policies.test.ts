import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { dialects } from '../support/dialects';
import { apiWorld, expectJson, expectProblem, type ApiWorld } from './support';

const unknownId = '00000000-0000-4000-8000-000000000000';

describe.each(dialects)('/api/v1/groups and /api/v1/policies on %s', (dialect) => {
  let world: ApiWorld;

  beforeEach(async () => {
    world = await apiWorld(dialect);
  });
  afterEach(async () => {
    await world.close();
  });

  describe('groups', () => {
    it('creates "Contractors", sets members and lists it with its count', async () => {
      const ada = await world.user('ada');
      const bob = await world.user('bob');
      const response = await world.call('POST', '/groups', { body: { name: 'Contractors' } });
      const group = await expectJson(response, 201);
      expect(response.headers.get('location')).toBe(`/api/v1/groups/${group.id}`);
      expect(await expectJson(await world.call('PUT', `/groups/${group.id}/members`, { body: { userIds: [ada, bob] } }), 200)).toEqual({
        count: 2,
        added: 2,
        removed: 0,
      });
      expect(await expectJson(await world.call('PUT', `/groups/${group.id}/members`, { body: { userIds: [] } }), 200)).toEqual({
        count: 0,
        added: 0,
        removed: 2,
      });
      const list = await expectJson(await world.call('GET', '/groups', { key: world.readKey }), 200);
      expect(list.groups).toEqual([{ id: group.id, name: 'Contractors', createdAt: expect.stringMatching(/Z$/), memberCount: 0 }]);
    });

    it('refuses a blank, overlong or duplicate name', async () => {
      await expectJson(await world.call('POST', '/groups', { body: { name: 'Finance' } }), 201);
      expect((await expectProblem(await world.call('POST', '/groups', { body: { name: '  ' } }), 400)).errors).toEqual({ name: ['Name is required.'] });
      await expectProblem(await world.call('POST', '/groups', { body: { name: 'x'.repeat(101) } }), 400);
      await expectProblem(await world.call('POST', '/groups', { body: {} }), 400);
      await expectProblem(await world.call('POST', '/groups', { body: { name: 'Ops', members: [] } }), 400);
      const conflict = await expectProblem(await world.call('POST', '/groups', { body: { name: 'FINANCE' } }), 409);
      expect(conflict.errors).toEqual({ name: ['A group named "FINANCE" already exists.'] });
    });

    it('members: all-or-nothing on unknown users; 404 for an unknown group', async () => {
      const ada = await world.user('ada');
      const group = await expectJson(await world.call('POST', '/groups', { body: { name: 'Finance' } }), 201);
      await expectJson(await world.call('PUT', `/groups/${group.id}/members`, { body: { userIds: [ada] } }), 200);
      const problem = await expectProblem(await world.call('PUT', `/groups/${group.id}/members`, { body: { userIds: [unknownId] } }), 404);
      expect(problem).toMatchObject({ resource: 'user', unknownIds: [unknownId] });
      const list = await expectJson(await world.call('GET', '/groups'), 200);
      expect(list.groups[0].memberCount).toBe(1);
      expect((await expectProblem(await world.call('PUT', `/groups/${unknownId}/members`, { body: { userIds: [] } }), 404)).resource).toBe('group');
      await expectProblem(await world.call('PUT', `/groups/${group.id}/members`, { body: {} }), 400);
    });
  });

  describe('policies', () => {
    const officeOnly = {
      name: 'Office network needs MFA',
      description: 'Outside the office, ask for a second factor.',
      conditions: { ipNotIn: ['203.0.113.0/24'] },
      resources: ['portal'],
      action: 'require_mfa',
    };

    it('creates (OFF by default), reads, switches ON and OFF, lists and deletes a policy', async () => {
      const created = await world.call('POST', '/policies', { body: officeOnly });
      const draft = await expectJson(created, 201);
      expect(created.headers.get('location')).toBe(`/api/v1/policies/${draft.id}`);
      expect(draft).toMatchObject({ ...officeOnly, enabled: false, scope: 'all', includeGroupIds: [], excludeGroupIds: [], priority: 0 });
      const policy = await expectJson(await world.call('PATCH', `/policies/${draft.id}`, { body: { enabled: true } }), 200);
      expect(policy.enabled).toBe(true);
      expect(await expectJson(await world.call('GET', `/policies/${policy.id}`, { key: world.readKey }), 200)).toEqual(policy);
      const off = await expectJson(await world.call('PATCH', `/policies/${policy.id}`, { body: { enabled: false } }), 200);
      expect(off.enabled).toBe(false);
      expect((await expectJson(await world.call('GET', '/policies'), 200)).policies).toEqual([off]);
      const deleted = await world.call('DELETE', `/policies/${policy.id}`);
      expect(deleted.status).toBe(204);
      expect(await deleted.text()).toBe('');
      await expectProblem(await world.call('GET', `/policies/${policy.id}`), 404);
    });

    it('refuses a duplicate name (case-insensitive) with 409', async () => {
      await expectJson(await world.call('POST', '/policies', { body: officeOnly }), 201);
      const problem = await expectProblem(await world.call('POST', '/policies', { body: { ...officeOnly, name: officeOnly.name.toUpperCase() } }), 409);
      expect(problem.errors.name[0]).toContain('already exists');
    });

    it('refuses invalid fields with per-field errors', async () => {
      const problem = await expectProblem(
        await world.call('POST', '/policies', {
          body: { name: '', action: 'maybe', resources: [], conditions: { ipIn: ['10.0.0.0/33'], ipin: [] }, scope: 'groups', colour: 'red' },
        }),
        400,
      );
      expect(Object.keys(problem.errors).sort()).toEqual(expect.arrayContaining(['_', 'action', 'conditions', 'name', 'resources']));
      const unknownGroup = await expectProblem(
        await world.call('POST', '/policies', { body: { ...officeOnly, scope: 'groups', includeGroupIds: [unknownId] } }),
        400,
      );
      expect(unknownGroup.errors.includeGroupIds[0]).toContain('Unknown group');
    });

    it('answers 404 for unknown ids on GET, PATCH and DELETE', async () => {
      await expectProblem(await world.call('GET', `/policies/${unknownId}`), 404);
      await expectProblem(await world.call('PATCH', `/policies/${unknownId}`, { body: { enabled: false } }), 404);
      await expectProblem(await world.call('DELETE', `/policies/${unknownId}`), 404);
    });

    it('PATCH refuses unknown fields and bad values', async () => {
      const policy = await expectJson(await world.call('POST', '/policies', { body: officeOnly }), 201);
      await expectProblem(await world.call('PATCH', `/policies/${policy.id}`, { body: { id: 'other' } }), 400);
      await expectProblem(await world.call('PATCH', `/policies/${policy.id}`, { body: { enabled: 'yes' } }), 400);
      await expectProblem(await world.call('PATCH', `/policies/${policy.id}`, { body: { priority: 7.5 } }), 400);
    });
  });
});
