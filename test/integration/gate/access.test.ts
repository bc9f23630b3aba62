import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { randomUUID } from 'node:crypto';
import type { Db } from '../../../db';
import { manualClock, oneDay } from '../../../lib/clock';
import { cliActor } from '../../../lib/admin/actor';
import { createUser } from '../../../lib/admin/users';
import { createGroup, setGroupMembers } from '../../../lib/admin/groups';
import { createPolicy, setPolicyEnabled } from '../../../lib/admin/policies';
import { requireMfaForUsers } from '../../../lib/admin/mfa-requirements';
import { createSession, elevateSession, validateSession } from '../../../lib/auth/sessions';
import { destinationFor, evaluateAccess } from '../../../lib/gate/access';
import { dialects, freshDb } from '../support/dialects';

const start = Date.UTC(2026, 10, 2, 9, 0, 0);
const chromeOnLinux = 'Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/156.0.0.0 Safari/537.36';
const fromOffice = { ip: '10.20.30.40', userAgent: chromeOnLinux };
const fromHome = { ip: '203.0.113.5', userAgent: chromeOnLinux };

/*
 * The gate's one lookup and decision on each dialect (the lookup aggregates factor types and
 * group ids with dialect-specific SQL). Personas:
 * - Ada: in Finance and Auditors, TOTP enrolled.
 * - Ben: no groups, no factors, no requirement.
 * - Cora: MFA required for her alone, period running.
 */
describe.each(dialects)('evaluateAccess on %s', (dialect) => {
  let db: Db;
  const clock = manualClock(start);
  const users: Record<string, string> = {};
  let financeId = '';

  async function signInAs(name: string): Promise<string> {
    return createSession(db.kysely, users[name], { ip: fromOffice.ip, userAgent: chromeOnLinux }, clock);
  }

  beforeEach(async () => {
    clock.set(start);
    db = await freshDb(dialect);
    for (const name of ['ada', 'ben', 'cora']) {
      users[name] = (await createUser(db.kysely, { username: name, password: 'long enough passphrase', state: 'active' }, cliActor, clock)).id;
    }
    const finance = await createGroup(db.kysely, { name: 'Finance' }, cliActor, clock);
    const auditors = await createGroup(db.kysely, { name: 'Auditors' }, cliActor, clock);
    financeId = finance.id;
    await setGroupMembers(db.kysely, finance.id, { userIds: [users.ada] }, cliActor, clock);
    await setGroupMembers(db.kysely, auditors.id, { userIds: [users.ada] }, cliActor, clock);
    await db.kysely
      .insertInto('factors')
      .values({ id: randomUUID(), user_id: users.ada, type: 'totp', name: 'Phone', created_at: start, last_used_at: null, secret_enc: 'x', last_used_step: null, credential_id: null, public_key: null, sign_count: null, transports: null })
      .execute();
    await requireMfaForUsers(db.kysely, { userIds: [users.cora], enrollmentDays: 7 }, cliActor, clock);
  });

  afterEach(async () => {
    await db.close();
  });

  it('R-D1: no token or an unknown token → sign in', async () => {
    expect((await evaluateAccess(db, null, 'portal', fromOffice, clock)).decision.kind).toBe('login');
    expect((await evaluateAccess(db, 'A'.repeat(43), 'portal', fromOffice, clock)).decision.kind).toBe('login');
  });

  it('R-D8: Ben, with nothing required, is allowed', async () => {
    const result = await evaluateAccess(db, await signInAs('ben'), 'portal', fromOffice, clock);
    expect(result.decision).toMatchObject({ kind: 'allow', rule: 'R-D8' });
    expect(result.session?.username).toBe('ben');
  });

  it('R-D5: Cora, in her period, is offered a skippable enrollment ending in 7 days', async () => {
    const { decision } = await evaluateAccess(db, await signInAs('cora'), 'portal', fromOffice, clock);
    expect(decision).toMatchObject({ kind: 'enroll', forced: false, deadline: start + 7 * oneDay });
    expect(destinationFor(decision, '/portal')).toBe('/mfa/setup?returnTo=%2Fportal');
  });

  it('R-D6: Cora after her period ended is locked', async () => {
    const token = await signInAs('cora');
    clock.advance(7 * oneDay);
    // Her session would have expired by now; give her a fresh one at the new time.
    const fresh = await createSession(db.kysely, users.cora, { ip: null, userAgent: null }, clock);
    expect((await evaluateAccess(db, fresh, 'portal', fromOffice, clock)).decision.kind).toBe('locked');
    expect((await evaluateAccess(db, token, 'portal', fromOffice, clock)).decision.kind).toBe('login');
  });

  it("R-C3/R-D3: a Finance policy requiring MFA from outside the office challenges Ada at home, using her groups and factors from the one lookup", async () => {
    await createPolicy(
      db.kysely,
      { name: 'Finance off-site', enabled: true, scope: 'groups', includeGroupIds: [financeId], excludeGroupIds: [], conditions: { ipNotIn: ['10.0.0.0/8'] }, resources: ['portal'], action: 'require_mfa', priority: 0 },
      cliActor,
      clock,
    );
    const token = await signInAs('ada');
    // R-D11: in the office no policy applies, but Ada's own TOTP factor still asks for itself.
    expect((await evaluateAccess(db, token, 'portal', fromOffice, clock)).decision).toStrictEqual({ kind: 'challenge', methods: ['totp'], rule: 'R-D11' });
    const atHome = await evaluateAccess(db, token, 'portal', fromHome, clock);
    expect(atHome.decision).toMatchObject({ kind: 'challenge', methods: ['totp'], policy: { name: 'Finance off-site' } });
    expect((await evaluateAccess(db, token, 'demo', fromHome, clock)).decision).toMatchObject({ kind: 'challenge', rule: 'R-D11' });

    // R-D3: once this session passes a second factor, the challenge is satisfied.
    const session = await validateSession(db, token, clock);
    const elevated = await elevateSession(db.kysely, session!, 'totp', clock);
    expect((await evaluateAccess(db, elevated, 'portal', fromHome, clock)).decision.kind).toBe('allow');
  });

  it('a policy change applies at the next request: the configuration version travels with the session lookup', async () => {
    const token = await signInAs('ben');
    expect((await evaluateAccess(db, token, 'portal', fromOffice, clock)).decision.kind).toBe('allow');
    const policy = await createPolicy(
      db.kysely,
      { name: 'Everyone out', enabled: true, scope: 'all', includeGroupIds: [], excludeGroupIds: [], conditions: {}, resources: ['portal'], action: 'deny', priority: 0 },
      cliActor,
      clock,
    );
    expect((await evaluateAccess(db, token, 'portal', fromOffice, clock)).decision).toMatchObject({ kind: 'deny', policy: { name: 'Everyone out' } });
    await setPolicyEnabled(db.kysely, policy.id, false, cliActor, clock);
    expect((await evaluateAccess(db, token, 'portal', fromOffice, clock)).decision.kind).toBe('allow');
  });
});
