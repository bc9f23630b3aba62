import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Db } from '../../../db';
import { manualClock, oneDay } from '../../../lib/clock';
import { accountTokenOf, defaultInvitationValidityMs, inspectAccountLink } from '../../../lib/auth/account-tokens';
import { setPasswordByLink } from '../../../lib/auth/set-password-by-link';
import { validateSession } from '../../../lib/auth/sessions';
import { createUser } from '../../../lib/admin/users';
import { resendInvitation, invitationMessages } from '../../../lib/admin/invitations';
import { setUserState } from '../../../lib/admin/user-state';
import { updateUser } from '../../../lib/admin/user-update';
import { getUserDetail, listUsers } from '../../../lib/admin/user-directory';
import { isConflictError, isNotFoundError, isValidationError } from '../../../lib/errors/brand';
import { dialects, freshDb } from '../support/dialects';
import { admin, outbox } from '../mail/support/world';

/*
 * Invitations (issue 15): Ada the admin creates Ivy the invitee without a password and invites
 * her; Ivy sets her own through the link and is signed in. Stan is staged: his invitation waits
 * for his activation. Resending voids the older link; an invitation is refused with a password,
 * without an address, or once the user has a password.
 */
const start = Date.UTC(2026, 11, 3, 9, 0, 0);
const office = { ip: '198.51.100.7', userAgent: 'Mozilla/5.0 test' };
const ivysPassword = 'a quiet lighthouse on the hill';

