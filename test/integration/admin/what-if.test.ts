import fc from 'fast-check';
import { randomUUID } from 'node:crypto';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Db } from '../../../db';
import { cliActor } from '../../../lib/admin/actor';
import { NotFoundError, ValidationError } from '../../../lib/admin/errors';
import { createGroup, setGroupMembers } from '../../../lib/admin/groups';
import { requireMfaForUsers } from '../../../lib/admin/mfa-requirements';
import { createPolicy } from '../../../lib/admin/policies';
import { createUser } from '../../../lib/admin/users';
import { whatIf, type SecondFactorChoice } from '../../../lib/admin/what-if';
import { createSession, elevateSession, validateSession } from '../../../lib/auth/sessions';
import { manualClock, oneDay } from '../../../lib/clock';
import { evaluateAccess } from '../../../lib/gate/access';
import { parseUserAgent, type Decision } from '../../../lib/policy';
import { dialects, freshDb } from '../support/dialects';

const start = Date.UTC(2026, 10, 2, 9, 0, 0);
const userAgents = {
  chromeOnWindows: 'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/156.0.0.0 Safari/537.36',
  safariOnMac: 'Mozilla/5.0 (Macintosh; Intel Mac OS X 14_5) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/18.0 Safari/605.1.15',
  firefoxOnLinux: 'Mozilla/5.0 (X11; Linux x86_64; rv:140.0) Gecko/20100101 Firefox/140.0',
};

/*
 * "What if" (issue 18 §4) on each dialect: the gate's decision for a hypothetical request,
 * explained, and nothing written. Personas:
 * - Nils, a contractor: denied on demo by "Block contractors on demo".
 * - Eve, an engineer with TOTP: "Engineering MFA" asks her for it, except from the office.
 * - Cora: MFA required for her alone; her 7-day period started at `start`.
 * - Stan: staged, so he cannot sign in yet (R-D7).
 */
