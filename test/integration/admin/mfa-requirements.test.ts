import { randomUUID } from 'node:crypto';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Db } from '../../../db';
import { manualClock, oneDay, oneHour } from '../../../lib/clock';
import { createUser } from '../../../lib/admin/users';
import type { Actor } from '../../../lib/admin/actor';
import { NotFoundError, ValidationError } from '../../../lib/admin/errors';
import {
  enrollmentDaysMessage,
  requireMfaForUsers,
  resetTotpEnrollment,
  setUserMfaRequirement,
} from '../../../lib/admin/mfa-requirements';
import { activateUser, setUserState } from '../../../lib/admin/user-state';
import { enrolledMethodsOfUser, getMfaRequirement, listFactorsOfUser } from '../../../db/queries/mfa';
import { isEnrolled, mfaStatus } from '../../../lib/policy';
import { dialects, freshDb } from '../support/dialects';

const start = Date.UTC(2026, 10, 2, 9, 0, 0);
const admin: Actor = { id: 'admin-ada', label: 'ada.admin', clientIp: '198.51.100.7' };

describe.each(dialects)('requiring MFA for users (R-B) on %s', (dialect) => {
  let db: Db;
  const clock = manualClock(start);
  let ada: string; // active
  let bob: string; // staged
  let cleo: string; // suspended
  let dev: string; // active, already enrolled in TOTP

  async function user(username: string, state: 'active' | 'staged' | 'suspended'): Promise<string> {
    return (await createUser(db.kysely, { username, state }, { id: null, label: 'seed', clientIp: null }, clock)).id;
  }

  async function addFactor(userId: string, type: 'totp' | 'webauthn'): Promise<void> {
    await db.kysely
      .insertInto('factors')
      .values({
        id: randomUUID(),
        user_id: userId,
        type,
        name: type === 'totp' ? 'Authenticator app' : 'Security key',
        created_at: clock.now(),
        last_used_at: null,
        secret_enc: type === 'totp' ? 'sealed-secret' : null,
        last_used_step: null,
        credential_id: type === 'webauthn' ? randomUUID() : null,
        public_key: type === 'webauthn' ? 'pk' : null,
        sign_count: type === 'webauthn' ? 0 : null,
        transports: null,
      })
      .execute();
  }

  async function rows() {
    return db.kysely.selectFrom('mfa_requirements').selectAll().orderBy('user_id').execute();
  }

  async function auditActions(action?: string) {
    let q = db.kysely.selectFrom('audit_log').selectAll().orderBy('id');
    if (action) q = q.where('action', '=', action);
    return q.execute();
  }

  beforeEach(async () => {
    clock.set(start);
    db = await freshDb(dialect);
    ada = await user('ada', 'active');
    bob = await user('bob', 'staged');
    cleo = await user('cleo', 'suspended');
    dev = await user('dev', 'active');
    await addFactor(dev, 'totp');
  });
  afterEach(async () => {
    await db.close();
  });

  describe('bulk "Require MFA on User Portal" (R-B2)', () => {
    it('Ada (active) gets a 7-day period starting now by default', async () => {
      const result = await requireMfaForUsers(db.kysely, { userIds: [ada] }, admin, clock);
      expect(result).toMatchObject({
        updated: 1,
        enrollmentDays: 7,
        periodStartsAt: start,
        periodEndsAt: start + 7 * oneDay,
        periodStartedUserIds: [ada],
        preEnrollmentUserIds: [],
      });
      expect(await getMfaRequirement(db.kysely, ada)).toEqual({
        required: true,
        enrollmentDays: 7,
        periodStartsAt: start,
        periodEndsAt: start + 7 * oneDay,
      });
      const row = (await rows())[0]!;
      expect(row).toMatchObject({ required: 1, set_by: admin.id, set_at: start });
    });

    it('Ada, Bob and Cleo together: Bob (staged) is in pre-enrollment, Cleo (suspended) starts now', async () => {
      const result = await requireMfaForUsers(db.kysely, { userIds: [ada, bob, cleo], enrollmentDays: 30 }, admin, clock);
      expect(result.updated).toBe(3);
      expect(result.periodStartedUserIds.sort()).toEqual([ada, cleo].sort());
      expect(result.preEnrollmentUserIds).toEqual([bob]);
      expect(await getMfaRequirement(db.kysely, bob)).toEqual({
        required: true,
        enrollmentDays: 30,
        periodStartsAt: null,
        periodEndsAt: null,
      });
      expect(await getMfaRequirement(db.kysely, cleo)).toMatchObject({ periodStartsAt: start, periodEndsAt: start + 30 * oneDay });
      expect(mfaStatus({ state: 'staged' }, await getMfaRequirement(db.kysely, bob), false, clock.now()).status).toBe(
        'pre_enrollment',
      );
    });

    it('writes one audit entry per user, with the days and the end of the period, by the acting admin', async () => {
      await requireMfaForUsers(db.kysely, { userIds: [ada, bob], enrollmentDays: 14 }, admin, clock);
      const entries = await auditActions('mfa.required');
      expect(entries).toHaveLength(2);
      const byTarget = new Map(entries.map((e) => [e.target_id, e]));
      expect(byTarget.get(ada)).toMatchObject({
        at: start,
        actor_id: admin.id,
        actor_label: admin.label,
        client_ip: admin.clientIp,
        target_type: 'user',
      });
      expect(JSON.parse(byTarget.get(ada)!.details!)).toMatchObject({ enrollmentDays: 14, periodEndsAt: start + 14 * oneDay });
      expect(JSON.parse(byTarget.get(bob)!.details!)).toMatchObject({ enrollmentDays: 14, periodEndsAt: null, preEnrollment: true });
    });

    it('requiring Ada again later gives her a fresh period', async () => {
      await requireMfaForUsers(db.kysely, { userIds: [ada], enrollmentDays: 3 }, admin, clock);
      clock.advance(10 * oneDay);
      await requireMfaForUsers(db.kysely, { userIds: [ada], enrollmentDays: 5 }, admin, clock);
      expect(await getMfaRequirement(db.kysely, ada)).toEqual({
        required: true,
        enrollmentDays: 5,
        periodStartsAt: start + 10 * oneDay,
        periodEndsAt: start + 15 * oneDay,
      });
      expect(await rows()).toHaveLength(1);
    });

    it.each([
      ['0 days', 0],
      ['366 days', 366],
      ['-1 days', -1],
      ['7.5 days', 7.5],
      ['"seven"', 'seven'],
      ['"7" as text', '7'],
      ['null', null],
      ['NaN', Number.NaN],
    ])('refuses %s with a clear message and writes nothing', async (_name, enrollmentDays) => {
      const error = await requireMfaForUsers(db.kysely, { userIds: [ada, bob], enrollmentDays }, admin, clock).catch((e) => e);
      expect(error).toBeInstanceOf(ValidationError);
      expect((error as ValidationError).fieldErrors).toEqual({ enrollmentDays: [enrollmentDaysMessage] });
      expect(enrollmentDaysMessage).toBe('Enrollment period must be a whole number of days from 1 to 365.');
      expect(await rows()).toHaveLength(0);
      expect(await auditActions('mfa.required')).toHaveLength(0);
    });

    it.each([1, 365])('accepts the edge value %i', async (enrollmentDays) => {
      const result = await requireMfaForUsers(db.kysely, { userIds: [ada], enrollmentDays }, admin, clock);
      expect(result.periodEndsAt).toBe(start + enrollmentDays * oneDay);
    });

    it.each([
      ['missing userIds', {}, 'Select at least one user.'],
      ['an empty list', { userIds: [] }, 'Select at least one user.'],
      ['a string instead of a list', { userIds: 'ada' }, 'userIds must be a list of user ids.'],
      ['repeated ids', { userIds: ['x', 'x'] }, 'Each user may be listed once; repeated: x.'],
    ])('refuses %s', async (_name, input, message) => {
      const error = await requireMfaForUsers(db.kysely, input, admin, clock).catch((e) => e);
      expect(error).toBeInstanceOf(ValidationError);
      expect((error as ValidationError).fieldErrors.userIds).toEqual([message]);
      expect(await rows()).toHaveLength(0);
    });

    it('refuses more than 10,000 users', async () => {
      const userIds = Array.from({ length: 10_001 }, (_, i) => `u${i}`);
      const error = await requireMfaForUsers(db.kysely, { userIds }, admin, clock).catch((e) => e);
      expect((error as ValidationError).fieldErrors.userIds).toEqual(['At most 10,000 users can be changed at once.']);
    });

    it('one unknown id among valid ones aborts the whole batch: no requirement and no audit rows', async () => {
      const auditBefore = (await auditActions()).length;
      const error = await requireMfaForUsers(db.kysely, { userIds: [ada, 'ghost-1', bob, 'ghost-2'] }, admin, clock).catch(
        (e) => e,
      );
      expect(error).toBeInstanceOf(NotFoundError);
      expect((error as NotFoundError).what).toBe('user');
      expect((error as NotFoundError).ids).toEqual(['ghost-1', 'ghost-2']);
      expect(await rows()).toHaveLength(0);
      expect(await auditActions()).toHaveLength(auditBefore);
    });

    it('an existing requirement is kept when the batch fails', async () => {
      await requireMfaForUsers(db.kysely, { userIds: [ada], enrollmentDays: 3 }, admin, clock);
      clock.advance(oneHour);
      await expect(requireMfaForUsers(db.kysely, { userIds: [ada, 'ghost'], enrollmentDays: 9 }, admin, clock)).rejects.toThrow(
        NotFoundError,
      );
      expect(await getMfaRequirement(db.kysely, ada)).toMatchObject({ enrollmentDays: 3, periodStartsAt: start });
    });

    it('10,000 users in one call, set-based, in reasonable time', async () => {
      const ids = Array.from({ length: 10_000 }, (_, i) => `bulk-${String(i).padStart(5, '0')}`);
      for (let i = 0; i < ids.length; i += 1000) {
        await db.kysely
          .insertInto('users')
          .values(
            ids.slice(i, i + 1000).map((id, j) => ({
              id,
              username: id,
              username_lower: id,
              email: null,
              display_name: null,
              password_hash: null,
              // every tenth user is staged
              state: (i + j) % 10 === 0 ? ('staged' as const) : ('active' as const),
              role: 'user' as const,
              created_at: start,
              activated_at: null,
            })),
          )
          .execute();
      }
      const began = performance.now();
      const result = await requireMfaForUsers(db.kysely, { userIds: ids, enrollmentDays: 10 }, admin, clock);
      const elapsed = performance.now() - began;
      expect(result.updated).toBe(10_000);
      expect(result.preEnrollmentUserIds).toHaveLength(1000);
      expect(result.periodStartedUserIds).toHaveLength(9000);
      const counts = await db.kysely
        .selectFrom('mfa_requirements')
        .select((eb) => [eb.fn.countAll<number>().as('n'), eb.fn.count<number>('period_ends_at').as('withPeriod')])
        .executeTakeFirstOrThrow();
      expect(Number(counts.n)).toBe(10_000);
      expect(Number(counts.withPeriod)).toBe(9000);
      const audits = await db.kysely
        .selectFrom('audit_log')
        .select((eb) => eb.fn.countAll<number>().as('n'))
        .where('action', '=', 'mfa.required')
        .executeTakeFirstOrThrow();
      expect(Number(audits.n)).toBe(10_000);
      // Generous: a row-by-row loop takes many seconds here; set-based takes well under one.
      expect(elapsed).toBeLessThan(5_000);
    });
  });

  describe('the checkbox on a user page (R-B1)', () => {
    it('Ada: required with 14 days, then cleared', async () => {
      const set = await setUserMfaRequirement(db.kysely, ada, { required: true, enrollmentDays: 14 }, admin, clock);
      expect(set).toEqual({
        required: true,
        enrollmentDays: 14,
        periodStartsAt: start,
        periodEndsAt: start + 14 * oneDay,
        periodStarted: true,
      });
      const cleared = await setUserMfaRequirement(db.kysely, ada, { required: false }, admin, clock);
      expect(cleared.required).toBe(false);
      expect(await getMfaRequirement(db.kysely, ada)).toBeNull();
      expect((await auditActions()).map((e) => e.action).slice(-2)).toEqual(['mfa.required', 'mfa.requirement_cleared']);
    });

    it('Bob (staged): pre-enrollment, no period yet', async () => {
      const set = await setUserMfaRequirement(db.kysely, bob, { required: true }, admin, clock);
      expect(set).toMatchObject({ required: true, enrollmentDays: 7, periodStartsAt: null, periodStarted: false });
    });

    it('clearing a requirement that does not exist writes nothing', async () => {
      const before = (await auditActions()).length;
      await setUserMfaRequirement(db.kysely, ada, { required: false }, admin, clock);
      expect(await auditActions()).toHaveLength(before);
    });

    it('unknown user is NotFoundError; bad input is a ValidationError per field', async () => {
      await expect(setUserMfaRequirement(db.kysely, 'ghost', { required: true }, admin, clock)).rejects.toThrow(NotFoundError);
      const error = await setUserMfaRequirement(db.kysely, ada, { required: 'yes', enrollmentDays: 0 }, admin, clock).catch(
        (e) => e,
      );
      expect(Object.keys((error as ValidationError).fieldErrors).sort()).toEqual(['enrollmentDays', 'required']);
      expect(await rows()).toHaveLength(0);
    });
  });

  describe('activation starts a pre-enrollment period (R-B4)', () => {
    it('Bob is required for 10 days while staged; activated 3 days later his period runs 10 days from then', async () => {
      await requireMfaForUsers(db.kysely, { userIds: [bob], enrollmentDays: 10 }, admin, clock);
      clock.advance(3 * oneDay);
      const result = await activateUser(db.kysely, bob, admin, clock);
      const activatedAt = start + 3 * oneDay;
      expect(result).toEqual({
        changed: true,
        previous: 'staged',
        state: 'active',
        periodStarted: { startsAt: activatedAt, endsAt: activatedAt + 10 * oneDay },
        sessionsRevoked: 0,
        invitationExpiresAt: null,
      });
      expect(await getMfaRequirement(db.kysely, bob)).toEqual({
        required: true,
        enrollmentDays: 10,
        periodStartsAt: activatedAt,
        periodEndsAt: activatedAt + 10 * oneDay,
      });
      const row = await db.kysely.selectFrom('users').select(['state', 'activated_at']).where('id', '=', bob).executeTakeFirstOrThrow();
      expect(row).toEqual({ state: 'active', activated_at: activatedAt });
      const entry = (await auditActions('user.state_changed')).at(-1)!;
      expect(JSON.parse(entry.details!)).toEqual({
        from: 'staged',
        to: 'active',
        periodStartsAt: activatedAt,
        periodEndsAt: activatedAt + 10 * oneDay,
      });
    });

    it('activating a staged user without a requirement starts nothing', async () => {
      const result = await activateUser(db.kysely, bob, admin, clock);
      expect(result.periodStarted).toBeNull();
      expect(await getMfaRequirement(db.kysely, bob)).toBeNull();
    });

    it('Cleo (suspended) coming back keeps the period that already runs', async () => {
      await requireMfaForUsers(db.kysely, { userIds: [cleo] }, admin, clock);
      clock.advance(oneDay);
      const result = await activateUser(db.kysely, cleo, admin, clock);
      expect(result.periodStarted).toBeNull();
      expect(await getMfaRequirement(db.kysely, cleo)).toMatchObject({ periodStartsAt: start, periodEndsAt: start + 7 * oneDay });
    });

    it('suspending Ada ends her sessions; the same state again changes nothing', async () => {
      await db.kysely
        .insertInto('sessions')
        .values(
          ['s1', 's2'].map((id) => ({
            id,
            user_id: ada,
            created_at: start,
            last_seen_at: start,
            idle_expires_at: start + oneHour,
            absolute_expires_at: start + oneDay,
            amr: JSON.stringify([{ method: 'pwd', at: start }]),
            mfa_skipped: 0,
            client_ip: null,
            user_agent: null,
          })),
        )
        .execute();
      const result = await setUserState(db.kysely, ada, 'suspended', admin, clock);
      expect(result).toMatchObject({ changed: true, previous: 'active', state: 'suspended', sessionsRevoked: 2 });
      expect(await db.kysely.selectFrom('sessions').selectAll().execute()).toHaveLength(0);
      const before = (await auditActions()).length;
      expect((await setUserState(db.kysely, ada, 'suspended', admin, clock)).changed).toBe(false);
      expect(await auditActions()).toHaveLength(before);
    });

    it('an activated user cannot go back to staged; unknown states and users are refused', async () => {
      await expect(setUserState(db.kysely, ada, 'staged', admin, clock)).rejects.toThrow(ValidationError);
      const error = await setUserState(db.kysely, ada, 'deleted', admin, clock).catch((e) => e);
      expect((error as ValidationError).fieldErrors).toEqual({ state: ['State must be staged, active or suspended.'] });
      await expect(setUserState(db.kysely, 'ghost', 'active', admin, clock)).rejects.toThrow(NotFoundError);
    });
  });

  describe('reset TOTP on an expired user (R-F4)', () => {
    it('Eve never enrolled, her period expired; the reset starts a new one and removes her TOTP factors', async () => {
      const eve = await user('eve', 'active');
      await requireMfaForUsers(db.kysely, { userIds: [eve], enrollmentDays: 7 }, admin, clock);
      await addFactor(eve, 'totp'); // a half-set-up or lost authenticator
      await addFactor(eve, 'webauthn');
      clock.advance(8 * oneDay);
      const expired = await getMfaRequirement(db.kysely, eve);
      expect(mfaStatus({ state: 'active' }, expired, false, clock.now()).status).toBe('expired');

      const now = clock.now();
      const result = await resetTotpEnrollment(db.kysely, eve, { enrollmentDays: 5 }, admin, clock);
      expect(result).toEqual({
        required: true,
        enrollmentDays: 5,
        periodStartsAt: now,
        periodEndsAt: now + 5 * oneDay,
        periodStarted: true,
        removedFactors: 1,
        requirementCreated: false,
        recoveryCodesRemoved: false,
      });
      expect(await enrolledMethodsOfUser(db.kysely, eve)).toEqual(['webauthn']);
      expect((await listFactorsOfUser(db.kysely, eve)).map((f) => f.type)).toEqual(['webauthn']);
      const renewed = await getMfaRequirement(db.kysely, eve);
      const settings = { totp: true, webauthn: false, duo: false };
      expect(mfaStatus({ state: 'active' }, renewed, isEnrolled(['webauthn'], settings), now).status).toBe('enrollment_period');
      const entry = (await auditActions('mfa.totp_reset'))[0]!;
      expect(JSON.parse(entry.details!)).toMatchObject({
        enrollmentDays: 5,
        removedFactors: 1,
        periodEndsAt: now + 5 * oneDay,
        previousPeriodEndsAt: start + 7 * oneDay,
      });
    });

    it('defaults to 7 days, accepts no input, and refuses bad days and unknown users', async () => {
      const result = await resetTotpEnrollment(db.kysely, dev, undefined, admin, clock);
      expect(result.periodEndsAt).toBe(start + 7 * oneDay);
      expect(await enrolledMethodsOfUser(db.kysely, dev)).toEqual([]);
      await expect(resetTotpEnrollment(db.kysely, dev, { enrollmentDays: 400 }, admin, clock)).rejects.toThrow(ValidationError);
      await expect(resetTotpEnrollment(db.kysely, 'ghost', {}, admin, clock)).rejects.toThrow(NotFoundError);
    });
  });

  describe('read helpers', () => {
    it('factors of Dev never include secrets; methods are distinct', async () => {
      await addFactor(dev, 'totp');
      await addFactor(dev, 'webauthn');
      const factors = await listFactorsOfUser(db.kysely, dev);
      expect(factors).toHaveLength(3);
      for (const f of factors) expect(Object.keys(f).sort()).toEqual(['createdAt', 'id', 'lastUsedAt', 'name', 'type']);
      expect(await enrolledMethodsOfUser(db.kysely, dev)).toEqual(['totp', 'webauthn']);
      expect(await getMfaRequirement(db.kysely, dev)).toBeNull();
    });
  });
});
