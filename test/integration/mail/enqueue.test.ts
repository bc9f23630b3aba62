import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Db } from '../../../db';
import { manualClock, oneDay, oneHour } from '../../../lib/clock';
import { requireMfaForUsers, resetTotpEnrollment, setUserMfaRequirement } from '../../../lib/admin/mfa-requirements';
import { activateUser, setUserState } from '../../../lib/admin/user-state';
import { NotFoundError } from '../../../lib/admin/errors';
import { saveMfaSettings } from '../../../lib/admin/mfa-settings';
import { enqueueFactorNotice, skipReasons } from '../../../lib/mail/enqueue';
import { queueEnrollmentStartedMessages } from '../../../lib/mail/start-notices';
import { clearStartNotices } from '../../../db/queries/mail';
import { dialects, freshDb } from '../support/dialects';
import { addFactor, admin, outbox, seed } from './support/world';

/*
 * Enqueue triggers (R-B4, R-B5, R-F4): the admin services mark the requirement whose
 * period began, in the transaction of the change; the worker's next round (every 2 s)
 * queues the "period started" message and clears the mark. Personas:
 * - Ada: active, with an address.       - Bob: staged (pre-enrollment).
 * - Cleo: suspended.                     - Dev: active, already enrolled in TOTP.
 * - Nell: active, no email address.      - Wes: active, has a security key only (WebAuthn is
 *                                          off org-wide unless a test enables it).
 */
const start = Date.UTC(2026, 10, 2, 9, 0, 0);

