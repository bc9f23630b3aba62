import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Db } from '../../../db';
import { manualClock } from '../../../lib/clock';
import type { Actor } from '../../../lib/admin/actor';
import { createPolicy, getPolicy, rememberIgnoredMessage, rememberOnlyRequireMfa, rememberRangeMessage, updatePolicy } from '../../../lib/admin/policies';
import { loadPolicyRecords } from '../../../db/queries/policies';
import { compilePolicies } from '../../../lib/policy';
import { isValidationError } from '../../../lib/errors/brand';
import { dialects, freshDb } from '../support/dialects';
import { apiWorld, expectJson, expectProblem, type ApiWorld } from '../api/support';

/** Issue 18 part 3: a require-MFA policy's "don't ask again on this device for N days", as the policy service and the API store and refuse it. */

const start = Date.UTC(2026, 11, 4, 9, 0, 0);
const admin: Actor = { id: 'admin-ada', label: 'ada.admin', clientIp: '198.51.100.7' };
const portalRemembers = { name: 'Portal remembers', enabled: true, resources: ['portal'], action: 'require_mfa', rememberDays: 30 };

async function fieldErrorsOf(promise: Promise<unknown>): Promise<Record<string, string[]>> {
  const error = await promise.then(
    () => {
      throw new Error('expected a ValidationError');
    },
    (e: unknown) => e,
  );
  expect(isValidationError(error)).toBe(true);
  return (error as { fieldErrors: Record<string, string[]> }).fieldErrors;
}

describe.each(dialects)('remembered devices on policies (issue 18 part 3) on %s', (dialect) => {
  let db: Db;
  const clock = manualClock(start);

  beforeEach(async () => {
    clock.set(start);
    db = await freshDb(dialect);
  });
  afterEach(async () => {
    await db.close();
  });

  it('stores N, returns it, audits it, and the gate compiles it', async () => {
    const created = await createPolicy(db.kysely, portalRemembers, admin, clock);
    expect((await getPolicy(db.kysely, created.id)).rememberDays).toBe(30);
    expect(compilePolicies(await loadPolicyRecords(db.kysely))[0]!.rememberDays).toBe(30);
    const audit = await db.kysely.selectFrom('audit_log').select('details').where('action', '=', 'policy.created').executeTakeFirstOrThrow();
    expect(JSON.parse(String(audit.details))).toMatchObject({ rememberDays: 30 });
    const changed = await updatePolicy(db.kysely, created.id, { rememberDays: null }, admin, clock);
    expect(changed.rememberDays).toBeNull();
    expect((await createPolicy(db.kysely, { ...portalRemembers, name: 'Plain', rememberDays: undefined }, admin, clock)).rememberDays).toBeNull();
  });

  it('refuses N outside 1 … 90, on an allow or deny policy, and beside phishing-resistant or re-verification', async () => {
    for (const days of [0, 91, 1.5, '7']) {
      expect(await fieldErrorsOf(createPolicy(db.kysely, { ...portalRemembers, rememberDays: days }, admin, clock))).toHaveProperty('rememberDays');
    }
    expect((await fieldErrorsOf(createPolicy(db.kysely, { ...portalRemembers, rememberDays: 91 }, admin, clock))).rememberDays).toEqual([rememberRangeMessage]);
    expect((await fieldErrorsOf(createPolicy(db.kysely, { ...portalRemembers, action: 'deny' }, admin, clock))).rememberDays).toEqual([rememberOnlyRequireMfa]);
    expect((await fieldErrorsOf(createPolicy(db.kysely, { ...portalRemembers, reverifyMinutes: 60 }, admin, clock))).rememberDays).toEqual([rememberIgnoredMessage]);
    expect(await loadPolicyRecords(db.kysely)).toEqual([]);
  });

  it('switching a policy to allow drops its N', async () => {
    const created = await createPolicy(db.kysely, portalRemembers, admin, clock);
    expect((await updatePolicy(db.kysely, created.id, { action: 'allow' }, admin, clock)).rememberDays).toBeNull();
  });

  describe('over the API', () => {
    let world: ApiWorld;
    beforeEach(async () => {
      world = await apiWorld(dialect);
    });
    afterEach(async () => {
      await world.close();
    });

    it('POST, GET and PATCH carry rememberDays; a bad N is a 400 on its field; OpenAPI describes it', async () => {
      const created = await expectJson(await world.call('POST', '/policies', { body: portalRemembers }), 201);
      expect(created.rememberDays).toBe(30);
      expect((await expectJson(await world.call('GET', `/policies/${created.id}`, { key: world.readKey }), 200)).rememberDays).toBe(30);
      expect((await expectJson(await world.call('PATCH', `/policies/${created.id}`, { body: { rememberDays: 7 } }), 200)).rememberDays).toBe(7);
      expect((await expectProblem(await world.call('PATCH', `/policies/${created.id}`, { body: { rememberDays: 365 } }), 400)).errors).toHaveProperty('rememberDays');
      const doc = JSON.stringify(await expectJson(await world.call('GET', '/openapi.json', { key: world.readKey }), 200));
      expect(doc).toContain('rememberDays');
    });
  });
});
