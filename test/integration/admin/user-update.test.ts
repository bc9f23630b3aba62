import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Db } from '../../../db';
import { getMfaRequirement } from '../../../db/queries/mfa';
import { getUserById } from '../../../db/queries/users';
import { manualClock, oneDay } from '../../../lib/clock';
import { isNotFoundError, isValidationError } from '../../../lib/errors/brand';
import { setUserMfaRequirement } from '../../../lib/admin/mfa-requirements';
import { getUserDetail } from '../../../lib/admin/user-directory';
import { updateUser } from '../../../lib/admin/user-update';
import { createUser } from '../../../lib/admin/users';
import { dialects, freshDb } from '../support/dialects';

/**
 * updateUser(): the console's "Save changes" and PATCH /users/{id} in one service. One
 * transaction: every change is audited with it, and a refused one leaves nothing changed.
 */

const start = Date.UTC(2026, 10, 2, 9, 0, 0);
const admin = { id: 'admin-ada', label: 'ada.admin', clientIp: '198.51.100.7' };

describe.each(dialects)('updateUser on %s', (dialect) => {
  let db: Db;
  const clock = manualClock(start);

  beforeEach(async () => {
    clock.set(start);
    db = await freshDb(dialect);
  });
  afterEach(async () => {
    await db.close();
  });

  async function actions(userId: string): Promise<string[]> {
    const rows = await db.kysely.selectFrom('audit_log').select('action').where('target_id', '=', userId).orderBy('id').execute();
    return rows.map((r) => r.action);
  }

  async function refusal(promise: Promise<unknown>): Promise<unknown> {
    return promise.then(
      () => expect.unreachable('the update was refused'),
      (err: unknown) => err,
    );
  }

  it('Lena is activated, required with 14 days and given an address in one call, each change audited', async () => {
    const { id: lena } = await createUser(db.kysely, { username: 'lena', state: 'staged' }, admin, clock);
    const result = await updateUser(
      db.kysely,
      lena,
      { state: 'active', mfa: { required: true, enrollmentDays: 14 }, email: 'lena@example.org' },
      admin,
      clock,
    );
    expect(result.state).toMatchObject({ changed: true, previous: 'staged', state: 'active' });
    expect(result.requirement).toMatchObject({ required: true, enrollmentDays: 14, periodStartsAt: start, periodEndsAt: start + 14 * oneDay });
    expect(result.profileChanged).toEqual(['email']);
    const detail = await getUserDetail(db.kysely, lena, clock);
    expect(detail).toMatchObject({ state: 'active', email: 'lena@example.org', mfa: { required: true, status: 'enrollment_period', enrollmentDays: 14 } });
    expect(await actions(lena)).toEqual(['user.created', 'user.state_changed', 'mfa.required', 'user.profile_updated']);
  });

  it('a refused state (back to staged) leaves the requirement and profile given with it unchanged', async () => {
    const { id: max } = await createUser(db.kysely, { username: 'max', state: 'active' }, admin, clock);
    const err = await refusal(
      updateUser(db.kysely, max, { state: 'staged', mfa: { required: true }, displayName: 'Max' }, admin, clock),
    );
    expect(isValidationError(err) && err.fieldErrors).toEqual({ state: ['A user who has been active cannot go back to staged.'] });
    expect(await getMfaRequirement(db.kysely, max)).toBeNull();
    expect((await getUserById(db.kysely, max))?.display_name).toBeNull();
    expect(await actions(max)).toEqual(['user.created']);
  });

  it('bad fields are all named before anything is written', async () => {
    const { id: ned } = await createUser(db.kysely, { username: 'ned' }, admin, clock);
    const err = await refusal(
      updateUser(db.kysely, ned, { state: 'gone', mfa: { required: true, enrollmentDays: 0 }, email: 'not-an-address' }, admin, clock),
    );
    expect(isValidationError(err) && Object.keys(err.fieldErrors).sort()).toEqual(['email', 'mfa.enrollmentDays', 'state']);
    expect(await actions(ned)).toEqual(['user.created']);
  });

  it("the requirement Olga already has (same days, or days left out) is not restarted; other days are", async () => {
    const { id: olga } = await createUser(db.kysely, { username: 'olga' }, admin, clock);
    await setUserMfaRequirement(db.kysely, olga, { required: true, enrollmentDays: 10 }, admin, clock);
    clock.advance(oneDay);
    expect((await updateUser(db.kysely, olga, { mfa: { required: true, enrollmentDays: 10 } }, admin, clock)).requirement).toBeNull();
    expect((await updateUser(db.kysely, olga, { mfa: { required: true } }, admin, clock)).requirement).toBeNull();
    expect(await getMfaRequirement(db.kysely, olga)).toMatchObject({ enrollmentDays: 10, periodStartsAt: start });
    const changed = await updateUser(db.kysely, olga, { mfa: { required: true, enrollmentDays: 3 } }, admin, clock);
    expect(changed.requirement).toMatchObject({ enrollmentDays: 3, periodStartsAt: start + oneDay });
    const cleared = await updateUser(db.kysely, olga, { mfa: { required: false } }, admin, clock);
    expect(cleared.requirement).toMatchObject({ required: false });
    expect(await getMfaRequirement(db.kysely, olga)).toBeNull();
  });

  it('an unknown user is NotFoundError and nothing is written', async () => {
    const err = await refusal(updateUser(db.kysely, 'no-such-user', { displayName: 'Nobody' }, admin, clock));
    expect(isNotFoundError(err) && err.what).toBe('user');
    expect(await actions('no-such-user')).toEqual([]);
  });
});
