import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Db } from '../../../db';
import { getAccessFacts } from '../../../db/queries/access';
import { loadPolicyRecords } from '../../../db/queries/policies';
import type { Actor } from '../../../lib/admin/actor';
import { ValidationError } from '../../../lib/admin/errors';
import { addGroupMembersByUsername, removeGroupMembers } from '../../../lib/admin/group-members';
import { createGroup, deleteGroup, setGroupMembers } from '../../../lib/admin/groups';
import { createPolicy, setPolicyEnabled, updatePolicy } from '../../../lib/admin/policies';
import { setUserState } from '../../../lib/admin/user-state';
import { countUsersByStatus, getUserDetail, listUsers } from '../../../lib/admin/user-directory';
import { exportUsersCsv } from '../../../lib/admin/user-export';
import { requireMfaForUsers } from '../../../lib/admin/mfa-requirements';
import { createUser } from '../../../lib/admin/users';
import { sessionIdOf } from '../../../lib/auth/session-token';
import { manualClock } from '../../../lib/clock';
import { decisionInput } from '../../../lib/gate/decision-input';
import { compilePolicies, decide } from '../../../lib/policy';
import { dialects, freshDb } from '../support/dialects';
import { apiWorld, expectJson, expectProblem, type ApiWorld } from '../api/support';
import { enrollTotp, signedIn } from '../factors/support';

/**
 * Issue 18 part 6 on both dialects: who gets a grace window, when, and what it brings
 * (the "period started" message, the audit entry, the gate's R-D16). "Sales MFA" forces
 * MFA on Sales with 7 grace days.
 */

const DAY = 86_400_000;
const oneHour = 3_600_000;
const start = Date.UTC(2026, 11, 3, 9, 0, 0);
const admin: Actor = { id: 'admin-ada', label: 'ada.admin', clientIp: '198.51.100.7' };
const browser = { ip: '198.51.100.7', userAgent: 'Mozilla/5.0 (X11; Linux x86_64) Chrome/140.0 Safari/537.36' };

