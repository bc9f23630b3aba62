import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { oneDay } from '../../../lib/clock';
import { dialects } from '../support/dialects';
import { apiWorld, expectJson, expectProblem, iso, start, type ApiWorld } from './support';

const daysMessage = 'Enrollment period must be a whole number of days from 1 to 365.';
const badDays: [string, unknown][] = [
  ['0', 0],
  ['366', 366],
  ['7.5', 7.5],
  ['"seven"', 'seven'],
  ['"7" (text)', '7'],
  ['-7', -7],
  ['true', true],
];

describe.each(dialects)('requiring and resetting MFA over the API on %s', (dialect) => {
  let world: ApiWorld;
  let ada: string; // active
  let bob: string; // staged
  let cleo: string; // suspended

  beforeEach(async () => {
    world = await apiWorld(dialect);
    ada = await world.user('ada');
    bob = await world.user('bob', 'staged');
    cleo = await world.user('cleo', 'suspended');
  });
  afterEach(async () => {
    await world.close();
  });

  async function requirementRows() {
    return world.db.kysely.selectFrom('mfa_requirements').selectAll().execute();
  }

  describe('POST /users/mfa/require (R-B2)', () => {
    it('requires MFA for three users with the default 7 days when enrollmentDays is missing', async () => {
      const result = await expectJson(await world.call('POST', '/users/mfa/require', { body: { userIds: [ada, bob, cleo] } }), 200);
      expect(result).toEqual({
        updated: 3,
        enrollmentDays: 7,
        periodStartsAt: iso(start),
        periodEndsAt: iso(start + 7 * oneDay),
        periodStartedUserIds: [ada, cleo],
        preEnrollmentUserIds: [bob],
      });
      const list = await expectJson(await world.call('GET', '/users?required=true'), 200);
      expect(list.users.map((u: any) => [u.username, u.mfa.status])).toEqual([
        ['ada', 'enrollment_period'],
        ['bob', 'pre_enrollment'],
        ['cleo', 'enrollment_period'],
      ]);
      const audit = await expectJson(await world.call('GET', '/audit?action=mfa.required'), 200);
      expect(audit.entries).toHaveLength(3);
      expect(audit.entries[0].actor).toEqual({ id: null, label: 'api-key:ops-automation' });
    });

    it('takes any whole number of days from 1 to 365', async () => {
      for (const days of [1, 365]) {
        const result = await expectJson(await world.call('POST', '/users/mfa/require', { body: { userIds: [ada], enrollmentDays: days } }), 200);
        expect(result.periodEndsAt).toBe(iso(start + days * oneDay));
      }
    });

    it.each(badDays)('refuses enrollmentDays %s with 400 and writes nothing', async (_, days) => {
      const problem = await expectProblem(await world.call('POST', '/users/mfa/require', { body: { userIds: [ada, bob], enrollmentDays: days } }), 400);
      expect(problem.errors).toEqual({ enrollmentDays: [daysMessage] });
      expect(await requirementRows()).toEqual([]);
    });

    it('refuses a missing, empty, repeated or malformed user list', async () => {
      for (const body of [{}, { userIds: [] }, { userIds: [ada, ada] }, { userIds: 'ada' }, { userIds: [42] }, { userIds: [ada], extra: 1 }]) {
        const problem = await expectProblem(await world.call('POST', '/users/mfa/require', { body }), 400);
        expect(problem.type).toBe('urn:portcullis:problem:validation');
      }
      expect(await requirementRows()).toEqual([]);
    });

    it('is all-or-nothing: one unknown id is a 404 naming it, and nobody changes', async () => {
      const ghost = '00000000-0000-4000-8000-00000000dead';
      const problem = await expectProblem(await world.call('POST', '/users/mfa/require', { body: { userIds: [ada, ghost, bob] } }), 404);
      expect(problem).toMatchObject({ resource: 'user', unknownIds: [ghost] });
      expect(await requirementRows()).toEqual([]);
      expect(await world.db.kysely.selectFrom('audit_log').select('id').where('action', '=', 'mfa.required').execute()).toEqual([]);
    });

    it('takes 10,000 ids in one body (over the 64 KiB default, under the 1 MiB bulk limit)', async () => {
      const ids = Array.from({ length: 10_000 }, (_, i) => `00000000-0000-4000-8000-${String(i).padStart(12, '0')}`);
      const problem = await expectProblem(await world.call('POST', '/users/mfa/require', { body: { userIds: ids } }), 404);
      expect(problem.unknownIds).toHaveLength(100);
      expect(problem.unknownIdsTruncated).toBe(true);
      await expectProblem(await world.call('POST', '/users/mfa/require', { body: { userIds: [...ids, 'one-too-many'] } }), 400);
    });
  });

  describe('POST /users/{id}/mfa/reset (R-F4)', () => {
    beforeEach(async () => {
      await world.addFactor(ada, 'totp');
      await expectJson(await world.call('POST', '/users/mfa/require', { body: { userIds: [ada] } }), 200);
    });

    it('with no body: removes TOTP factors and starts a new 7-day period', async () => {
      world.clock.advance(10 * oneDay);
      const result = await expectJson(await world.call('POST', `/users/${ada}/mfa/reset`), 200);
      expect(result).toMatchObject({ required: true, enrollmentDays: 7, removedFactors: 1, periodStarted: true, periodStartsAt: iso(start + 10 * oneDay) });
      const detail = await expectJson(await world.call('GET', `/users/${ada}`), 200);
      expect(detail.mfa).toMatchObject({ status: 'enrollment_period', enrollmentEndsAt: iso(start + 17 * oneDay), factors: [] });
    });

    it('expired → reset → in enrollment period again, with the days given', async () => {
      await world.db.kysely.updateTable('factors').set({ type: 'webauthn', credential_id: 'cred-1' }).execute();
      world.clock.advance(8 * oneDay);
      expect((await expectJson(await world.call('GET', `/users/${ada}`), 200)).mfa.status).toBe('expired');
      const result = await expectJson(await world.call('POST', `/users/${ada}/mfa/reset`, { body: { enrollmentDays: 3 } }), 200);
      expect(result).toMatchObject({ enrollmentDays: 3, removedFactors: 0, periodEndsAt: iso(start + 11 * oneDay) });
      expect((await expectJson(await world.call('GET', `/users/${ada}`), 200)).mfa.status).toBe('enrollment_period');
    });

    it.each(badDays)('refuses enrollmentDays %s with 400 and keeps the factor', async (_, days) => {
      const problem = await expectProblem(await world.call('POST', `/users/${ada}/mfa/reset`, { body: { enrollmentDays: days } }), 400);
      expect(problem.errors).toEqual({ enrollmentDays: [daysMessage] });
      expect(await world.db.kysely.selectFrom('factors').select('id').execute()).toHaveLength(1);
    });

    it('answers 404 for an unknown user', async () => {
      const problem = await expectProblem(await world.call('POST', '/users/00000000-0000-4000-8000-000000000000/mfa/reset', { body: {} }), 404);
      expect(problem.resource).toBe('user');
    });
  });
});
