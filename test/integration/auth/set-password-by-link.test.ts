import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Db } from '../../../db';
import { manualClock, oneDay, oneMinute } from '../../../lib/clock';
import {
  accountTokenOf,
  defaultInvitationValidityMs,
  inspectAccountLink,
  issueAccountToken,
  passwordResetValidityMs,
} from '../../../lib/auth/account-tokens';
import { verifyPassword } from '../../../lib/auth/password';
import { createSession, validateSession } from '../../../lib/auth/sessions';
import { accountKey, accountThrottle, countFailure } from '../../../lib/auth/throttle';
import { setPasswordByLink } from '../../../lib/auth/set-password-by-link';
import { dialects, freshDb } from '../support/dialects';
import { addFactor, outbox, seed } from '../mail/support/world';

/*
 * The page every link opens (issue 15): Ivy the invitee sets her first password and is signed
 * in; Rex, who forgot his, resets it and is signed out everywhere, to sign in again with his
 * second factor. A refused password leaves the link unspent; a used or expired link is refused.
 */
const start = Date.UTC(2026, 11, 3, 9, 0, 0);
const secret = 'a-test-secret-of-at-least-32-characters!!';
const office = { ip: '198.51.100.7', userAgent: 'Mozilla/5.0 test' };
const ivysPassword = 'a quiet lighthouse on the hill';
const rexsPassword = 'tortoise in a raincoat';

