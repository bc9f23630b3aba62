import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { oneDay } from '../../../lib/clock';
import { dialects } from '../support/dialects';
import { apiWorld, expectJson, expectProblem, iso, start, type ApiWorld } from './support';

describe.each(dialects)('/api/v1/users on %s', (dialect) => {
  let world: ApiWorld;

  beforeEach(async () => {
    world = await apiWorld(dialect);
  });
  afterEach(async () => {
    await world.close();
  });

  describe('POST /users', () => {
    it('creates Ada and answers 201 with her record, a Location, and no secrets', async () => {
      const response = await world.call('POST', '/users', {
        body: { username: 'ada', email: 'ada@example.org', displayName: 'Ada Lovelace', password: 'correct horse battery', state: 'active' },
      });
      const ada = await expectJson(response, 201);
      expect(response.headers.get('location')).toBe(`/api/v1/users/${ada.id}`);
      expect(ada).toMatchObject({
        username: 'ada',
        email: 'ada@example.org',
        displayName: 'Ada Lovelace',
        state: 'active',
        role: 'user',
        createdAt: iso(start),
        mfa: { required: false, status: 'not_enrolled', enrollmentStartsAt: null, enrollmentEndsAt: null, factors: [] },
        groups: [],
      });
      expect(JSON.stringify(ada)).not.toMatch(/password|hash/i);
      const entry = await world.db.kysely.selectFrom('audit_log').selectAll().where('action', '=', 'user.created').executeTakeFirstOrThrow();
      expect(entry.actor_label).toBe('api-key:ops-automation');
    });

    it('refuses a common password (on the shipped blocklist) with 400 and says why', async () => {
      const problem = await expectProblem(
        await world.call('POST', '/users', { body: { username: 'bea', email: 'bea@example.org', state: 'active', password: 'Password123456789' } }),
        400,
      );
      expect(problem.errors).toEqual({ password: ['This password is on a list of common or breached passwords; choose another.'] });
      expect(await world.db.kysely.selectFrom('users').select('id').execute()).toEqual([]);
    });

    it('refuses a role: roles change only through an explicit action (no mass assignment)', async () => {
      const problem = await expectProblem(
        await world.call('POST', '/users', { body: { username: 'mallory', email: 'm@example.org', state: 'active', role: 'admin' } }),
        400,
      );
      expect(problem.errors).toEqual({ _: ['Unknown field: role.'] });
      expect(await world.db.kysely.selectFrom('users').select('id').execute()).toEqual([]);
    });

    it('lists every invalid field at once, as problem+json', async () => {
      const problem = await expectProblem(
        await world.call('POST', '/users', { body: { username: 'bad name!', email: 'not-an-email', state: 'deleted', password: 'short' } }),
        400,
      );
      expect(problem).toMatchObject({ type: 'urn:portcullis:problem:validation', status: 400 });
      expect(Object.keys(problem.errors).sort()).toEqual(['email', 'password', 'state', 'username']);
      const missing = await expectProblem(await world.call('POST', '/users', { body: {} }), 400);
      expect(Object.keys(missing.errors).sort()).toEqual(['email', 'state', 'username']);
      await expectProblem(await world.call('POST', '/users', { body: [] }), 400);
      await expectProblem(await world.call('POST', '/users'), 400);
    });

    it('refuses a taken username, case-insensitively, with 409', async () => {
      await world.user('bob');
      const problem = await expectProblem(await world.call('POST', '/users', { body: { username: 'BOB', email: 'bob@example.org', state: 'staged' } }), 409);
      expect(problem.errors).toEqual({ username: ['A user named "BOB" already exists.'] });
    });
  });

  describe('invitations', () => {
    it('POST /users with "invite": true creates Ivy without a password and queues her invitation; the record shows it', async () => {
      const response = await world.call('POST', '/users', { body: { username: 'ivy', email: 'ivy@example.org', state: 'active', invite: true } });
      const ivy = await expectJson(response, 201);
      expect(ivy.invitation).toEqual({ status: 'open', invitedAt: iso(start), expiresAt: iso(start + 7 * oneDay), passwordSet: false });
      const mails = await world.db.kysely.selectFrom('mail_outbox').select(['kind', 'to_address']).where('user_id', '=', ivy.id).execute();
      expect(mails).toEqual([{ kind: 'invitation', to_address: 'ivy@example.org' }]);
      const listed = await expectJson(await world.call('GET', '/users?invited=true'), 200);
      expect(listed.users.map((u: { username: string }) => u.username)).toEqual(['ivy']);
    });

    it('refuses "invite" together with a password, as a validation problem naming the field', async () => {
      const problem = await expectProblem(
        await world.call('POST', '/users', { body: { username: 'ivy', email: 'ivy@example.org', state: 'active', invite: true, password: 'a long enough passphrase' } }),
        400,
      );
      expect(problem.errors).toEqual({ password: ['Choose either a password or an invitation, not both: an invited user sets their own password.'] });
    });

    it('POST /users/{id}/invitation sends a new link; 409 once the user has a password, 404 for nobody', async () => {
      const ivy = await world.user('ivy', 'staged', { email: 'ivy@example.org', invite: true });
      expect(await expectJson(await world.call('POST', `/users/${ivy}/invitation`), 200)).toEqual({ expiresAt: null, queued: false });
      const rex = await world.user('rex', 'active', { email: 'rex@example.org', password: 'rex has a long password' });
      const problem = await expectProblem(await world.call('POST', `/users/${rex}/invitation`), 409);
      expect(problem.detail ?? problem.title).toMatch(/password reset/);
      await expectProblem(await world.call('POST', '/users/nobody/invitation'), 404);
      await expectProblem(await world.call('POST', `/users/${ivy}/invitation`, { body: { days: 3 } }), 400);
      const entry = await world.db.kysely.selectFrom('audit_log').selectAll().where('action', '=', 'user.invitation_resent').executeTakeFirstOrThrow();
      expect(entry).toMatchObject({ target_id: ivy, actor_label: 'api-key:ops-automation' });
    });
  });

  describe('GET /users', () => {
    beforeEach(async () => {
      const ada = await world.user('ada', 'active', { email: 'ada@example.org' });
      const bob = await world.user('bob');
      const cleo = await world.user('cleo');
      await world.user('dev', 'staged');
      await world.user('eve_ops', 'suspended');
      await world.addFactor(ada, 'totp');
      await expectJson(await world.call('POST', '/users/mfa/require', { body: { userIds: [bob, cleo], enrollmentDays: 3 } }), 200);
      world.clock.advance(oneDay);
      await expectJson(await world.call('POST', '/users/mfa/require', { body: { userIds: [cleo], enrollmentDays: 1 } }), 200);
      world.clock.advance(oneDay);
    });

    it('lists users with the MFA column, times as RFC 3339', async () => {
      const page = await expectJson(await world.call('GET', '/users', { key: world.readKey }), 200);
      expect(page.nextCursor).toBeNull();
      expect(page.users.map((u: any) => [u.username, u.mfa.status])).toEqual([
        ['ada', 'enrolled'],
        ['bob', 'enrollment_period'],
        ['cleo', 'expired'],
        ['dev', 'not_enrolled'],
        ['eve_ops', 'not_enrolled'],
      ]);
      expect(page.users[1].mfa).toEqual({
        required: true,
        status: 'enrollment_period',
        enrollmentDays: 3,
        enrollmentStartsAt: iso(start),
        enrollmentEndsAt: iso(start + 3 * oneDay),
      });
      expect(page.users[2].mfa.enrollmentEndsAt).toBe(iso(start + 2 * oneDay));
    });

    it('filters by requirement, status, state and search', async () => {
      const names = async (query: string) =>
        (await expectJson(await world.call('GET', `/users?${query}`), 200)).users.map((u: any) => u.username);
      expect(await names('required=true')).toEqual(['bob', 'cleo']);
      expect(await names('required=false')).toEqual(['ada', 'dev', 'eve_ops']);
      expect(await names('mfaStatus=expired')).toEqual(['cleo']);
      expect(await names('required=true&mfaStatus=enrollment_period')).toEqual(['bob']);
      expect(await names('state=staged')).toEqual(['dev']);
      expect(await names('q=ADA%40EXAMPLE')).toEqual(['ada']);
      expect(await names('q=_')).toEqual(['eve_ops']);
      expect(await names('q=%25')).toEqual([]);
    });

    it('pages with an opaque cursor, never repeating or skipping', async () => {
      const first = await expectJson(await world.call('GET', '/users?limit=2'), 200);
      expect(first.users.map((u: any) => u.username)).toEqual(['ada', 'bob']);
      const second = await expectJson(await world.call('GET', `/users?limit=2&cursor=${first.nextCursor}`), 200);
      expect(second.users.map((u: any) => u.username)).toEqual(['cleo', 'dev']);
      const third = await expectJson(await world.call('GET', `/users?limit=2&cursor=${second.nextCursor}`), 200);
      expect(third).toEqual({ users: [expect.objectContaining({ username: 'eve_ops' })], nextCursor: null });
    });

    it.each([
      ['limit=0', 'limit'],
      ['limit=201', 'limit'],
      ['limit=7.5', 'limit'],
      ['limit=seven', 'limit'],
      ['required=yes', 'required'],
      ['mfaStatus=active', 'mfaStatus'],
      ['state=deleted', 'state'],
      ['sort=password_hash', 'sort'],
      ['role=admin', '_'],
      ['cursor=garbage!', 'cursor'],
      ['cursor=eyJ2IjoxfQ', 'cursor'],
      ['q=a&q=b', 'q'],
      [`q=${'x'.repeat(101)}`, 'q'],
    ])('refuses ?%s with 400 naming %s', async (query, field) => {
      const problem = await expectProblem(await world.call('GET', `/users?${query}`), 400);
      expect(Object.keys(problem.errors)).toContain(field);
    });
  });

  describe('GET /users/{id}', () => {
    it("shows Ada's status, factors (never secrets) and groups", async () => {
      const ada = await world.user('ada');
      await world.addFactor(ada, 'totp');
      const group = await expectJson(await world.call('POST', '/groups', { body: { name: 'Finance' } }), 201);
      await expectJson(await world.call('PUT', `/groups/${group.id}/members`, { body: { userIds: [ada] } }), 200);
      const detail = await expectJson(await world.call('GET', `/users/${ada}`, { key: world.readKey }), 200);
      expect(detail.mfa).toMatchObject({ required: false, status: 'enrolled' });
      expect(detail.mfa.factors).toEqual([{ id: expect.any(String), type: 'totp', name: 'Authenticator app', createdAt: iso(start), lastUsedAt: null }]);
      expect(detail.groups).toEqual([{ id: group.id, name: 'Finance' }]);
      expect(JSON.stringify(detail)).not.toContain('never-shown');
    });

    it('answers 404 for an unknown or absurd id', async () => {
      const problem = await expectProblem(await world.call('GET', '/users/00000000-0000-4000-8000-000000000000'), 404);
      expect(problem).toMatchObject({ type: 'urn:portcullis:problem:not-found', resource: 'user' });
      await expectProblem(await world.call('GET', `/users/${'x'.repeat(300)}`), 404);
      await expectProblem(await world.call('GET', `/users/${encodeURIComponent("' or 1=1 --")}`), 404);
    });
  });

  describe('PATCH /users/{id}', () => {
    let bob: string;
    beforeEach(async () => {
      bob = await world.user('bob', 'staged', { email: 'bob@example.org' });
    });

    it('sets profile fields and the MFA requirement (R-B1); staged Bob is in pre-enrollment until activated (R-B4)', async () => {
      const patched = await expectJson(
        await world.call('PATCH', `/users/${bob}`, { body: { displayName: 'Bob Builder', email: 'bob@builder.example', mfa: { required: true, enrollmentDays: 14 } } }),
        200,
      );
      expect(patched).toMatchObject({ displayName: 'Bob Builder', email: 'bob@builder.example', mfa: { required: true, status: 'pre_enrollment', enrollmentDays: 14 } });
      world.clock.advance(oneDay);
      const active = await expectJson(await world.call('PATCH', `/users/${bob}`, { body: { state: 'active' } }), 200);
      expect(active.mfa).toMatchObject({
        status: 'enrollment_period',
        enrollmentStartsAt: iso(start + oneDay),
        enrollmentEndsAt: iso(start + 15 * oneDay),
      });
      const actions = (await world.db.kysely.selectFrom('audit_log').select('action').orderBy('id').execute()).map((r) => r.action);
      expect(actions).toEqual(expect.arrayContaining(['mfa.required', 'user.profile_updated', 'user.state_changed']));
    });

    it('repeating the current requirement changes nothing; new days restart the period; false clears it', async () => {
      await expectJson(await world.call('PATCH', `/users/${bob}`, { body: { state: 'active', mfa: { required: true } } }), 200);
      world.clock.advance(oneDay);
      const same = await expectJson(await world.call('PATCH', `/users/${bob}`, { body: { mfa: { required: true } } }), 200);
      expect(same.mfa).toMatchObject({ enrollmentDays: 7, enrollmentStartsAt: iso(start) });
      const longer = await expectJson(await world.call('PATCH', `/users/${bob}`, { body: { mfa: { required: true, enrollmentDays: 30 } } }), 200);
      expect(longer.mfa).toMatchObject({ enrollmentDays: 30, enrollmentStartsAt: iso(start + oneDay) });
      const cleared = await expectJson(await world.call('PATCH', `/users/${bob}`, { body: { mfa: { required: false } } }), 200);
      expect(cleared.mfa).toMatchObject({ required: false, status: 'not_enrolled', enrollmentDays: null });
    });

    it.each([
      ['0', 0],
      ['366', 366],
      ['7.5', 7.5],
      ['"seven"', 'seven'],
      ['"7"', '7'],
      ['-1', -1],
      ['null', null],
    ])('refuses enrollmentDays %s with 400 and changes nothing', async (_, days) => {
      const problem = await expectProblem(
        await world.call('PATCH', `/users/${bob}`, { body: { displayName: 'Changed', mfa: { required: true, enrollmentDays: days } } }),
        400,
      );
      expect(problem.errors['mfa.enrollmentDays']).toEqual(['Enrollment period must be a whole number of days from 1 to 365.']);
      const detail = await expectJson(await world.call('GET', `/users/${bob}`), 200);
      expect(detail).toMatchObject({ displayName: null, mfa: { required: false } });
    });

    it('refuses role and any other unknown field (no mass assignment)', async () => {
      for (const body of [{ role: 'admin' }, { username: 'root' }, { mfa: { required: true, periodEndsAt: 0 } }, { passwordHash: 'x' }]) {
        const problem = await expectProblem(await world.call('PATCH', `/users/${bob}`, { body }), 400);
        expect(JSON.stringify(problem.errors)).toContain('Unknown field');
      }
      const row = await world.db.kysely.selectFrom('users').select(['role', 'username']).where('id', '=', bob).executeTakeFirstOrThrow();
      expect(row).toEqual({ role: 'user', username: 'bob' });
    });

    it('refuses a missing mfa.required and a bad state', async () => {
      expect((await expectProblem(await world.call('PATCH', `/users/${bob}`, { body: { mfa: { enrollmentDays: 7 } } }), 400)).errors).toHaveProperty(['mfa.required']);
      expect((await expectProblem(await world.call('PATCH', `/users/${bob}`, { body: { state: 'deleted' } }), 400)).errors).toHaveProperty('state');
    });

    it('a refused state change (never back to staged) leaves the other fields alone', async () => {
      await expectJson(await world.call('PATCH', `/users/${bob}`, { body: { state: 'active' } }), 200);
      const problem = await expectProblem(await world.call('PATCH', `/users/${bob}`, { body: { state: 'staged', displayName: 'Sneaky' } }), 400);
      expect(problem.errors.state).toEqual(['A user who has been active cannot go back to staged.']);
      expect((await expectJson(await world.call('GET', `/users/${bob}`), 200)).displayName).toBeNull();
    });

    it('answers 404 for an unknown user', async () => {
      await expectProblem(await world.call('PATCH', '/users/00000000-0000-4000-8000-000000000000', { body: { displayName: 'x' } }), 404);
    });
  });
});
