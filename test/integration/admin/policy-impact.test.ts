import fc from 'fast-check';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { sampleSlice } from '../../../db/queries/policy-impact';
import { createGroup, setGroupMembers } from '../../../lib/admin/groups';
import { saveMfaSettings } from '../../../lib/admin/mfa-settings';
import { createPolicy } from '../../../lib/admin/policies';
import { dryRunCreatePolicy, needsPreview, policyImpact, previewDigest, type PolicyImpact } from '../../../lib/admin/policy-impact';
import { compilePolicies, decide, type Method, type PolicyRecord } from '../../../lib/policy';
import { dialects } from '../support/dialects';
import { apiWorld, expectJson, expectProblem, seedActor, type ApiWorld } from '../api/support';

/*
 * The impact preview (issue 18 §5) on each dialect. Personas:
 * - Ada: TOTP, in Engineering.            - Bob: WebAuthn, in Engineering.
 * - Cleo: no factor, in Engineering.       - Dina: TOTP, in Engineering, suspended.
 * - Emil: no factor, in Engineering and in Contractors (excluded by the group policy).
 * - Finn: TOTP and WebAuthn, in no group.  - Stan: staged, in Engineering.
 */
describe.each(dialects)('policy impact preview on %s', (dialect) => {
  let w: ApiWorld;
  const ids: Record<string, string> = {};
  let engineering: string;
  let contractors: string;
  const webauthnOn = { totp: true, webauthn: true, duo: false };

  beforeEach(async () => {
    w = await apiWorld(dialect);
    const people: [string, 'active' | 'suspended' | 'staged', ('totp' | 'webauthn')[]][] = [
      ['ada', 'active', ['totp']],
      ['bob', 'active', ['webauthn']],
      ['cleo', 'active', []],
      ['dina', 'suspended', ['totp']],
      ['emil', 'active', []],
      ['finn', 'active', ['totp', 'webauthn']],
      ['stan', 'staged', []],
    ];
    for (const [name, state, factors] of people) {
      ids[name] = await w.user(name, state, { email: `${name}@example.org` });
      for (const f of factors) await w.addFactor(ids[name]!, f);
    }
    engineering = (await createGroup(w.db.kysely, { name: 'Engineering' }, seedActor, w.clock)).id;
    contractors = (await createGroup(w.db.kysely, { name: 'Contractors' }, seedActor, w.clock)).id;
    await setGroupMembers(w.db.kysely, engineering, { userIds: ['ada', 'bob', 'cleo', 'dina', 'emil', 'stan'].map((n) => ids[n]) }, seedActor, w.clock);
    await setGroupMembers(w.db.kysely, contractors, { userIds: [ids.emil] }, seedActor, w.clock);
  });
  afterEach(async () => {
    await w.close();
  });

  const names = (group: { sample: { username: string }[] }) => group.sample.map((u) => u.username);
  const summary = (impact: PolicyImpact) => ({
    inScope: impact.inScope,
    deny: [impact.deny.count, names(impact.deny)],
    hasFactor: [impact.enroll.hasFactor.count, names(impact.enroll.hasFactor)],
    hasNone: [impact.enroll.hasNone.count, names(impact.enroll.hasNone)],
    challenge: [impact.challenge.count, names(impact.challenge)],
  });
  const draft = (input: Record<string, unknown>) => dryRunCreatePolicy(w.db.kysely, { name: 'Draft', enabled: true, resources: ['portal'], ...input }, w.clock);

  it('a group policy: Engineering minus Contractors, active only; WebAuthn on, so Bob is challenged', async () => {
    await saveMfaSettings(w.db.kysely, webauthnOn, seedActor, w.clock, { sealSecret: (s) => s });
    const { impact } = await draft({ scope: 'groups', includeGroupIds: [engineering], excludeGroupIds: [contractors], action: 'require_mfa' });
    expect(summary(impact)).toEqual({
      inScope: 3,
      deny: [0, []],
      hasFactor: [0, []],
      hasNone: [1, ['cleo']],
      challenge: [2, ['ada', 'bob']],
    });
  });

  it('WebAuthn disabled: Bob’s key is a factor of a disabled method, so he must enroll though he "has a factor"', async () => {
    const { impact } = await draft({ scope: 'groups', includeGroupIds: [engineering], excludeGroupIds: [contractors], action: 'require_mfa' });
    expect(summary(impact)).toMatchObject({ hasFactor: [1, ['bob']], hasNone: [1, ['cleo']], challenge: [1, ['ada']] });
  });

  it('an all-users phishing-resistant policy splits TOTP-only Ada into "has a factor"', async () => {
    await saveMfaSettings(w.db.kysely, webauthnOn, seedActor, w.clock, { sealSecret: (s) => s });
    const { impact } = await draft({ action: 'require_mfa', strength: 'phishing_resistant' });
    expect(summary(impact)).toEqual({
      inScope: 5,
      deny: [0, []],
      hasFactor: [1, ['ada']],
      hasNone: [2, ['cleo', 'emil']],
      challenge: [2, ['bob', 'finn']],
    });
    expect(impact.assumptions.join(' ')).toMatch(/this policy alone/);
  });

  it('an all-users deny policy denies every active user; its IP condition is assumed met, and said so', async () => {
    const { impact } = await draft({ action: 'deny', conditions: { ipNotIn: ['10.0.0.0/8'] } });
    expect(summary(impact)).toMatchObject({ inScope: 5, deny: [5, ['ada', 'bob', 'cleo', 'emil', 'finn']], challenge: [0, []] });
    expect(impact.assumptions[0]).toMatch(/assume a request that meets them/);
  });

  it('samples: at most 10, by username, and the factor-driven walk gives the same names as the username walk', async () => {
    for (let i = 12; i >= 1; i--) await w.user(`user-${String(i).padStart(2, '0')}`);
    for (let i = 1; i <= 12; i++) await w.user(`keyholder-${String(i).padStart(2, '0')}`).then((id) => w.addFactor(id, 'totp'));
    const { impact } = await draft({ action: 'require_mfa' });
    expect(impact.enroll.hasNone.count).toBe(14);
    expect(names(impact.enroll.hasNone)).toEqual(['cleo', 'emil', ...Array.from({ length: 8 }, (_, i) => `user-0${i + 1}`)]);
    expect(impact.challenge.count).toBe(14);
    expect(names(impact.challenge)).toEqual(['ada', 'finn', ...Array.from({ length: 8 }, (_, i) => `keyholder-${String(i + 1).padStart(2, '0')}`)].sort());
    const scope = { allUsers: true, includeGroupIds: [], excludeGroupIds: [] };
    for (const slice of [{ kind: 'satisfied', methods: ['totp'] }, { kind: 'unsatisfied_holder', methods: ['totp'] }] as const) {
      const byName = await sampleSlice(w.db.kysely, scope, slice, 10, 'username');
      expect(await sampleSlice(w.db.kysely, scope, slice, 10, 'factors')).toEqual(byName);
    }
  });

  /** Rows in every table: a dry run must leave them all as they were. */
  async function rowCounts(): Promise<Record<string, number>> {
    const tables = (await w.db.kysely.introspection.getTables()).map((t) => t.name).sort();
    const counts: Record<string, number> = {};
    for (const table of tables) {
      const row = await w.db.kysely.selectFrom(table as 'users').select((eb) => eb.fn.countAll<number | string>().as('n')).executeTakeFirstOrThrow();
      counts[table] = Number(row.n);
    }
    const version = await w.db.kysely.selectFrom('config_version').select('version').executeTakeFirstOrThrow();
    counts.configVersion = Number(version.version);
    return counts;
  }

  it('POST /policies?dryRun=true answers the impact and writes nothing, audits nothing; the real call then stores that policy', async () => {
    const body = { name: 'Everyone MFA', enabled: true, resources: ['portal'], action: 'require_mfa' };
    const before = await rowCounts();
    const dry = await expectJson(await w.call('POST', '/policies?dryRun=true', { body }), 200);
    expect(await rowCounts()).toEqual(before);
    expect(dry).toMatchObject({ dryRun: true, policy: { name: 'Everyone MFA', enabled: true }, impact: { inScope: 5 } });
    expect(dry.impact.challenge).toEqual({ count: 2, sample: [{ id: ids.ada, username: 'ada' }, { id: ids.finn, username: 'finn' }] });
    expect(dry.impact.enroll.hasNone.count).toBe(2);
    const created = await expectJson(await w.call('POST', '/policies', { body }), 201);
    expect(previewDigest(created as PolicyRecord)).toBe(dry.digest);
  });

  it('the dry run refuses exactly what the real call refuses: a bad field, a taken name, an unknown policy, an unknown parameter', async () => {
    const bad = { name: 'x', resources: [], action: 'deny' };
    const realBad = await expectProblem(await w.call('POST', '/policies', { body: bad }), 400);
    expect(await expectProblem(await w.call('POST', '/policies?dryRun=true', { body: bad }), 400)).toEqual(realBad);
    await createPolicy(w.db.kysely, { name: 'Taken', resources: ['portal'], action: 'deny' }, seedActor, w.clock);
    const taken = { name: 'taken', resources: ['portal'], action: 'deny' };
    const realTaken = await expectProblem(await w.call('POST', '/policies', { body: taken }), 409);
    expect(await expectProblem(await w.call('POST', '/policies?dryRun=true', { body: taken }), 409)).toEqual(realTaken);
    const missing = '00000000-0000-4000-8000-000000000009';
    const realMissing = await expectProblem(await w.call('PATCH', `/policies/${missing}`, { body: { enabled: true } }), 404);
    expect(await expectProblem(await w.call('PATCH', `/policies/${missing}?dryRun=true`, { body: { enabled: true } }), 404)).toEqual(realMissing);
    await expectProblem(await w.call('POST', '/policies?dryRun=yes', { body: taken }), 400);
    await expectProblem(await w.call('POST', '/policies?dry=true', { body: taken }), 400);
    const phishing = { name: 'Keys', resources: ['portal'], action: 'require_mfa', strength: 'phishing_resistant' };
    const realPhishing = await expectProblem(await w.call('POST', '/policies', { body: phishing }), 400);
    expect(await expectProblem(await w.call('POST', '/policies?dryRun=true', { body: phishing }), 400)).toEqual(realPhishing);
  });

  it('PATCH /policies/{id}?dryRun=true previews switching an OFF group policy ON, leaves it OFF, and names the change', async () => {
    const policy = await createPolicy(
      w.db.kysely,
      { name: 'Engineering deny', scope: 'groups', includeGroupIds: [engineering], excludeGroupIds: [contractors], resources: ['portal'], action: 'deny' },
      seedActor,
      w.clock,
    );
    const before = await rowCounts();
    const dry = await expectJson(await w.call('PATCH', `/policies/${policy.id}?dryRun=true`, { body: { enabled: true } }), 200);
    expect(await rowCounts()).toEqual(before);
    expect(dry).toMatchObject({ dryRun: true, changed: ['enabled'], policy: { id: policy.id, enabled: true } });
    expect(dry.impact.deny).toEqual({ count: 3, sample: ['ada', 'bob', 'cleo'].map((n) => ({ id: ids[n], username: n })) });
    const stored = await expectJson(await w.call('GET', `/policies/${policy.id}`), 200);
    expect(stored.enabled).toBe(false);
    // A read-only key may not ask either: a dry run is still the write's permission.
    await expectProblem(await w.call('PATCH', `/policies/${policy.id}?dryRun=true`, { key: w.readKey, body: { enabled: true } }), 403);
  });

  it('property: for random factors, groups and policies, the SQL counts equal decide() per user at a password-only sign-in', async () => {
    const methods: Method[] = ['totp', 'webauthn', 'duo'];
    const everyone = ['ada', 'bob', 'cleo', 'dina', 'emil', 'finn', 'stan'];
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.subarray(methods), { minLength: everyone.length, maxLength: everyone.length }),
        fc.record({ totp: fc.boolean(), webauthn: fc.boolean(), duo: fc.boolean() }).filter((s) => s.totp || s.duo),
        fc.constantFrom('all', 'groups'),
        fc.boolean(),
        fc.constantFrom('require_mfa', 'deny', 'allow'),
        fc.constantFrom('any', 'phishing_resistant'),
        async (factorsOf, settings, scope, exclude, action, strength) => {
          await w.db.kysely.deleteFrom('factors').execute();
          for (let i = 0; i < everyone.length; i++) for (const m of factorsOf[i]!) await w.addFactor(ids[everyone[i]!]!, m);
          await w.db.kysely.updateTable('mfa_settings').set({ totp_enabled: +settings.totp, webauthn_enabled: +settings.webauthn, duo_enabled: +settings.duo }).execute();
          const record: PolicyRecord = {
            id: 'p',
            name: 'Random',
            description: null,
            enabled: true,
            scope,
            includeGroupIds: scope === 'groups' ? [engineering] : [],
            excludeGroupIds: exclude ? [contractors] : [],
            conditions: {},
            resources: ['portal'],
            action,
            strength: action === 'require_mfa' ? strength : 'any',
            reverifyMinutes: null,
            priority: 0,
          };
          const impact = await policyImpact(w.db.kysely, record, w.clock);
          const expected = { deny: 0, allow: 0, challenge: 0, hasFactor: 0, hasNone: 0 };
          const policies = compilePolicies([record]);
          const states: Record<string, 'active' | 'suspended' | 'staged'> = { dina: 'suspended', stan: 'staged' };
          const groupsOf: Record<string, string[]> = { ada: [engineering], bob: [engineering], cleo: [engineering], dina: [engineering], emil: [engineering, contractors], finn: [], stan: [engineering] };
          everyone.forEach((name, i) => {
            const state = states[name] ?? 'active';
            if (state !== 'active') return; // not counted: they are sent to sign in, not affected
            const d = decide({
              now: w.clock.now(),
              resource: 'portal',
              session: { amr: [{ method: 'pwd', at: w.clock.now() }], mfaSkipped: false },
              user: { id: ids[name]!, state, groupIds: groupsOf[name]! },
              requirement: null,
              enrolledMethods: factorsOf[i]!,
              settings: { ...settings, challengeEnrolled: false },
              request: { ip: '203.0.113.9', os: 'windows', browser: 'chrome' },
              policies,
            });
            if (d.kind === 'deny') expected.deny++;
            else if (d.kind === 'challenge') expected.challenge++;
            else if (d.kind === 'enroll') expected[factorsOf[i]!.length > 0 ? 'hasFactor' : 'hasNone']++;
            else if (d.kind === 'allow' && d.policy?.id === 'p') expected.allow++;
          });
          expect({
            deny: impact.deny.count,
            allow: impact.allow.count,
            challenge: impact.challenge.count,
            hasFactor: impact.enroll.hasFactor.count,
            hasNone: impact.enroll.hasNone.count,
          }).toEqual(expected);
        },
      ),
      { numRuns: 25 },
    );
  });
});