describe.each(dialects)('setting a password through a link on %s', (dialect) => {
  let db: Db;
  let ids: Record<string, string>;
  const clock = manualClock(start);

  beforeEach(async () => {
    clock.set(start);
    db = await freshDb(dialect);
    ids = await seed(db, clock, [{ username: 'ivy' }, { username: 'Rex' }, { username: 'sue', state: 'suspended' }]);
  });
  afterEach(async () => {
    await db.close();
  });

  const issue = async (userId: string, purpose: 'invitation' | 'password_reset') => {
    const validity = purpose === 'invitation' ? defaultInvitationValidityMs : passwordResetValidityMs;
    const { id } = await db.kysely
      .transaction()
      .execute((trx) => issueAccountToken(trx, { userId, purpose, now: clock.now(), expiresAt: clock.now() + validity, createdBy: null, secret }));
    return accountTokenOf(id, secret);
  };
  const submit = (token: string, password: string, confirm = password) => setPasswordByLink(db.kysely, { token, password, confirm }, office, clock);
  const passwordHashOf = async (userId: string) =>
    (await db.kysely.selectFrom('users').select('password_hash').where('id', '=', userId).executeTakeFirstOrThrow()).password_hash;
  const auditActions = async (userId: string) =>
    (await db.kysely.selectFrom('audit_log').select('action').where('target_id', '=', userId).orderBy('id').execute()).map((r) => r.action);

  it('Ivy sets her first password through her invitation: stored (NFKC), signed in with a password session, audited, the link used', async () => {
    const token = await issue(ids.ivy, 'invitation');
    clock.advance(oneDay);
    const result = await submit(token, `${ivysPassword} ﬁ`);
    expect(result).toMatchObject({ ok: true, purpose: 'invitation', userId: ids.ivy });
    if (!result.ok || result.purpose !== 'invitation') return;
    // NFKC: the ligature "ﬁ" is stored as "fi".
    expect(await verifyPassword((await passwordHashOf(ids.ivy))!, `${ivysPassword} fi`)).toBe(true);
    const session = await validateSession(db, result.sessionToken, clock);
    expect(session).toMatchObject({ userId: ids.ivy, aal: 1 });
    expect(session!.amr.map((a) => a.method)).toEqual(['pwd']);
    expect(await auditActions(ids.ivy)).toEqual(expect.arrayContaining(['auth.password_set', 'auth.signed_in']));
    expect(await inspectAccountLink(db.kysely, token, clock.now())).toEqual({ state: 'used' });
    expect((await outbox(db)).filter((m) => m.user_id === ids.ivy).map((m) => [m.kind, JSON.parse(m.params).how])).toEqual([['password_changed', 'set']]);
  });

  it('a used link is refused the second time, and an expired one at all', async () => {
    const token = await issue(ids.ivy, 'invitation');
    expect((await submit(token, ivysPassword)).ok).toBe(true);
    expect(await submit(token, 'another long password here')).toEqual({ ok: false, reason: 'link', link: 'used' });
    expect(await verifyPassword((await passwordHashOf(ids.ivy))!, ivysPassword)).toBe(true);

    const late = await issue(ids.Rex, 'password_reset');
    clock.advance(passwordResetValidityMs);
    expect(await submit(late, rexsPassword)).toEqual({ ok: false, reason: 'link', link: 'expired' });
    expect(await passwordHashOf(ids.Rex)).toBeNull();
    expect(await submit('x'.repeat(43), rexsPassword)).toEqual({ ok: false, reason: 'link', link: 'unknown' });
  });

  it.each([
    ['too short for a password-only account', 'short but 14ch', undefined, 'too_short'],
    ['on the blocklist', 'Password123456789', undefined, 'blocklisted'],
    ['the two fields differ', ivysPassword, `${ivysPassword}!`, 'mismatch'],
    ['empty', '', '', 'empty'],
  ])('a refused password (%s) does not spend the link', async (_why, password, confirm, reason) => {
    const token = await issue(ids.ivy, 'invitation');
    const refused = await submit(token, password, confirm ?? password);
    expect(refused).toMatchObject({ ok: false, reason });
    if (!refused.ok && refused.reason !== 'link') expect(refused.message).toMatch(/\w/);
    expect(await inspectAccountLink(db.kysely, token, clock.now())).toMatchObject({ state: 'open' });
    expect(await passwordHashOf(ids.ivy)).toBeNull();
    expect((await submit(token, ivysPassword)).ok).toBe(true);
  });

  it('with a second factor, 8 characters are enough (the password is not the only factor)', async () => {
    await addFactor(db, ids.Rex, 'totp', clock.now());
    const token = await issue(ids.Rex, 'password_reset');
    expect((await submit(token, 'eight ch')).ok).toBe(true);
  });

  it('Rex resets his password: every session ends, nobody is signed in, a notice is queued, the throttle is cleared, other links void', async () => {
    const laptop = await createSession(db.kysely, ids.Rex, office, clock);
    const phone = await createSession(db.kysely, ids.Rex, { ip: '203.0.113.9', userAgent: 'phone' }, clock);
    const ivys = await createSession(db.kysely, ids.ivy, office, clock);
    await countFailure(db.kysely, accountKey('rex'), accountThrottle, clock.now());
    const olderInvitation = await issue(ids.Rex, 'invitation');
    const token = await issue(ids.Rex, 'password_reset');
    clock.advance(5 * oneMinute);

    expect(await submit(token, rexsPassword)).toEqual({ ok: true, purpose: 'password_reset', userId: ids.Rex });
    expect(await validateSession(db, laptop, clock)).toBeNull();
    expect(await validateSession(db, phone, clock)).toBeNull();
    expect(await validateSession(db, ivys, clock)).not.toBeNull();
    expect(await db.kysely.selectFrom('sessions').select('id').where('user_id', '=', ids.Rex).execute()).toEqual([]);
    const notices = (await outbox(db)).filter((m) => m.user_id === ids.Rex);
    expect(notices.map((m) => [m.kind, JSON.parse(m.params).how, m.status])).toEqual([['password_changed', 'reset', 'pending']]);
    expect(await db.kysely.selectFrom('auth_throttle').selectAll().where('key', '=', accountKey('rex')).execute()).toEqual([]);
    expect(await inspectAccountLink(db.kysely, olderInvitation, clock.now())).toEqual({ state: 'voided' });
    expect(await auditActions(ids.Rex)).toEqual(expect.arrayContaining(['auth.password_reset', 'user.sessions_revoked']));
    expect(await auditActions(ids.Rex)).not.toContain('auth.signed_in');
  });

  it('a suspended account gets no password through a link, and the link stays unspent', async () => {
    const token = await issue(ids.sue, 'password_reset');
    expect(await submit(token, rexsPassword)).toMatchObject({ ok: false, reason: 'not_allowed' });
    expect(await passwordHashOf(ids.sue)).toBeNull();
    expect(await inspectAccountLink(db.kysely, token, clock.now())).toMatchObject({ state: 'open' });
  });

  it('of 10 parallel submissions of one link exactly one sets the password', async () => {
    const token = await issue(ids.ivy, 'invitation');
    const results = await Promise.all(Array.from({ length: 10 }, (_, i) => submit(token, `${ivysPassword} ${i}`)));
    expect(results.filter((r) => r.ok)).toHaveLength(1);
    expect(results.filter((r) => !r.ok)).toEqual(Array.from({ length: 9 }, () => ({ ok: false, reason: 'link', link: 'used' })));
    expect(await db.kysely.selectFrom('sessions').select('id').where('user_id', '=', ids.ivy).execute()).toHaveLength(1);
  });
});
