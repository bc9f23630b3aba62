import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Db } from '../../../db';
import { manualClock, oneMinute } from '../../../lib/clock';
import type { Actor } from '../../../lib/admin/actor';
import { ConflictError, NotFoundError, ValidationError } from '../../../lib/admin/errors';
import {
  createPolicy,
  deletePolicy,
  getPolicy,
  listPolicies,
  setPolicyEnabled,
  updatePolicy,
} from '../../../lib/admin/policies';
import { createGroup, deleteGroup } from '../../../lib/admin/groups';
import { insertPolicy, loadPolicyRecords } from '../../../db/queries/policies';
import { getConfigVersion } from '../../../db/queries/settings';
import { compilePolicies, type PolicyRecord } from '../../../lib/policy';
import { dialects, freshDb } from '../support/dialects';

const start = Date.UTC(2026, 10, 2, 9, 0, 0);
const admin: Actor = { id: 'admin-ada', label: 'ada.admin', clientIp: '198.51.100.7' };

const officeOnly = {
  name: 'Office Only',
  description: 'Portal from the office network only',
  enabled: false,
  scope: 'all',
  conditions: { ipNotIn: ['198.51.100.0/24', '2001:db8::/32'] },
  resources: ['portal'],
  action: 'deny',
};

describe.each(dialects)('conditional access policies (R-C1..R-C5) on %s', (dialect) => {
  let db: Db;
  const clock = manualClock(start);
  let engineers: string;
  let contractors: string;

  async function audit(action?: string) {
    let q = db.kysely.selectFrom('audit_log').selectAll().orderBy('id');
    if (action) q = q.where('action', '=', action);
    return q.execute();
  }

  async function fieldErrorsOf(promise: Promise<unknown>): Promise<Record<string, string[]>> {
    const error = await promise.then(
      () => {
        throw new Error('expected a ValidationError');
      },
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(ValidationError);
    return (error as ValidationError).fieldErrors;
  }

  beforeEach(async () => {
    clock.set(start);
    db = await freshDb(dialect);
    engineers = (await createGroup(db.kysely, { name: 'Engineers' }, admin, clock)).id;
    contractors = (await createGroup(db.kysely, { name: 'Contractors' }, admin, clock)).id;
  });
  afterEach(async () => {
    await db.close();
  });

  it('"Office Only" is created OFF, stored as a PolicyRecord, audited, and bumps the config version', async () => {
    const before = await getConfigVersion(db.kysely);
    const policy = await createPolicy(db.kysely, officeOnly, admin, clock);
    expect(policy).toEqual({
      id: expect.any(String),
      name: 'Office Only',
      description: 'Portal from the office network only',
      enabled: false,
      scope: 'all',
      includeGroupIds: [],
      excludeGroupIds: [],
      conditions: { ipNotIn: ['198.51.100.0/24', '2001:db8::/32'] },
      resources: ['portal'],
      action: 'deny',
      strength: 'any',
      reverifyMinutes: null,
      rememberDays: null,
      graceDays: 0,
      priority: 0,
    });
    expect(await getPolicy(db.kysely, policy.id)).toEqual(policy);
    expect(await loadPolicyRecords(db.kysely)).toEqual([policy]);
    expect(await getConfigVersion(db.kysely)).toBe(before + 1);
    const [entry] = await audit('policy.created');
    expect(entry).toMatchObject({ actor_id: admin.id, target_type: 'policy', target_id: policy.id, at: start });
    expect(JSON.parse(entry!.details!)).toMatchObject({ name: 'Office Only', enabled: false, action: 'deny' });
    // What the gate will do with it.
    expect(compilePolicies(await loadPolicyRecords(db.kysely))[0]).toMatchObject({ enabled: false, action: 'deny' });
  });

  it('defaults: OFF (it takes effect only once switched ON), all users, no conditions, priority 0; names and descriptions are trimmed', async () => {
    const policy = await createPolicy(
      db.kysely,
      { name: '  MFA for everyone ', description: '  ', resources: ['portal', 'billing-app'], action: 'require_mfa' },
      admin,
      clock,
    );
    expect(policy).toMatchObject({
      name: 'MFA for everyone',
      description: null,
      enabled: false,
      scope: 'all',
      conditions: {},
      resources: ['portal', 'billing-app'],
      priority: 0,
    });
  });

  it('scoped to Engineers minus Contractors, with OS and browser conditions', async () => {
    const policy = await createPolicy(
      db.kysely,
      {
        name: 'Engineers on managed laptops',
        scope: 'groups',
        includeGroupIds: [engineers],
        excludeGroupIds: [contractors],
        conditions: { osIn: ['macos', 'linux'], browserIn: ['firefox', 'chrome'], ipIn: [] },
        resources: ['portal'],
        action: 'allow',
        priority: -5,
      },
      admin,
      clock,
    );
    expect(policy).toMatchObject({
      includeGroupIds: [engineers],
      excludeGroupIds: [contractors],
      conditions: { osIn: ['macos', 'linux'], browserIn: ['firefox', 'chrome'] },
      priority: -5,
    });
  });

  it('"office only" is refused once "Office Only" exists (case-insensitive), with nothing written', async () => {
    await createPolicy(db.kysely, officeOnly, admin, clock);
    const version = await getConfigVersion(db.kysely);
    const auditCount = (await audit()).length;
    const error = await createPolicy(db.kysely, { ...officeOnly, name: 'office only' }, admin, clock).catch((e) => e);
    expect(error).toBeInstanceOf(ConflictError);
    expect((error as ConflictError).message).toBe('A policy named "office only" already exists.');
    expect((error as ConflictError).field).toBe('name');
    expect(await listPolicies(db.kysely)).toHaveLength(1);
    expect(await getConfigVersion(db.kysely)).toBe(version);
    expect(await audit()).toHaveLength(auditCount);
  });

  it('two admins saving the same name at once: one wins, the other gets a ConflictError', async () => {
    const results = await Promise.allSettled([
      createPolicy(db.kysely, { ...officeOnly, name: 'Lockdown' }, admin, clock),
      createPolicy(db.kysely, { ...officeOnly, name: 'LOCKDOWN' }, admin, clock),
    ]);
    expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(1);
    const rejected = results.find((r) => r.status === 'rejected') as PromiseRejectedResult;
    expect(rejected.reason).toBeInstanceOf(ConflictError);
    expect(await listPolicies(db.kysely)).toHaveLength(1);
  });

  it('a save that passes the name check while another holds the same name uncommitted still gets a ConflictError', async () => {
    // PostgreSQL: the check cannot see the uncommitted row, the insert waits on the unique
    // index and then fails; SQLite: the second transaction waits for the first and the
    // check sees the row. Either way the admin sees the same ConflictError.
    let release!: () => void;
    const held = new Promise<void>((resolve) => (release = resolve));
    let signalInserted!: () => void;
    const inserted = new Promise<void>((resolve) => (signalInserted = resolve));
    const holder = db.kysely.transaction().execute(async (trx) => {
      const lockdown: PolicyRecord = {
        id: 'holder',
        name: 'Lockdown',
        description: null,
        enabled: false,
        scope: 'all',
        includeGroupIds: [],
        excludeGroupIds: [],
        conditions: {},
        resources: ['portal'],
        action: 'deny',
      };
      await insertPolicy(trx, lockdown, start);
      signalInserted();
      await held;
    });
    await inserted;
    const racing = createPolicy(db.kysely, { ...officeOnly, name: 'LOCKDOWN' }, admin, clock).catch((e: unknown) => e);
    await new Promise((resolve) => setTimeout(resolve, 150));
    release();
    await holder;
    const error = await racing;
    expect(error).toBeInstanceOf(ConflictError);
    expect((error as ConflictError).message).toBe('A policy named "LOCKDOWN" already exists.');
    expect((await listPolicies(db.kysely)).map((p) => p.id)).toEqual(['holder']);
  });

  it('an invalid CIDR is refused naming the value', async () => {
    const errors = await fieldErrorsOf(
      createPolicy(
        db.kysely,
        { ...officeOnly, conditions: { ipIn: ['10.0.0.0/8', '10.0.0.0/33', 'office-wifi'] } },
        admin,
        clock,
      ),
    );
    expect(Object.keys(errors).sort()).toEqual(['conditions.ipIn.1', 'conditions.ipIn.2']);
    expect(errors['conditions.ipIn.1']![0]).toContain('"10.0.0.0/33"');
    expect(errors['conditions.ipIn.2']![0]).toContain('"office-wifi"');
    expect(await listPolicies(db.kysely)).toHaveLength(0);
  });

  it.each([
    ['scope groups without groups', { scope: 'groups' }, 'includeGroupIds', 'Choose at least one group'],
    ['an unknown included group', { scope: 'groups', includeGroupIds: ['no-such-group'] }, 'includeGroupIds', 'no-such-group'],
    ['an unknown excluded group', { excludeGroupIds: ['gone'] }, 'excludeGroupIds', 'Unknown group: gone.'],
    ['groups with scope all', { scope: 'all', includeGroupIds: ['x'] }, 'includeGroupIds', 'selected user groups'],
    ['no resources', { resources: [] }, 'resources', 'Choose at least one resource'],
    ['a bad resource id', { resources: ['Portal App'] }, 'resources.0', 'lowercase letters'],
    ['an unknown action', { action: 'maybe' }, 'action', 'Action must be'],
    ['an unknown OS', { conditions: { osIn: ['beos'] } }, 'conditions.osIn.0', 'Unknown operating system "beos"'],
    ['a misspelt condition', { conditions: { ipin: ['10.0.0.0/8'] } }, 'conditions', 'Unknown condition: ipin.'],
    ['an unknown field', { exclude_groups: ['x'] }, '_', 'Unknown field: exclude_groups.'],
    ['an empty name', { name: '   ' }, 'name', 'Name is required.'],
    ['a 101-character name', { name: 'x'.repeat(101) }, 'name', 'Name is at most 100 characters.'],
    ['a fractional priority', { priority: 1.5 }, 'priority', 'Priority must be a whole number.'],
    ['too many ranges', { conditions: { ipIn: Array.from({ length: 101 }, (_, i) => `10.0.${i}.0/24`) } }, 'conditions.ipIn', 'at most 100'],
  ])('refuses %s', async (_name, change, field, message) => {
    const errors = await fieldErrorsOf(createPolicy(db.kysely, { ...officeOnly, ...change }, admin, clock));
    expect(errors[field]?.join(' ')).toContain(message);
    expect(await listPolicies(db.kysely)).toHaveLength(0);
    expect(await audit('policy.created')).toHaveLength(0);
  });

  it('update: renames, rescopes and changes conditions, auditing which fields changed', async () => {
    const policy = await createPolicy(db.kysely, officeOnly, admin, clock);
    const version = await getConfigVersion(db.kysely);
    clock.advance(oneMinute);
    const updated = await updatePolicy(
      db.kysely,
      policy.id,
      { name: 'Office network', scope: 'groups', includeGroupIds: [engineers], conditions: { ipNotIn: ['203.0.113.0/24'] } },
      admin,
      clock,
    );
    expect(updated).toMatchObject({
      id: policy.id,
      name: 'Office network',
      scope: 'groups',
      includeGroupIds: [engineers],
      conditions: { ipNotIn: ['203.0.113.0/24'] },
      action: 'deny',
      enabled: false,
    });
    expect(await getPolicy(db.kysely, policy.id)).toEqual(updated);
    expect(await getConfigVersion(db.kysely)).toBe(version + 1);
    const [entry] = await audit('policy.updated');
    expect(JSON.parse(entry!.details!).changed).toEqual(['name', 'scope', 'includeGroupIds', 'conditions']);
    const row = await db.kysely.selectFrom('policies').select(['updated_at', 'created_at']).executeTakeFirstOrThrow();
    expect(row).toEqual({ created_at: start, updated_at: start + oneMinute });
  });

  it('update: the merged policy is checked as a whole; a case-only rename of itself is fine', async () => {
    const policy = await createPolicy(db.kysely, officeOnly, admin, clock);
    await createPolicy(db.kysely, { ...officeOnly, name: 'Other' }, admin, clock);
    expect((await fieldErrorsOf(updatePolicy(db.kysely, policy.id, { scope: 'groups' }, admin, clock))).includeGroupIds).toBeDefined();
    await expect(updatePolicy(db.kysely, policy.id, { name: 'OTHER' }, admin, clock)).rejects.toThrow(ConflictError);
    expect((await updatePolicy(db.kysely, policy.id, { name: 'OFFICE ONLY' }, admin, clock)).name).toBe('OFFICE ONLY');
    await expect(updatePolicy(db.kysely, 'nope', { name: 'x' }, admin, clock)).rejects.toThrow(NotFoundError);
  });

  it('update: switching scope to all clears the included groups; an unchanged patch writes nothing', async () => {
    const policy = await createPolicy(
      db.kysely,
      { ...officeOnly, scope: 'groups', includeGroupIds: [engineers] },
      admin,
      clock,
    );
    const all = await updatePolicy(db.kysely, policy.id, { scope: 'all' }, admin, clock);
    expect(all.includeGroupIds).toEqual([]);
    const version = await getConfigVersion(db.kysely);
    await updatePolicy(db.kysely, policy.id, { scope: 'all', action: 'deny' }, admin, clock);
    expect(await getConfigVersion(db.kysely)).toBe(version);
  });

  it('toggle: OFF → ON → OFF, each audited and versioned; the same status again is a no-op', async () => {
    const policy = await createPolicy(db.kysely, officeOnly, admin, clock);
    const v0 = await getConfigVersion(db.kysely);
    expect((await setPolicyEnabled(db.kysely, policy.id, true, admin, clock)).enabled).toBe(true);
    expect((await setPolicyEnabled(db.kysely, policy.id, true, admin, clock)).enabled).toBe(true);
    expect((await setPolicyEnabled(db.kysely, policy.id, false, admin, clock)).enabled).toBe(false);
    expect(await getConfigVersion(db.kysely)).toBe(v0 + 2);
    expect((await audit()).map((e) => e.action).filter((a) => a.startsWith('policy.'))).toEqual([
      'policy.created',
      'policy.enabled',
      'policy.disabled',
    ]);
    expect((await fieldErrorsOf(setPolicyEnabled(db.kysely, policy.id, 'on', admin, clock))).enabled).toBeDefined();
    await expect(setPolicyEnabled(db.kysely, 'nope', true, admin, clock)).rejects.toThrow(NotFoundError);
  });

  it('delete: removes the policy, audits and bumps; deleting again is NotFound', async () => {
    const policy = await createPolicy(db.kysely, officeOnly, admin, clock);
    const version = await getConfigVersion(db.kysely);
    await deletePolicy(db.kysely, policy.id, admin, clock);
    expect(await listPolicies(db.kysely)).toEqual([]);
    expect(await getConfigVersion(db.kysely)).toBe(version + 1);
    expect(await audit('policy.deleted')).toHaveLength(1);
    await expect(deletePolicy(db.kysely, policy.id, admin, clock)).rejects.toThrow(NotFoundError);
    await expect(getPolicy(db.kysely, policy.id)).rejects.toThrow(NotFoundError);
  });

  it('deleting the Contractors group removes it from every policy, in the same versioned transaction', async () => {
    const a = await createPolicy(
      db.kysely,
      { ...officeOnly, scope: 'groups', includeGroupIds: [engineers, contractors], excludeGroupIds: [] },
      admin,
      clock,
    );
    const b = await createPolicy(db.kysely, { ...officeOnly, name: 'B', excludeGroupIds: [contractors] }, admin, clock);
    const c = await createPolicy(db.kysely, { ...officeOnly, name: 'C' }, admin, clock);
    const version = await getConfigVersion(db.kysely);
    const result = await deleteGroup(db.kysely, contractors, admin, clock);
    expect(result.policiesUpdated.sort()).toEqual([a.id, b.id].sort());
    expect((await getPolicy(db.kysely, a.id)).includeGroupIds).toEqual([engineers]);
    expect((await getPolicy(db.kysely, b.id)).excludeGroupIds).toEqual([]);
    expect(await getPolicy(db.kysely, c.id)).toEqual(c);
    expect(await getConfigVersion(db.kysely)).toBe(version + 1);
  });

  it('listPolicies orders by priority, then name', async () => {
    await createPolicy(db.kysely, { ...officeOnly, name: 'b', priority: 1 }, admin, clock);
    await createPolicy(db.kysely, { ...officeOnly, name: 'A', priority: 1 }, admin, clock);
    await createPolicy(db.kysely, { ...officeOnly, name: 'z', priority: -1 }, admin, clock);
    expect((await listPolicies(db.kysely)).map((p) => p.name)).toEqual(['z', 'A', 'b']);
  });
});