describe('when the console previews, and what Confirm may apply', () => {
  const off: PolicyRecord = {
    id: 'p-1',
    name: 'Everyone MFA',
    description: null,
    enabled: false,
    scope: 'all',
    includeGroupIds: [],
    excludeGroupIds: [],
    conditions: {},
    resources: ['portal'],
    action: 'require_mfa',
    strength: 'any',
    reverifyMinutes: null,
    priority: 0,
  };
  const on = { ...off, enabled: true };

  it('previews a policy created ON, switched ON, or changed while ON; not one left OFF, switched OFF or unchanged', () => {
    expect(needsPreview(null, on, ['all'])).toBe(true);
    expect(needsPreview(off, on, ['enabled'])).toBe(true);
    expect(needsPreview(on, { ...on, priority: 3 }, ['priority'])).toBe(true);
    expect(needsPreview(null, off, ['all'])).toBe(false);
    expect(needsPreview(on, off, ['enabled'])).toBe(false);
    expect(needsPreview(on, on, [])).toBe(false);
  });

  it('the digest names the draft, not its id: any field changed after the preview makes Confirm preview again', () => {
    expect(previewDigest({ ...on, id: 'another' })).toBe(previewDigest(on));
    for (const changed of [{ strength: 'phishing_resistant' as const }, { excludeGroupIds: ['g'] }, { resources: ['demo'] }, { enabled: false }, { name: 'Everyone MFA!' }]) {
      expect(previewDigest({ ...on, ...changed }), JSON.stringify(changed)).not.toBe(previewDigest(on));
    }
  });
});
