import { randomUUID } from 'node:crypto';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Db } from '../../../db';
import type { FactorType } from '../../../db/schema';
import { manualClock } from '../../../lib/clock';
import { requireMfaForUsers, resetTotpEnrollment, setUserMfaRequirement } from '../../../lib/admin/mfa-requirements';
import { saveMfaSettings } from '../../../lib/admin/mfa-settings';
import { countUsersByStatus, userCountsRefresh, type UserCounts } from '../../../lib/admin/user-directory';
import { removeUserFactor } from '../../../lib/admin/user-factors';
import { setUserState } from '../../../lib/admin/user-state';
import { updateUser } from '../../../lib/admin/user-update';
import { createUser } from '../../../lib/admin/users';
import { dialects, freshDb } from '../support/dialects';
import { removeFactor } from '../../../lib/factors/factors';
import { enrollTotp, freshlyVerified, office } from '../factors/support';

/**
 * The services that change what the user counts read mark them stale themselves: the
 * next view after a service call waits for a count that sees the change, with no caller
 * saying so, even though the cached count is seconds old (well inside its 30 s age). Ada
 * the admin requires MFA for ten users and the header says so on the page that follows.
 */

const start = Date.UTC(2026, 10, 2, 9, 0, 0);
const admin = { id: 'admin-ada', label: 'ada.admin', clientIp: '198.51.100.7' };
const sealOptions = { sealSecret: (plain: string) => `sealed:${plain.length}` };