describe.each(dialects)('whatIf() on %s', (dialect) => {
  let db: Db;
  const clock = manualClock(start);
  const ids: Record<string, string> = {};

  beforeEach(async () => {
    clock.set(start);
    db = await freshDb(dialect);
    for (const [name, state] of [['nils', 'active'], ['eve', 'active'], ['cora', 'active'], ['stan', 'staged']] as const) {
      ids[name] = (await createUser(db.kysely, { username: name, password: 'long enough passphrase', state }, cliActor, clock)).id;
    }
    const contractors = await createGroup(db.kysely, { name: 'Contractors' }, cliActor, clock);
    const engineering = await createGroup(db.kysely, { name: 'Engineering' }, cliActor, clock);
    await setGroupMembers(db.kysely, contractors.id, { userIds: [ids.nils] }, cliActor, clock);
    await setGroupMembers(db.kysely, engineering.id, { userIds: [ids.eve, ids.nils] }, cliActor, clock);
    await db.kysely
      .insertInto('factors')
      .values({ id: randomUUID(), user_id: ids.eve!, type: 'totp', name: 'Phone', created_at: start, last_used_at: null, secret_enc: 'x', last_used_step: null, credential_id: null, public_key: null, sign_count: null, transports: null })
      .execute();
    await requireMfaForUsers(db.kysely, { userIds: [ids.cora], enrollmentDays: 7 }, cliActor, clock);
    const policies = [
      { name: 'Block contractors on demo', enabled: true, scope: 'groups', includeGroupIds: [contractors.id], resources: ['demo'], action: 'deny' },
      {
        name: 'Engineering MFA',
        enabled: true,
        scope: 'groups',
        includeGroupIds: [engineering.id],
        excludeGroupIds: [contractors.id],
        conditions: { ipNotIn: ['10.0.0.0/8'] },
        resources: ['portal', 'demo'],
        action: 'require_mfa',
      },
      { name: 'Macs on Safari allowed', enabled: true, scope: 'all', conditions: { osIn: ['macos'], browserIn: ['safari'] }, resources: ['portal'], action: 'allow' },
      { name: 'Dormant deny', enabled: false, scope: 'all', resources: ['portal'], action: 'deny' },
    ];
    for (const p of policies) await createPolicy(db.kysely, p, cliActor, clock);
  });

  afterEach(async () => {
    await db.close();
  });

  /** Rows in every table: what-if must leave them all as they were. */
  async function rowCounts(): Promise<Record<string, number>> {
    const tables = (await db.kysely.introspection.getTables()).map((t) => t.name).sort();
    const counts: Record<string, number> = {};
    for (const table of tables) {
      const row = await db.kysely
        .selectFrom(table as 'users')
        .select((eb) => eb.fn.countAll<number | string>().as('n'))
        .executeTakeFirstOrThrow();
      counts[table] = Number(row.n);
    }
    return counts;
  }

  const ask = (input: Record<string, unknown>) =>
    whatIf(db.kysely, { resource: 'portal', ip: '203.0.113.9', os: 'windows', browser: 'chrome', ...input }, clock);

  it('Nils on demo: denied by "Block contractors on demo", every criterion named, and nothing written', async () => {
    const before = await rowCounts();
    const result = await ask({ user: { username: 'nils' }, resource: 'demo' });
    expect(result.decision).toEqual({ kind: 'deny', rule: 'R-D2', policy: { id: expect.any(String), name: 'Block contractors on demo' } });
    const block = result.policies.find((p) => p.name === 'Block contractors on demo')!;
    expect(block).toMatchObject({ applies: true, strictest: true, action: 'deny', enabled: true });
    expect(block.criteria).toEqual({
      status: { outcome: 'pass', why: 'ON' },
      resource: { outcome: 'pass', why: 'demo is one of its resources (demo)' },
      scope: { outcome: 'pass', why: 'In Contractors' },
      exclusion: { outcome: 'not_set', why: 'No groups excluded' },
      ipIn: { outcome: 'not_set', why: 'Any address' },
      ipNotIn: { outcome: 'not_set', why: 'No ranges excluded' },
      os: { outcome: 'not_set', why: 'Any operating system' },
      browser: { outcome: 'not_set', why: 'Any browser' },
    });
    // Nils is in Engineering too, but contractors are excluded from its MFA policy (R-C2).
    const engineering = result.policies.find((p) => p.name === 'Engineering MFA')!;
    expect(engineering).toMatchObject({ applies: false, strictest: false });
    expect(engineering.criteria.scope).toEqual({ outcome: 'pass', why: 'In Engineering' });
    expect(engineering.criteria.exclusion).toEqual({ outcome: 'fail', why: 'Excluded: in Contractors' });
    expect(engineering.criteria.ipNotIn).toEqual({ outcome: 'pass', why: '203.0.113.9 is not in 10.0.0.0/8' });
    expect(result.policies.find((p) => p.name === 'Dormant deny')!.criteria.status).toEqual({ outcome: 'fail', why: 'OFF: it has no effect' });
    expect(result.policies.map((p) => p.name)).toHaveLength(4);
    expect(result.session).toEqual({ secondFactor: 'none', description: 'Signed in with the password only, at that time.' });
    expect(result.at).toBe(start);
    expect(await rowCounts()).toEqual(before);
  });

  it('Eve: challenged by the policy from outside, by her own factor from the office (R-D11), allowed once TOTP passed (R-D3)', async () => {
    const outside = await ask({ user: { username: 'EVE' } });
    expect(outside.decision).toEqual({ kind: 'challenge', rule: 'R-D3', policy: { id: expect.any(String), name: 'Engineering MFA' }, methods: ['totp'] });
    const office = await ask({ user: { id: ids.eve }, ip: '10.1.2.3' });
    // Nothing requires MFA from the office, but Eve's own factor still protects her (R-D11).
    expect(office.decision).toEqual({ kind: 'challenge', rule: 'R-D11', policy: null, methods: ['totp'] });
    expect(office.policies.find((p) => p.name === 'Engineering MFA')!.criteria.ipNotIn).toEqual({ outcome: 'fail', why: '10.1.2.3 is in 10.0.0.0/8' });
    const passed = await ask({ user: { username: 'eve' }, secondFactor: 'totp' });
    expect(passed.decision).toMatchObject({ kind: 'allow', rule: 'R-D3', policy: { name: 'Engineering MFA' } });
    expect(passed.session.description).toBe('Signed in with the password and an authenticator app (TOTP), at that time.');
  });

  it('an unknown address counts for the require-MFA policy, and not for the allow policy', async () => {
    const result = await ask({ user: { username: 'eve' }, ip: 'unknown', os: 'macos', browser: 'safari' });
    expect(result.decision).toMatchObject({ kind: 'challenge', policy: { name: 'Engineering MFA' } });
    const engineering = result.policies.find((p) => p.name === 'Engineering MFA')!;
    expect(engineering.criteria.ipNotIn).toEqual({ outcome: 'pass', why: 'Ranges 10.0.0.0/8: the address is unknown, which counts as a match for a require-MFA policy' });
    const macs = result.policies.find((p) => p.name === 'Macs on Safari allowed')!;
    expect(macs).toMatchObject({ applies: true, strictest: false });
    expect(macs.criteria.os).toEqual({ outcome: 'pass', why: 'macOS is one of macOS' });
  });

  it('the time moves Cora from her period (skippable setup) to the locked page (R-D5, R-D6)', async () => {
    const now = await ask({ user: { username: 'cora' } });
    expect(now.decision).toEqual({ kind: 'enroll', rule: 'R-D5', policy: null, methods: ['totp'], forced: false, deadlineAt: start + 7 * oneDay });
    const later = await ask({ user: { username: 'cora' }, at: new Date(start + 8 * oneDay).toISOString() });
    expect(later.decision).toEqual({ kind: 'locked', rule: 'R-D6', policy: null, deadlineAt: start + 7 * oneDay });
    expect(later.at).toBe(start + 8 * oneDay);
  });

  it('Stan, staged, cannot sign in (R-D7)', async () => {
    expect((await ask({ user: { username: 'stan' } })).decision).toEqual({ kind: 'login', rule: 'R-D7', policy: null });
  });

  it('refuses an unknown user, an undeclared resource, a bad address and a bad time, and writes nothing', async () => {
    const before = await rowCounts();
    await expect(ask({ user: { username: 'nobody' } })).rejects.toBeInstanceOf(NotFoundError);
    await expect(ask({ user: { id: randomUUID() } })).rejects.toBeInstanceOf(NotFoundError);
    const refusal = async (input: Record<string, unknown>) => {
      const error = await ask(input).then(
        () => null,
        (e: unknown) => e,
      );
      expect(error).toBeInstanceOf(ValidationError);
      return (error as ValidationError).fieldErrors;
    };
    expect(await refusal({ user: { username: 'eve' }, resource: 'payroll' })).toEqual({ resource: ['Unknown resource "payroll": choose from portal, demo.'] });
    expect(Object.keys(await refusal({ user: { username: 'eve' }, ip: '10.0.0.0/8' }))).toEqual(['ip']);
    expect(Object.keys(await refusal({ user: { username: 'eve' }, at: 'tomorrow' }))).toEqual(['at']);
    expect(Object.keys(await refusal({ user: { username: 'eve', id: ids.eve } }))).toEqual(['user']);
    expect(await rowCounts()).toEqual(before);
  });

  it('agrees with the live gate for random users, resources, addresses, browsers and sessions (property)', async () => {
    const summary = (d: Decision) => ({ kind: d.kind, rule: d.rule, policy: 'policy' in d && d.policy ? d.policy.name : null });
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom('nils', 'eve', 'cora'),
        fc.constantFrom('portal', 'demo'),
        fc.constantFrom('203.0.113.9', '10.1.2.3', '::ffff:10.1.2.3', 'unknown'),
        fc.constantFrom(...Object.values(userAgents)),
        fc.constantFrom<SecondFactorChoice>('none', 'totp'),
        async (username, resource, ip, userAgent, secondFactor) => {
          let token = await createSession(db.kysely, ids[username]!, { ip, userAgent }, clock);
          if (secondFactor === 'totp') token = (await elevateSession(db.kysely, (await validateSession(db, token, clock))!, 'totp', clock))!;
          const live = await evaluateAccess(db, token, resource, { ip, userAgent }, clock);
          const { os, browser } = parseUserAgent(userAgent);
          const asked = await whatIf(db.kysely, { user: { username }, resource, ip, os, browser, secondFactor }, clock);
          expect({ kind: asked.decision.kind, rule: asked.decision.rule, policy: asked.decision.policy?.name ?? null }).toEqual(summary(live.decision));
        },
      ),
      { numRuns: 20 },
    );
  });
});