describe.each(dialects)('queueing enrollment messages on %s', (dialect) => {
  let db: Db;
  const clock = manualClock(start);
  let ids: Record<string, string>;

  beforeEach(async () => {
    clock.set(start);
    db = await freshDb(dialect);
    ids = await seed(db, clock, [
      { username: 'ada', displayName: 'Ada Lovelace' },
      { username: 'bob', state: 'staged' },
      { username: 'cleo', state: 'suspended' },
      { username: 'dev' },
      { username: 'nell', email: null },
      { username: 'wes' },
    ]);
    await addFactor(db, ids.dev!, 'totp', start);
    await addFactor(db, ids.wes!, 'webauthn', start);
  });
  afterEach(async () => {
    await db.close();
  });

  /** What the worker's next round does first: queue the messages of the marked periods. */
  const workerRound = () => queueEnrollmentStartedMessages(db.kysely, clock);
  const marks = () =>
    db.kysely.selectFrom('mfa_requirements').select(['user_id', 'start_notice']).where('start_notice', 'is not', null).orderBy('user_id').execute();
  /** The outbox after a worker round. */
  const queued = async () => {
    await workerRound();
    return outbox(db);
  };

  it('requiring MFA for Ada queues one "period started" message with the period in it, at the next worker round', async () => {
    await requireMfaForUsers(db.kysely, { userIds: [ids.ada], enrollmentDays: 14 }, admin, clock);
    expect(await marks()).toEqual([{ user_id: ids.ada, start_notice: 'required' }]);
    expect(await outbox(db)).toEqual([]);
    clock.advance(2_000);
    const [row, ...rest] = await queued();
    expect(await marks()).toEqual([]);
    expect(rest).toEqual([]);
    expect(row).toMatchObject({
      user_id: ids.ada,
      kind: 'enrollment_started',
      idempotency_key: `enrollment_started:${ids.ada}:${start}`,
      to_address: 'ada@example.com',
      subject: 'Set up multi-factor authentication within 14 days',
      status: 'pending',
      attempts: 0,
      next_attempt_at: start,
      created_at: start,
    });
    expect(JSON.parse(row!.params)).toEqual({
      name: 'Ada Lovelace',
      enrollmentDays: 14,
      periodStartsAt: start,
      periodEndsAt: start + 14 * oneDay,
      reason: 'required',
    });
  });

  it('bulk: Bob (staged) gets none yet; Cleo (suspended), Dev (enrolled, R-B6) and Nell (no address) are recorded as skipped', async () => {
    await saveMfaSettings(db.kysely, { totp: true, webauthn: true, duo: false }, admin, clock, { sealSecret: async (s) => s });
    await requireMfaForUsers(
      db.kysely,
      { userIds: [ids.ada, ids.bob, ids.cleo, ids.dev, ids.nell, ids.wes] },
      admin,
      clock,
    );
    const rows = await queued();
    const byUser = Object.fromEntries(rows.map((r) => [r.user_id, r]));
    expect(byUser[ids.bob!]).toBeUndefined();
    expect(byUser[ids.ada!]).toMatchObject({ status: 'pending', to_address: 'ada@example.com' });
    expect(byUser[ids.cleo!]).toMatchObject({ status: 'skipped', last_error: skipReasons.notActive });
    expect(byUser[ids.dev!]).toMatchObject({ status: 'skipped', last_error: skipReasons.enrolled });
    expect(byUser[ids.wes!]).toMatchObject({ status: 'skipped', last_error: skipReasons.enrolled });
    expect(byUser[ids.nell!]).toMatchObject({ status: 'skipped', last_error: skipReasons.noAddress, to_address: null });
    expect(rows).toHaveLength(5);
  });

  it('enrolled means what the gate counts: with WebAuthn off org-wide, Wes and his security key still get the message', async () => {
    await requireMfaForUsers(db.kysely, { userIds: [ids.wes] }, admin, clock);
    expect(await queued()).toMatchObject([{ user_id: ids.wes, status: 'pending' }]);
  });

  it('with Duo as the only method everyone counts as enrolled (R-E5): the period is recorded as skipped and its mark cleared', async () => {
    const duoConfig = {
      clientId: 'DIWJ8X6AEYOR5OMC6TQ1',
      clientSecret: 'S'.repeat(40),
      apiHost: 'API-1234abcd.duosecurity.com',
      redirectUri: 'https://portal.example.com/mfa/duo/callback',
    };
    await saveMfaSettings(db.kysely, { totp: false, webauthn: false, duo: true, duoConfig }, admin, clock, { sealSecret: async (s) => s });
    await requireMfaForUsers(db.kysely, { userIds: [ids.ada] }, admin, clock);
    expect(await workerRound()).toEqual({ queued: 0, skipped: 1 });
    expect(await outbox(db)).toMatchObject([{ user_id: ids.ada, status: 'skipped', last_error: skipReasons.enrolled }]);
    expect(await marks()).toEqual([]);
  });

  it('a refused change marks nothing: the mark rolls back with it', async () => {
    await expect(requireMfaForUsers(db.kysely, { userIds: [ids.ada, 'ghost'] }, admin, clock)).rejects.toBeInstanceOf(NotFoundError);
    expect(await marks()).toEqual([]);
    expect(await queued()).toEqual([]);
  });

  it('a round that queued a message but did not clear its mark (a worker died) queues no second copy (idempotency key)', async () => {
    await requireMfaForUsers(db.kysely, { userIds: [ids.ada] }, admin, clock);
    expect(await workerRound()).toEqual({ queued: 1, skipped: 0 });
    await db.kysely.updateTable('mfa_requirements').set({ start_notice: 'required' }).where('user_id', '=', ids.ada!).execute();
    await workerRound();
    expect(await outbox(db)).toHaveLength(1);
    expect(await marks()).toEqual([]);
  });

  it('a mark is cleared only for the period that was queued: a period restarted meanwhile keeps its mark', async () => {
    await requireMfaForUsers(db.kysely, { userIds: [ids.ada] }, admin, clock);
    clock.advance(oneDay);
    await requireMfaForUsers(db.kysely, { userIds: [ids.ada] }, admin, clock);
    // A worker that read the first period's mark clears it after the restart committed.
    expect(await clearStartNotices(db.kysely, [{ id: ids.ada!, periodStartsAt: start }])).toBe(0);
    expect(await marks()).toEqual([{ user_id: ids.ada, start_notice: 'required' }]);
    expect(await clearStartNotices(db.kysely, [{ id: ids.ada!, periodStartsAt: start + oneDay }])).toBe(1);
  });

  it('requiring again later starts a new period and queues a new message', async () => {
    await requireMfaForUsers(db.kysely, { userIds: [ids.ada] }, admin, clock);
    await workerRound();
    clock.advance(oneDay);
    await requireMfaForUsers(db.kysely, { userIds: [ids.ada] }, admin, clock);
    expect((await queued()).map((r) => r.idempotency_key)).toEqual([
      `enrollment_started:${ids.ada}:${start}`,
      `enrollment_started:${ids.ada}:${start + oneDay}`,
    ]);
  });

  it('requiring twice between two rounds queues the newer period only', async () => {
    await requireMfaForUsers(db.kysely, { userIds: [ids.ada] }, admin, clock);
    clock.advance(oneHour);
    await requireMfaForUsers(db.kysely, { userIds: [ids.ada], enrollmentDays: 3 }, admin, clock);
    const rows = await queued();
    expect(rows.map((r) => r.idempotency_key)).toEqual([`enrollment_started:${ids.ada}:${start + oneHour}`]);
    expect(JSON.parse(rows[0]!.params)).toMatchObject({ enrollmentDays: 3 });
  });

  it("the user's page (R-B1): ticking the box for Ada queues it; clearing the requirement queues nothing more", async () => {
    await setUserMfaRequirement(db.kysely, ids.ada!, { required: true, enrollmentDays: 3 }, admin, clock);
    const rows = await queued();
    expect(rows).toHaveLength(1);
    expect(JSON.parse(rows[0]!.params)).toMatchObject({ enrollmentDays: 3, periodEndsAt: start + 3 * oneDay });
    await setUserMfaRequirement(db.kysely, ids.ada!, { required: false }, admin, clock);
    expect(await queued()).toHaveLength(1);
  });

  it('ticking and clearing the box before a worker round queues nothing at all', async () => {
    await setUserMfaRequirement(db.kysely, ids.ada!, { required: true, enrollmentDays: 3 }, admin, clock);
    await setUserMfaRequirement(db.kysely, ids.ada!, { required: false }, admin, clock);
    expect(await queued()).toEqual([]);
  });

  it('R-B4: Bob required while staged gets his message when activated, for the days that were set', async () => {
    await setUserMfaRequirement(db.kysely, ids.bob!, { required: true, enrollmentDays: 10 }, admin, clock);
    expect(await marks()).toEqual([]);
    expect(await queued()).toEqual([]);
    clock.advance(2 * oneDay);
    await activateUser(db.kysely, ids.bob!, admin, clock);
    expect(await marks()).toEqual([{ user_id: ids.bob, start_notice: 'activated' }]);
    const [row] = await queued();
    expect(row).toMatchObject({ user_id: ids.bob, status: 'pending', to_address: 'bob@example.com', created_at: start + 2 * oneDay });
    expect(JSON.parse(row!.params)).toMatchObject({
      enrollmentDays: 10,
      periodStartsAt: start + 2 * oneDay,
      periodEndsAt: start + 12 * oneDay,
      reason: 'activated',
    });
  });

  it('activating a user without a requirement, or suspending and reactivating within a running period, queues nothing', async () => {
    await activateUser(db.kysely, ids.cleo!, admin, clock);
    await requireMfaForUsers(db.kysely, { userIds: [ids.ada] }, admin, clock);
    await setUserState(db.kysely, ids.ada!, 'suspended', admin, clock);
    await setUserState(db.kysely, ids.ada!, 'active', admin, clock);
    expect((await queued()).map((r) => r.user_id)).toEqual([ids.ada]);
    await setUserState(db.kysely, ids.ada!, 'suspended', admin, clock);
    await setUserState(db.kysely, ids.ada!, 'active', admin, clock);
    expect((await queued()).map((r) => r.user_id)).toEqual([ids.ada]);
  });

  it('R-F4: resetting Dev (who had TOTP) tells him his authenticator was removed and his new period began', async () => {
    await requireMfaForUsers(db.kysely, { userIds: [ids.dev] }, admin, clock);
    clock.advance(9 * oneDay);
    await resetTotpEnrollment(db.kysely, ids.dev!, { enrollmentDays: 5 }, admin, clock);
    const rows = (await queued()).filter((r) => r.created_at === start + 9 * oneDay);
    expect(rows.map((r) => [r.kind, r.status]).sort()).toEqual([
      ['enrollment_started', 'pending'],
      ['factor_removed', 'pending'],
    ]);
    const started = rows.find((r) => r.kind === 'enrollment_started')!;
    expect(JSON.parse(started.params)).toMatchObject({ enrollmentDays: 5, reason: 'reset', periodEndsAt: start + 14 * oneDay });
  });

  it('R-F4: resetting an expired Ada (never enrolled) queues the new period only', async () => {
    await requireMfaForUsers(db.kysely, { userIds: [ids.ada] }, admin, clock);
    await workerRound();
    clock.advance(8 * oneDay);
    await resetTotpEnrollment(db.kysely, ids.ada!, {}, admin, clock);
    expect(await marks()).toEqual([{ user_id: ids.ada, start_notice: 'reset' }]);
    expect((await queued()).map((r) => [r.kind, r.created_at])).toEqual([
      ['enrollment_started', start],
      ['enrollment_started', start + 8 * oneDay],
    ]);
  });

  it('enqueueFactorNotice: one message per event, skipped for Nell who has no address', async () => {
    await db.kysely.transaction().execute(async (trx) => {
      const notice = { userId: ids.ada!, kind: 'factor_added' as const, factorType: 'totp' as const, factorName: 'Phone', factorId: 'f1', at: start };
      expect(await enqueueFactorNotice(trx, notice)).toEqual({ status: 'pending' });
      await enqueueFactorNotice(trx, notice); // a retried call: still one
      expect(await enqueueFactorNotice(trx, { userId: ids.nell!, kind: 'recovery_code_used', at: start })).toEqual({ status: 'skipped' });
      expect(await enqueueFactorNotice(trx, { userId: 'ghost', kind: 'factor_removed', at: start })).toEqual({ status: 'unknown_user' });
    });
    const rows = await outbox(db);
    expect(rows.map((r) => [r.kind, r.user_id, r.status])).toEqual([
      ['factor_added', ids.ada, 'pending'],
      ['recovery_code_used', ids.nell, 'skipped'],
    ]);
    expect(rows[0]!.idempotency_key).toBe(`factor_added:${ids.ada}:f1:${start}`);
    expect(JSON.parse(rows[0]!.params)).toEqual({ name: 'Ada Lovelace', at: start, factorType: 'totp', factorName: 'Phone' });
  });

  it("a factor notice rolls back with the caller's transaction", async () => {
    await expect(
      db.kysely.transaction().execute(async (trx) => {
        await enqueueFactorNotice(trx, { userId: ids.ada!, kind: 'factor_removed', factorType: 'webauthn', at: start });
        throw new Error('the factor change failed');
      }),
    ).rejects.toThrow('the factor change failed');
    expect(await outbox(db)).toEqual([]);
  });
});
