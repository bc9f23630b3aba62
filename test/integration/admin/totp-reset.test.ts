import { sql } from 'kysely';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Db } from '../../../db';
import { manualClock, oneDay } from '../../../lib/clock';
import { requireMfaForUsers, resetTotpEnrollment } from '../../../lib/admin/mfa-requirements';
import { saveMfaSettings } from '../../../lib/admin/mfa-settings';
import { newRecoveryCodeSet } from '../../../lib/factors/recovery-codes';
import { queueEnrollmentStartedMessages } from '../../../lib/mail/start-notices';
import { skipReasons } from '../../../lib/mail/enqueue';
import { replaceRecoveryCodes, recoveryCodeCounts } from '../../../db/queries/recovery-codes';
import { getMfaRequirement } from '../../../db/queries/mfa';
import { dialects, freshDb } from '../support/dialects';
import { addFactor, admin, outbox, seed } from '../mail/support/world';

/*
 * R-F4 extended: an admin's "Reset TOTP" on a user who is enrolled, not only on one whose
 * period expired. Personas:
 * - Rita: enrolled with an authenticator app and a security key, never required (she set
 *   MFA up herself); she lost her phone.
 * - Tom: required, enrolled with an authenticator app only, holds recovery codes.
 * - Eve: required, never enrolled, her period expired (the reset as it always was).
 */
const start = Date.UTC(2026, 10, 2, 9, 0, 0);

