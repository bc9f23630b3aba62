import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Db } from '../../../db';
import { manualClock, oneMinute } from '../../../lib/clock';
import { createUser } from '../../../lib/admin/users';
import { cliActor } from '../../../lib/admin/actor';
import { changeOwnPassword } from '../../../lib/auth/change-password';
import { validateSession } from '../../../lib/auth/sessions';
import { verifyPassword } from '../../../lib/auth/password';
import { dialects } from '../support/dialects';
import { enrollTotp, freshDbPair, freshlyVerified, office, signedIn } from '../factors/support';

/*
 * Issue 15 §2, self-service change: Carl (TOTP enrolled, carl@example.com) changes his
 * password on his laptop. His phone's session, and any session someone else opened with the
 * old password, ends in the same transaction; the laptop stays signed in; Carl is told by mail.
 */
const start = Date.UTC(2026, 11, 3, 9, 0, 0);
const oldPassword = 'correct horse battery';
const newPassword = 'a brand new passphrase for carl';
const phone = { ip: '203.0.113.9', userAgent: 'Mozilla/5.0 (iPhone) Mobile Safari/605.1' };

describe.each(dialects)('changing one\'s own password on %s', (dialect) => {
  let db: Db;
  let other: Db;
  let carl: string;
  const clock = manualClock(start);

  beforeEach(async () => {
    clock.set(start);
    [db, other] = await freshDbPair(dialect);
    ({ id: carl } = await createUser(db.kysely, { username: 'carl', email: 'carl@example.com', password: oldPassword, state: 'active' }, cliActor, clock));
    await enrollTotp(db, carl, clock);
    // Enrolling signed Carl in once; these tests count their own sessions.
    await db.kysely.deleteFrom('sessions').execute();
  });
  afterEach(async () => {
    await other.close();
    await db.close();
  });

  const notices = () =>
    db.kysely.selectFrom('mail_outbox').select(['kind', 'to_address', 'user_id']).where('kind', '=', 'password_changed').execute();
  const sessionsOf = async (userId: string) =>
    (await db.kysely.selectFrom('sessions').select('id').where('user_id', '=', userId).execute()).map((r) => r.id);

  it('ends Carl\'s other sessions only, queues the notice, and the new password is the one that works', async () => {
    const phoneSession = await freshlyVerified(db, carl, clock, phone);
    const stranger = await signedIn(db, carl, clock, office);
    clock.advance(oneMinute);
    const laptop = await freshlyVerified(db, carl, clock);

    const result = await changeOwnPassword(db.kysely, laptop.session, { currentPassword: oldPassword, newPassword }, office, clock);

    expect(result).toEqual({ ok: true });
    expect(await sessionsOf(carl)).toEqual([laptop.session.sessionId]);
    // Seen from a second app instance too: nothing cached the ended sessions.
    expect(await validateSession(other, phoneSession.token, clock)).toBeNull();
    expect(await validateSession(other, stranger.token, clock)).toBeNull();
    expect(await validateSession(other, laptop.token, clock)).toMatchObject({ userId: carl });
    expect(await notices()).toEqual([{ kind: 'password_changed', to_address: 'carl@example.com', user_id: carl }]);
    const audit = await db.kysely.selectFrom('audit_log').select(['action', 'details']).where('action', '=', 'auth.password_changed').execute();
    expect(audit).toHaveLength(1);
    expect(JSON.parse(String(audit[0]!.details))).toEqual({ endedSessions: 2, forgottenDevices: 0 });
    const row = await db.kysely.selectFrom('users').select('password_hash').where('id', '=', carl).executeTakeFirstOrThrow();
    expect(await verifyPassword(row.password_hash!, newPassword)).toBe(true);
  });

  it('a refused change (wrong current password, or no fresh second factor) ends no session and sends nothing', async () => {
    const phoneSession = await freshlyVerified(db, carl, clock, phone);
    const laptop = await freshlyVerified(db, carl, clock);
    expect(await changeOwnPassword(db.kysely, laptop.session, { currentPassword: 'not his password', newPassword }, office, clock)).toEqual({
      ok: false,
      reason: 'wrong_password',
    });
    clock.advance(6 * oneMinute);
    const stale = await validateSession(db, laptop.token, clock);
    expect(await changeOwnPassword(db.kysely, stale!, { currentPassword: oldPassword, newPassword }, office, clock)).toEqual({ ok: false, reason: 'not_fresh' });
    expect(await validateSession(db, phoneSession.token, clock)).not.toBeNull();
    expect((await sessionsOf(carl)).sort()).toEqual([phoneSession.session.sessionId, laptop.session.sessionId].sort());
    expect(await notices()).toEqual([]);
  });
});