describe.each(dialects)('user counts after a service call on %s', (dialect) => {
  let db: Db;
  const clock = manualClock(start);

  beforeEach(async () => {
    clock.set(start);
    db = await freshDb(dialect);
  });
  afterEach(async () => {
    await db.close();
  });

  async function user(username: string, state: 'staged' | 'active' = 'active') {
    return (await createUser(db.kysely, { username, state }, admin, clock)).id;
  }

  async function addFactor(userId: string, type: FactorType): Promise<string> {
    const id = randomUUID();
    await db.kysely
      .insertInto('factors')
      .values({
        id,
        user_id: userId,
        type,
        name: `${type} key`,
        created_at: clock.now(),
        last_used_at: null,
        secret_enc: type === 'totp' ? 'sealed-secret' : null,
        last_used_step: null,
        credential_id: type === 'webauthn' ? randomUUID() : null,
        public_key: type === 'webauthn' ? 'public-key' : null,
        sign_count: null,
        transports: null,
      })
      .execute();
    return id;
  }

  /** A finished count, cached and fresh: without a stale mark the next views reuse it. */
  async function primedCount(): Promise<UserCounts> {
    await countUsersByStatus(db.kysely, clock);
    await userCountsRefresh(db.kysely);
    clock.advance(1_000);
    const cached = await countUsersByStatus(db.kysely, clock);
    expect(userCountsRefresh(db.kysely)).toBeNull();
    return cached;
  }

  /** The next view after a change: it waits for a new count, made after the change. */
  async function nextCount(): Promise<UserCounts> {
    clock.advance(1_000);
    const counts = await countUsersByStatus(db.kysely, clock);
    expect(counts.asOf, 'the service marked the counts stale: this view counted again').toBe(clock.now());
    expect(userCountsRefresh(db.kysely)).toBeNull();
    return counts;
  }

  it('creating a user', async () => {
    await user('ada');
    expect((await primedCount()).total).toBe(1);
    await user('bob');
    expect((await nextCount()).total).toBe(2);
  });

  it('a state change (a staged user with a requirement becomes active: pre-enrollment → enrollment period)', async () => {
    const cat = await user('cat', 'staged');
    await setUserMfaRequirement(db.kysely, cat, { required: true, enrollmentDays: 7 }, admin, clock);
    expect((await primedCount()).byStatus.pre_enrollment).toBe(1);
    await setUserState(db.kysely, cat, 'active', admin, clock);
    const after = await nextCount();
    expect(after.byStatus.pre_enrollment).toBe(0);
    expect(after.byStatus.enrollment_period).toBe(1);
  });

  it('requiring MFA for one user, and clearing it', async () => {
    const dan = await user('dan');
    expect((await primedCount()).required).toBe(0);
    await setUserMfaRequirement(db.kysely, dan, { required: true }, admin, clock);
    expect((await nextCount()).required).toBe(1);
    await setUserMfaRequirement(db.kysely, dan, { required: false }, admin, clock);
    expect((await nextCount()).required).toBe(0);
  });

  it('requiring MFA for many users at once: the page after the bulk change counts them all', async () => {
    const ids: string[] = [];
    for (let i = 0; i < 10; i++) ids.push(await user(`user${i}`));
    const before = await primedCount();
    expect(before).toMatchObject({ total: 10, required: 0 });
    expect(before.byStatus.enrollment_period).toBe(0);
    await requireMfaForUsers(db.kysely, { userIds: ids }, admin, clock);
    // Straight after the change, without waiting for anything in the background.
    const after = await countUsersByStatus(db.kysely, clock);
    expect(after).toMatchObject({ total: 10, required: 10 });
    expect(after.byStatus.enrollment_period).toBe(10);
  });

  it('two changes in a row: the view waits for a count that started after the second', async () => {
    const ids = [await user('lea'), await user('max')];
    await primedCount();
    await requireMfaForUsers(db.kysely, { userIds: [ids[0]] }, admin, clock);
    clock.advance(1_000);
    // A count starts for the first change (as a view would) and is still running...
    const first = countUsersByStatus(db.kysely, clock);
    await requireMfaForUsers(db.kysely, { userIds: [ids[1]] }, admin, clock);
    // ...so the view after the second change does not take it.
    const second = await countUsersByStatus(db.kysely, clock);
    expect((await first).required).toBeGreaterThanOrEqual(1);
    expect(second.required).toBe(2);
    expect((await countUsersByStatus(db.kysely, clock)).required).toBe(2);
  });

  it('a recount after a change that fails serves the previous count, and counts again at the next view', async () => {
    const ned = await user('ned');
    const before = await primedCount();
    await setUserMfaRequirement(db.kysely, ned, { required: true }, admin, clock);
    await db.kysely.schema.alterTable('mfa_requirements').renameTo('mfa_requirements_away').execute();
    expect(await countUsersByStatus(db.kysely, clock)).toBe(before);
    await db.kysely.schema.alterTable('mfa_requirements_away').renameTo('mfa_requirements').execute();
    expect((await countUsersByStatus(db.kysely, clock)).required).toBe(1);
  });

  it('saving a user (state, requirement and profile in one call)', async () => {
    const gus = await user('gus', 'staged');
    expect((await primedCount()).byStatus.not_enrolled).toBe(1);
    await updateUser(db.kysely, gus, { state: 'active', mfa: { required: true, enrollmentDays: 3 }, email: 'gus@example.test' }, admin, clock);
    const after = await nextCount();
    expect(after.byStatus.not_enrolled).toBe(0);
    expect(after.byStatus.enrollment_period).toBe(1);
  });

  it('resetting TOTP (the only factor goes: enrolled → enrollment period)', async () => {
    const hal = await user('hal');
    await addFactor(hal, 'totp');
    expect((await primedCount()).byStatus.enrolled).toBe(1);
    await resetTotpEnrollment(db.kysely, hal, {}, admin, clock);
    const after = await nextCount();
    expect(after.byStatus.enrolled).toBe(0);
    expect(after.byStatus.enrollment_period).toBe(1);
  });

  it("removing a user's factor", async () => {
    const ivy = await user('ivy');
    const factor = await addFactor(ivy, 'totp');
    expect((await primedCount()).byStatus.enrolled).toBe(1);
    await removeUserFactor(db.kysely, ivy, factor, admin, clock);
    expect((await nextCount()).byStatus.enrolled).toBe(0);
  });

  it('saving the MFA settings (a WebAuthn key counts once WebAuthn is enabled)', async () => {
    const jo = await user('jo');
    await addFactor(jo, 'webauthn');
    expect((await primedCount()).byStatus.enrolled).toBe(0);
    await saveMfaSettings(db.kysely, { totp: true, webauthn: true, duo: false }, admin, clock, sealOptions);
    expect((await nextCount()).byStatus.enrolled).toBe(1);
  });

  it('Nina the new user sets up an authenticator app in the portal, and removes it again', async () => {
    const nina = (await createUser(db.kysely, { username: 'nina', password: 'correct horse battery', state: 'active' }, admin, clock)).id;
    expect((await primedCount()).byStatus.enrolled).toBe(0);
    const { pending } = await enrollTotp(db, nina, clock);
    expect((await nextCount()).byStatus.enrolled).toBe(1);
    const { session } = await freshlyVerified(db, nina, clock);
    expect(await removeFactor(db.kysely, session, { factorId: pending.id }, office, clock)).toEqual({ ok: true });
    expect((await nextCount()).byStatus.enrolled).toBe(0);
  });

  it('a call that changes nothing counted (a profile edit) leaves the count fresh', async () => {
    const kim = await user('kim');
    await primedCount();
    await updateUser(db.kysely, kim, { displayName: 'Kim' }, admin, clock);
    clock.advance(1_000);
    await countUsersByStatus(db.kysely, clock);
    expect(userCountsRefresh(db.kysely)).toBeNull();
  });
});