describe.each(dialects)('grace days on entering a policy (issue 18 part 6) on %s', (dialect) => {
  let db: Db;
  const clock = manualClock(start);
  let sales: string;
  let support: string;
  let contractors: string;

  beforeEach(async () => {
    clock.set(start);
    db = await freshDb(dialect);
    sales = (await createGroup(db.kysely, { name: 'Sales' }, admin, clock)).id;
    support = (await createGroup(db.kysely, { name: 'Support' }, admin, clock)).id;
    contractors = (await createGroup(db.kysely, { name: 'Contractors' }, admin, clock)).id;
  });
  afterEach(async () => {
    await db.close();
  });

  const user = async (username: string, state: 'active' | 'staged' = 'active') =>
    (await createUser(db.kysely, { username, email: `${username}@example.org`, state }, admin, clock)).id;
  const salesMfa = (extra: Record<string, unknown> = {}) =>
    createPolicy(db.kysely, { name: 'Sales MFA', enabled: true, scope: 'groups', includeGroupIds: [sales], resources: ['portal'], action: 'require_mfa', graceDays: 7, ...extra }, admin, clock);
  const windowsOf = async (userId: string) =>
    (await db.kysely.selectFrom('policy_grace').selectAll().where('user_id', '=', userId).execute()).map((w) => ({
      policyId: w.policy_id,
      startsAt: Number(w.starts_at),
      endsAt: Number(w.ends_at),
    }));
  const allWindows = async () => Number((await db.kysely.selectFrom('policy_grace').select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow()).n);
  const startedMessages = async (userId: string) =>
    db.kysely.selectFrom('mail_outbox').select(['kind', 'status', 'params']).where('user_id', '=', userId).where('kind', '=', 'enrollment_started').execute();
  const lastAudit = async (action: string) =>
    JSON.parse(
      (await db.kysely.selectFrom('audit_log').select('details').where('action', '=', action).orderBy('id', 'desc').executeTakeFirstOrThrow()).details as string,
    ) as Record<string, unknown>;

  it('Gus joins Sales: a 7-day window opens, his "period started" message is queued, and the change is audited with it', async () => {
    const policy = await salesMfa();
    const gus = await user('gus');
    clock.advance(60_000);
    await addGroupMembersByUsername(db.kysely, sales, ['gus'], admin, clock);
    const now = start + 60_000;
    expect(await windowsOf(gus)).toEqual([{ policyId: policy.id, startsAt: now, endsAt: now + 7 * DAY }]);
    const [message] = await startedMessages(gus);
    expect(message).toMatchObject({ kind: 'enrollment_started', status: 'pending' });
    expect(JSON.parse(message!.params as string)).toMatchObject({ enrollmentDays: 7, periodStartsAt: now, periodEndsAt: now + 7 * DAY, reason: 'policy' });
    expect(await lastAudit('group.members_set')).toMatchObject({ added: 1, graceStarted: [{ policyId: policy.id, policy: 'Sales MFA', users: 1, endsAt: now + 7 * DAY }] });
  });

  it('the gate reads the window: Gus sees a skippable Set Up until it ends, then a forced one (R-D16, R-D4)', async () => {
    await salesMfa();
    const gus = await user('gus');
    await addGroupMembersByUsername(db.kysely, sales, ['gus'], admin, clock);
    const { token, session } = await signedIn(db, gus, clock);
    const config = { settings: { totp: true, webauthn: false, duo: false }, policies: compilePolicies(await loadPolicyRecords(db.kysely)) };
    const decisionAt = async (now: number) => {
      const row = await getAccessFacts(db.kysely, db.dialect, sessionIdOf(token));
      return decide(decisionInput(row!, session, 'portal', browser, config, now));
    };
    expect(await decisionAt(start + DAY)).toMatchObject({ kind: 'enroll', forced: false, deadline: start + 7 * DAY, rule: 'R-D16' });
    expect(await decisionAt(start + 7 * DAY)).toMatchObject({ kind: 'enroll', forced: true, rule: 'R-D4' });
  });

  it('Ted, already in scope through Support, gets nothing from joining Sales; nor does anyone from a policy edit', async () => {
    const policy = await salesMfa({ includeGroupIds: [sales, support] });
    const ted = await user('ted');
    const tess = await user('tess');
    await setGroupMembers(db.kysely, support, { userIds: [ted] }, admin, clock); // Ted enters here: a window
    const tedsWindow = await windowsOf(ted);
    expect(tedsWindow).toHaveLength(1);
    clock.advance(DAY);
    await setGroupMembers(db.kysely, sales, { userIds: [ted] }, admin, clock);
    expect(await windowsOf(ted)).toEqual(tedsWindow); // unchanged: he was in scope already

    // Tess is in Contractors; adding Contractors to the policy, raising the grace, switching
    // it OFF and ON, or creating another policy over her gives her no window.
    await setGroupMembers(db.kysely, contractors, { userIds: [tess] }, admin, clock);
    await updatePolicy(db.kysely, policy.id, { includeGroupIds: [sales, support, contractors], graceDays: 30 }, admin, clock);
    await setPolicyEnabled(db.kysely, policy.id, false, admin, clock);
    await setPolicyEnabled(db.kysely, policy.id, true, admin, clock);
    await createPolicy(db.kysely, { name: 'Everyone MFA', enabled: true, resources: ['portal'], action: 'require_mfa', graceDays: 14 }, admin, clock);
    expect(await windowsOf(tess)).toEqual([]);
    expect(await startedMessages(tess)).toEqual([]);
  });

  it('a staged user activated enters the scope (a window); a suspended one coming back does not', async () => {
    const policy = await salesMfa();
    const stella = await user('stella', 'staged');
    const sam = await user('sam');
    await setGroupMembers(db.kysely, sales, { userIds: [stella, sam] }, admin, clock);
    expect(await windowsOf(stella)).toEqual([]); // staged: not in scope yet
    const samsWindow = await windowsOf(sam);
    clock.advance(DAY);
    await setUserState(db.kysely, stella, 'active', admin, clock);
    expect(await windowsOf(stella)).toEqual([{ policyId: policy.id, startsAt: start + DAY, endsAt: start + 8 * DAY }]);
    expect(await startedMessages(stella)).toHaveLength(1);
    expect(await lastAudit('user.state_changed')).toMatchObject({ to: 'active', graceStarted: [{ policy: 'Sales MFA', users: 1 }] });

    await setUserState(db.kysely, sam, 'suspended', admin, clock);
    clock.advance(DAY);
    await setUserState(db.kysely, sam, 'active', admin, clock);
    expect(await windowsOf(sam)).toEqual(samsWindow);
  });

  it('a user created active under an All Users policy with grace gets a window; one created staged waits for activation', async () => {
    const everyone = await createPolicy(db.kysely, { name: 'Everyone MFA', enabled: true, resources: ['portal'], action: 'require_mfa', graceDays: 3 }, admin, clock);
    const nora = await user('nora');
    expect(await windowsOf(nora)).toEqual([{ policyId: everyone.id, startsAt: start, endsAt: start + 3 * DAY }]);
    expect(await lastAudit('user.created')).toMatchObject({ graceStarted: [{ policy: 'Everyone MFA', users: 1 }] });
    expect(await windowsOf(await user('nils', 'staged'))).toEqual([]);
  });

  it('Carl leaves Contractors (excluded from an All Users policy): he enters it now, unless another exclusion holds', async () => {
    const carl = await user('carl');
    const cleo = await user('cleo');
    await setGroupMembers(db.kysely, contractors, { userIds: [carl, cleo] }, admin, clock);
    await setGroupMembers(db.kysely, support, { userIds: [cleo] }, admin, clock);
    const policy = await createPolicy(
      db.kysely,
      { name: 'All but contractors', enabled: true, excludeGroupIds: [contractors, support], resources: ['portal'], action: 'require_mfa', graceDays: 5 },
      admin,
      clock,
    );
    clock.advance(DAY);
    await removeGroupMembers(db.kysely, contractors, [carl, cleo], admin, clock);
    expect(await windowsOf(carl)).toEqual([{ policyId: policy.id, startsAt: start + DAY, endsAt: start + 6 * DAY }]);
    expect(await windowsOf(cleo)).toEqual([]); // still in Support, still excluded
    expect(await allWindows()).toBe(1);
  });

  it('deleting an excluded group: its members newly fall under the policy and get their windows', async () => {
    const carl = await user('carl');
    await setGroupMembers(db.kysely, contractors, { userIds: [carl] }, admin, clock);
    const policy = await createPolicy(
      db.kysely,
      { name: 'All but contractors', enabled: true, excludeGroupIds: [contractors], resources: ['portal'], action: 'require_mfa', graceDays: 5 },
      admin,
      clock,
    );
    clock.advance(DAY);
    await deleteGroup(db.kysely, contractors, admin, clock);
    expect(await windowsOf(carl)).toEqual([{ policyId: policy.id, startsAt: start + DAY, endsAt: start + 6 * DAY }]);
    expect(await lastAudit('group.deleted')).toMatchObject({ graceStarted: [{ policy: 'All but contractors', users: 1 }] });
  });

  it('a window of a policy switched OFF shows nothing in the MFA column; ON again, it shows as it was', async () => {
    const policy = await salesMfa();
    const gus = await user('gus');
    await addGroupMembersByUsername(db.kysely, sales, ['gus'], admin, clock);
    const status = async () => (await getUserDetail(db.kysely, gus, clock)).mfa.status;
    expect(await status()).toBe('enrollment_period');
    await setPolicyEnabled(db.kysely, policy.id, false, admin, clock);
    expect(await status()).toBe('not_enrolled');
    expect((await listUsers(db.kysely, { mfaStatus: 'enrollment_period' }, clock)).users).toEqual([]);
    await setPolicyEnabled(db.kysely, policy.id, true, admin, clock);
    expect(await status()).toBe('enrollment_period');
  });

  it('bulk: 600 people put into Sales at once each get a window and a message, in one set-based change', async () => {
    const policy = await salesMfa();
    const ids: string[] = [];
    for (let i = 0; i < 600; i++) ids.push(await user(`rep${String(i).padStart(3, '0')}`));
    const already = ids.slice(0, 100);
    await setGroupMembers(db.kysely, support, { userIds: already }, admin, clock);
    await updatePolicy(db.kysely, policy.id, { includeGroupIds: [sales, support] }, admin, clock); // no windows from an edit
    expect(await allWindows()).toBe(0);
    clock.advance(DAY);
    await setGroupMembers(db.kysely, sales, { userIds: ids }, admin, clock);
    expect(await allWindows()).toBe(500); // the 100 already in scope through Support get none
    const messages = await db.kysely.selectFrom('mail_outbox').select('user_id').where('kind', '=', 'enrollment_started').execute();
    expect(new Set(messages.map((m) => m.user_id)).size).toBe(500);
    expect(await lastAudit('group.members_set')).toMatchObject({ added: 600, graceStarted: [{ users: 500, endsAt: start + 8 * DAY }] });
  });

  it('an enrolled newcomer gets a window, but her message is recorded as skipped (R-B6); leaving and rejoining does not start grace over', async () => {
    await salesMfa();
    const erin = await user('erin');
    await enrollTotp(db, erin, clock);
    await addGroupMembersByUsername(db.kysely, sales, ['erin'], admin, clock);
    const [message] = await startedMessages(erin);
    expect(message?.status).toBe('skipped');
    const first = await windowsOf(erin);
    clock.advance(3 * DAY);
    await removeGroupMembers(db.kysely, sales, [erin], admin, clock);
    await addGroupMembersByUsername(db.kysely, sales, ['erin'], admin, clock);
    expect(await windowsOf(erin)).toEqual(first);
  });

  it('refuses grace outside 0 … 365 whole days, and on an allow or deny policy', async () => {
    for (const graceDays of [-1, 366, 1.5, '7']) {
      await expect(salesMfa({ graceDays })).rejects.toBeInstanceOf(ValidationError);
    }
    await expect(salesMfa({ action: 'deny' })).rejects.toMatchObject({ fieldErrors: { graceDays: [expect.stringContaining('require-MFA')] } });
    const zero = await salesMfa({ graceDays: 0 });
    expect(zero.graceDays).toBe(0);
    expect((await updatePolicy(db.kysely, zero.id, { action: 'allow' }, admin, clock)).graceDays).toBe(0);
  });

  it('the MFA column, its filters, the counts, the detail and the CSV show Gus "in enrollment period" with his window, and "not enrolled" after it', async () => {
    await salesMfa();
    const gus = await user('gus');
    const ted = await user('ted'); // no window, not required: not enrolled
    const ivy = await user('ivy'); // an individual period, as before
    await requireMfaForUsers(db.kysely, { userIds: [ivy], enrollmentDays: 3 }, admin, clock);
    clock.advance(oneHour);
    await addGroupMembersByUsername(db.kysely, sales, ['gus'], admin, clock);
    const windowOf = { status: 'enrollment_period', enrollmentStartsAt: start + oneHour, enrollmentEndsAt: start + oneHour + 7 * DAY };
    const names = async (mfaStatus?: 'enrollment_period' | 'not_enrolled' | 'expired') =>
      (await listUsers(db.kysely, mfaStatus ? { mfaStatus } : {}, clock)).users.map((u) => u.username);

    clock.advance(DAY);
    const row = (await listUsers(db.kysely, {}, clock)).users.find((u) => u.id === gus);
    expect(row?.mfa).toMatchObject({ required: false, ...windowOf });
    expect((await getUserDetail(db.kysely, gus, clock)).mfa).toMatchObject(windowOf);
    expect(await names('enrollment_period')).toEqual(['gus', 'ivy']);
    expect(await names('not_enrolled')).toEqual(['ted']);
    const counts = await countUsersByStatus(db.kysely, clock, { maxAgeMs: 0 });
    expect(counts.byStatus).toMatchObject({ enrollment_period: 2, not_enrolled: 1 });
    let csv = '';
    for await (const chunk of exportUsersCsv(db.kysely, { mfaStatus: 'enrollment_period' }, admin, clock)) csv += chunk;
    expect(csv).toContain('gus');
    expect(csv).toContain(new Date(start + oneHour + 7 * DAY).toISOString());

    clock.set(start + oneHour + 7 * DAY); // his window ended: the policy forces him now
    expect((await getUserDetail(db.kysely, gus, clock)).mfa.status).toBe('not_enrolled');
    expect(await names('enrollment_period')).toEqual([]);
    expect(await names('not_enrolled')).toEqual(['gus', 'ted']);
    expect(await names('expired')).toEqual(['ivy']);
  });
});