describe.each(dialects)('admin "Reset TOTP" on %s', (dialect) => {
  let db: Db;
  const clock = manualClock(start);
  let ids: Record<string, string>;

  async function factorTypes(userId: string): Promise<string[]> {
    const rows = await db.kysely.selectFrom('factors').select('type').where('user_id', '=', userId).orderBy('type').execute();
    return rows.map((r) => r.type);
  }

  async function resetAudits(userId: string) {
    return db.kysely.selectFrom('audit_log').selectAll().where('action', '=', 'mfa.totp_reset').where('target_id', '=', userId).execute();
  }

  async function giveRecoveryCodes(userId: string): Promise<void> {
    await replaceRecoveryCodes(db.kysely, userId, newRecoveryCodeSet(userId).rows, clock.now());
  }

  /** A storage failure at the last write of a reset (its "removed" notice), made by the database itself. */
  async function refuseRemovalNotices(): Promise<void> {
    if (dialect === 'sqlite') {
      await sql`create trigger refuse_notice before insert on mail_outbox when new.kind = 'factor_removed'
        begin select raise(abort, 'outbox refused'); end`.execute(db.kysely);
    } else {
      await sql`create function refuse_notice() returns trigger language plpgsql as $$
        begin if new.kind = 'factor_removed' then raise exception 'outbox refused'; end if; return new; end $$`.execute(db.kysely);
      await sql`create trigger refuse_notice before insert on mail_outbox for each row execute function refuse_notice()`.execute(db.kysely);
    }
  }

  beforeEach(async () => {
    clock.set(start);
    db = await freshDb(dialect);
    await saveMfaSettings(db.kysely, { totp: true, webauthn: true, duo: false }, admin, clock, { sealSecret: async (s) => s });
    ids = await seed(db, clock, [{ username: 'rita' }, { username: 'tom' }, { username: 'eve' }]);
    await addFactor(db, ids.rita!, 'totp', start);
    await addFactor(db, ids.rita!, 'webauthn', start);
    await giveRecoveryCodes(ids.rita!);
    await requireMfaForUsers(db.kysely, { userIds: [ids.tom, ids.eve] }, admin, clock);
    await addFactor(db, ids.tom!, 'totp', start);
    await giveRecoveryCodes(ids.tom!);
    await queueEnrollmentStartedMessages(db.kysely, clock); // the first periods' messages are out of the way
  });
  afterEach(async () => {
    await db.close();
  });

  it('Rita (enrolled, never required) loses her authenticator app only: her security key and recovery codes stay, and MFA is now required with a new period', async () => {
    clock.advance(oneDay);
    const now = clock.now();
    expect(await getMfaRequirement(db.kysely, ids.rita!)).toBeNull();

    const result = await resetTotpEnrollment(db.kysely, ids.rita!, {}, admin, clock);

    expect(result).toEqual({
      required: true,
      enrollmentDays: 7,
      periodStartsAt: now,
      periodEndsAt: now + 7 * oneDay,
      periodStarted: true,
      removedFactors: 1,
      requirementCreated: true,
      recoveryCodesRemoved: false,
    });
    expect(await factorTypes(ids.rita!)).toEqual(['webauthn']);
    expect((await recoveryCodeCounts(db.kysely, ids.rita!)).unused).toBe(10);
    expect(await getMfaRequirement(db.kysely, ids.rita!)).toEqual({ required: true, enrollmentDays: 7, periodStartsAt: now, periodEndsAt: now + 7 * oneDay });

    const [audit, ...more] = await resetAudits(ids.rita!);
    expect(more).toEqual([]);
    expect(audit).toMatchObject({ at: now, actor_id: admin.id, actor_label: admin.label, client_ip: admin.clientIp });
    expect(JSON.parse(audit!.details!)).toMatchObject({ removedFactors: 1, requirementCreated: true, recoveryCodesRemoved: false, periodEndsAt: now + 7 * oneDay });

    // She is told at once that her authenticator app was removed. The "period started" message
    // is recorded as skipped (R-B6): her security key still counts as MFA set up.
    expect((await outbox(db)).filter((r) => r.user_id === ids.rita).map((r) => [r.kind, r.status, r.created_at])).toEqual([['factor_removed', 'pending', now]]);
    await queueEnrollmentStartedMessages(db.kysely, clock);
    const started = (await outbox(db)).filter((r) => r.user_id === ids.rita && r.kind === 'enrollment_started');
    expect(started.map((r) => [r.status, r.last_error])).toEqual([['skipped', skipReasons.enrolled]]);
  });

  it('Tom (required, TOTP only) has no factor left: his recovery codes go too, and he is asked to set up again', async () => {
    clock.advance(2 * oneDay);
    const now = clock.now();
    const result = await resetTotpEnrollment(db.kysely, ids.tom!, { enrollmentDays: 3 }, admin, clock);
    expect(result).toMatchObject({ removedFactors: 1, requirementCreated: false, recoveryCodesRemoved: true, periodEndsAt: now + 3 * oneDay });
    expect(await factorTypes(ids.tom!)).toEqual([]);
    expect(await recoveryCodeCounts(db.kysely, ids.tom!)).toEqual({ total: 0, unused: 0 });
    expect(JSON.parse((await resetAudits(ids.tom!))[0]!.details!)).toMatchObject({
      enrollmentDays: 3,
      removedFactors: 1,
      recoveryCodesRemoved: true,
      requirementCreated: false,
      previousPeriodEndsAt: start + 7 * oneDay,
    });
    await queueEnrollmentStartedMessages(db.kysely, clock);
    const mail = (await outbox(db)).filter((r) => r.user_id === ids.tom && r.created_at === now);
    expect(mail.map((r) => [r.kind, r.status]).sort()).toEqual([
      ['enrollment_started', 'pending'],
      ['factor_removed', 'pending'],
    ]);
    expect(JSON.parse(mail.find((r) => r.kind === 'enrollment_started')!.params)).toMatchObject({ reason: 'reset', enrollmentDays: 3 });
  });

  it('one transaction: when the notice cannot be stored, Tom keeps his device, codes, period and no audit entry is left', async () => {
    await refuseRemovalNotices();
    clock.advance(oneDay);
    await expect(resetTotpEnrollment(db.kysely, ids.tom!, {}, admin, clock)).rejects.toThrow(/outbox refused/);
    expect(await factorTypes(ids.tom!)).toEqual(['totp']);
    expect((await recoveryCodeCounts(db.kysely, ids.tom!)).unused).toBe(10);
    expect(await getMfaRequirement(db.kysely, ids.tom!)).toMatchObject({ periodStartsAt: start, periodEndsAt: start + 7 * oneDay });
    expect(await resetAudits(ids.tom!)).toEqual([]);
    const marks = await db.kysely.selectFrom('mfa_requirements').select('start_notice').where('user_id', '=', ids.tom!).execute();
    expect(marks).toEqual([{ start_notice: null }]);
  });

  it('Eve (expired, never enrolled) still gets a new period as before, with nothing to remove', async () => {
    clock.advance(8 * oneDay);
    const now = clock.now();
    const result = await resetTotpEnrollment(db.kysely, ids.eve!, { enrollmentDays: 5 }, admin, clock);
    expect(result).toEqual({
      required: true,
      enrollmentDays: 5,
      periodStartsAt: now,
      periodEndsAt: now + 5 * oneDay,
      periodStarted: true,
      removedFactors: 0,
      requirementCreated: false,
      recoveryCodesRemoved: false,
    });
    await queueEnrollmentStartedMessages(db.kysely, clock);
    const mail = (await outbox(db)).filter((r) => r.user_id === ids.eve && r.created_at === now);
    expect(mail.map((r) => [r.kind, r.status])).toEqual([['enrollment_started', 'pending']]);
  });
});