describe.each(dialects)('invitations on %s', (dialect) => {
  let db: Db;
  const clock = manualClock(start);

  beforeEach(async () => {
    clock.set(start);
    db = await freshDb(dialect);
  });
  afterEach(async () => {
    await db.close();
  });

  const invite = (username: string, extra: Record<string, unknown> = {}) =>
    createUser(db.kysely, { username, email: `${username}@example.com`, state: 'active', invite: true, ...extra }, admin, clock);
  const tokens = (userId: string) =>
    db.kysely.selectFrom('account_tokens').selectAll().where('user_id', '=', userId).orderBy('created_at').orderBy('id').execute();
  const invitationMails = async (userId: string) => (await outbox(db)).filter((m) => m.user_id === userId && m.kind === 'invitation');
  const audit = async (userId: string) =>
    (await db.kysely.selectFrom('audit_log').select(['action', 'details']).where('target_id', '=', userId).orderBy('id').execute()).map((r) => ({
      action: r.action,
      details: r.details === null ? null : JSON.parse(r.details),
    }));
  const tokenOfRow = (id: string) => accountTokenOf(id);

  it('Ada invites Ivy (active): no password, an open link for 7 days, the invitation queued, all audited in one go', async () => {
    const { id } = await invite('ivy');
    const [row] = await tokens(id);
    expect(row).toMatchObject({ purpose: 'invitation', created_by: admin.id, used_at: null, voided_at: null });
    expect(Number(row!.expires_at)).toBe(start + defaultInvitationValidityMs);
    expect(await inspectAccountLink(db.kysely, tokenOfRow(row!.id), clock.now())).toMatchObject({ state: 'open', userId: id, purpose: 'invitation' });
    const mails = await invitationMails(id);
    expect(mails).toHaveLength(1);
    expect(mails[0]).toMatchObject({ status: 'pending', to_address: 'ivy@example.com' });
    expect(JSON.parse(mails[0]!.params)).toMatchObject({ tokenId: row!.id, expiresAt: start + defaultInvitationValidityMs, username: 'ivy' });
    expect(await audit(id)).toEqual([
      { action: 'user.created', details: expect.objectContaining({ username: 'ivy' }) },
      { action: 'user.invited', details: { expiresAt: start + defaultInvitationValidityMs, queued: true } },
    ]);
    const detail = await getUserDetail(db.kysely, id, clock);
    expect(detail.invitation).toEqual({ status: 'open', invitedAt: start, expiresAt: start + defaultInvitationValidityMs, passwordSet: false });
  });

  it('Ivy sets her password through the link and is signed in; the console then shows the invitation accepted', async () => {
    const { id } = await invite('ivy');
    const [row] = await tokens(id);
    clock.advance(oneDay);
    const result = await setPasswordByLink(db.kysely, { token: tokenOfRow(row!.id), password: ivysPassword, confirm: ivysPassword }, office, clock);
    expect(result).toMatchObject({ ok: true, purpose: 'invitation', userId: id });
    if (!result.ok || result.purpose !== 'invitation') return;
    expect(await validateSession(db, result.sessionToken, clock)).toMatchObject({ userId: id, username: 'ivy' });
    expect((await getUserDetail(db.kysely, id, clock)).invitation).toMatchObject({ status: 'accepted', passwordSet: true });
    // Once she has a password, there is nothing to resend: a reset is the way.
    const refused = await resendInvitation(db.kysely, id, admin, clock).catch((e: unknown) => e);
    expect(isConflictError(refused) && refused.message).toBe(invitationMessages.hasPassword);
  });

  it('Stan is staged: his invitation is stored unstarted and nothing is sent until Ada activates him', async () => {
    const { id } = await invite('stan', { state: 'staged' });
    const [row] = await tokens(id);
    expect(row!.expires_at).toBeNull();
    expect(await inspectAccountLink(db.kysely, tokenOfRow(row!.id), clock.now())).toEqual({ state: 'unknown' });
    expect(await invitationMails(id)).toEqual([]);
    expect((await getUserDetail(db.kysely, id, clock)).invitation).toMatchObject({ status: 'unsent', expiresAt: null });

    clock.advance(3 * oneDay);
    const activated = await setUserState(db.kysely, id, 'active', admin, clock);
    expect(activated.invitationExpiresAt).toBe(clock.now() + defaultInvitationValidityMs);
    expect(await inspectAccountLink(db.kysely, tokenOfRow(row!.id), clock.now())).toMatchObject({ state: 'open', expiresAt: clock.now() + defaultInvitationValidityMs });
    const mails = await invitationMails(id);
    expect(mails.map((m) => [m.status, JSON.parse(m.params).tokenId])).toEqual([['pending', row!.id]]);
    expect((await audit(id)).at(-1)).toEqual({
      action: 'user.state_changed',
      details: { from: 'staged', to: 'active', invitationSent: true, invitationExpiresAt: clock.now() + defaultInvitationValidityMs },
    });
    // Suspending and activating again sends nothing more: the invitation has started already.
    await setUserState(db.kysely, id, 'suspended', admin, clock);
    expect((await setUserState(db.kysely, id, 'active', admin, clock)).invitationExpiresAt).toBeNull();
    expect(await invitationMails(id)).toHaveLength(1);
  });

  it('activation through the console\'s "Save changes" (updateUser) sends a staged user\'s invitation too', async () => {
    const { id } = await invite('sara', { state: 'staged' });
    const result = await updateUser(db.kysely, id, { state: 'active' }, admin, clock);
    expect(result.state?.invitationExpiresAt).toBe(start + defaultInvitationValidityMs);
    expect(await invitationMails(id)).toHaveLength(1);
  });

  it('resending voids the older link and queues a new one, audited', async () => {
    const { id } = await invite('ivy');
    const [first] = await tokens(id);
    clock.advance(oneDay);
    expect(await resendInvitation(db.kysely, id, admin, clock)).toEqual({ expiresAt: clock.now() + defaultInvitationValidityMs, queued: true });
    const [, second] = await tokens(id);
    expect(await inspectAccountLink(db.kysely, tokenOfRow(first!.id), clock.now())).toEqual({ state: 'voided' });
    expect(await inspectAccountLink(db.kysely, tokenOfRow(second!.id), clock.now())).toMatchObject({ state: 'open' });
    expect((await invitationMails(id)).map((m) => JSON.parse(m.params).tokenId)).toEqual([first!.id, second!.id]);
    expect((await audit(id)).at(-1)).toEqual({ action: 'user.invitation_resent', details: { expiresAt: clock.now() + defaultInvitationValidityMs, queued: true } });
    // An expired invitation shows as such, and can be sent again.
    clock.advance(defaultInvitationValidityMs);
    expect((await getUserDetail(db.kysely, id, clock)).invitation).toMatchObject({ status: 'expired' });
  });

  it('suspending Ivy voids her open invitation: reactivation does not revive a link mailed before', async () => {
    const { id } = await invite('ivy');
    const [link] = await tokens(id);
    await setUserState(db.kysely, id, 'suspended', admin, clock);
    expect((await audit(id)).at(-1)).toEqual({
      action: 'user.state_changed',
      details: { from: 'active', to: 'suspended', sessionsRevoked: 0, linksVoided: 1 },
    });
    await setUserState(db.kysely, id, 'active', admin, clock);
    expect(await inspectAccountLink(db.kysely, tokenOfRow(link!.id), clock.now())).toEqual({ state: 'voided' });
    expect(await resendInvitation(db.kysely, id, admin, clock)).toMatchObject({ queued: true });
  });

  it('refuses an invitation with a password, without an email address, or to a suspended user, creating nothing', async () => {
    const fieldErrors = async (extra: Record<string, unknown>) => {
      const err = await invite('mallory', extra).catch((e: unknown) => e);
      return isValidationError(err) ? err.fieldErrors : err;
    };
    expect(await fieldErrors({ password: 'a perfectly fine long password' })).toEqual({ password: [invitationMessages.withPassword] });
    expect(await fieldErrors({ email: null })).toEqual({ email: [invitationMessages.noEmail] });
    expect(await fieldErrors({ state: 'suspended' })).toEqual({ state: [invitationMessages.suspended] });
    expect(await db.kysely.selectFrom('users').select('id').execute()).toEqual([]);
    expect(await db.kysely.selectFrom('account_tokens').select('id').execute()).toEqual([]);

    const { id: noMail } = await createUser(db.kysely, { username: 'nomail', state: 'active' }, admin, clock);
    const refused = await resendInvitation(db.kysely, noMail, admin, clock).catch((e: unknown) => e);
    expect(isConflictError(refused) && refused.message).toBe(invitationMessages.noEmail);
    expect(isNotFoundError(await resendInvitation(db.kysely, 'nobody', admin, clock).catch((e: unknown) => e))).toBe(true);
  });

  it('the users list finds who was invited and has not set a password yet', async () => {
    const { id: ivy } = await invite('ivy');
    await invite('stan', { state: 'staged' });
    await createUser(db.kysely, { username: 'pat', email: 'pat@example.com', password: 'pat has a long password', state: 'active' }, admin, clock);
    const [row] = await tokens(ivy);
    const invited = async () => (await listUsers(db.kysely, { invited: true }, clock)).users.map((u) => u.username);
    expect(await invited()).toEqual(['ivy', 'stan']);
    expect((await listUsers(db.kysely, { invited: false }, clock)).users.map((u) => u.username)).toEqual(['pat']);
    await setPasswordByLink(db.kysely, { token: tokenOfRow(row!.id), password: ivysPassword, confirm: ivysPassword }, office, clock);
    expect(await invited()).toEqual(['stan']);
  });
});