describe.each(dialects)('grace days over /api/v1 on %s', (dialect) => {
  let world: ApiWorld;
  beforeEach(async () => {
    world = await apiWorld(dialect);
  });
  afterEach(async () => {
    await world.close();
  });

  it('POST, PATCH and GET carry graceDays; out of range is a 400 naming the field; the OpenAPI document describes it', async () => {
    const body = { name: 'Portal MFA', enabled: true, resources: ['portal'], action: 'require_mfa', graceDays: 7 };
    const created = await expectJson(await world.call('POST', '/policies', { body }), 201);
    expect(created).toMatchObject({ graceDays: 7 });
    expect(await expectJson(await world.call('PATCH', `/policies/${created.id}`, { body: { graceDays: 30 } }), 200)).toMatchObject({ graceDays: 30 });
    expect(await expectJson(await world.call('GET', `/policies/${created.id}`, { key: world.readKey }), 200)).toMatchObject({ graceDays: 30 });
    expect((await expectProblem(await world.call('PATCH', `/policies/${created.id}`, { body: { graceDays: 366 } }), 400)).errors).toHaveProperty('graceDays');
    const doc = JSON.stringify(await expectJson(await world.call('GET', '/openapi.json', { key: world.readKey }), 200));
    expect(doc).toContain('"graceDays"');
  });
});
