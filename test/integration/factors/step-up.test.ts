import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Db } from '../../../db';
import { manualClock, oneMinute } from '../../../lib/clock';
import { validateSession, type SessionContext } from '../../../lib/auth/sessions';
import { newPendingTotpSetup } from '../../../lib/auth/pending-setup';
import { removeFactor, renameFactor, securityOverview } from '../../../lib/factors/factors';
import { regenerateRecoveryCodes } from '../../../lib/factors/recovery-codes';
import { changeOwnPassword } from '../../../lib/auth/change-password';
import { verifyPassword } from '../../../lib/auth/password';
import { confirmTotpSetup, newTotpSecret, stepAt, totpCodeAt } from '../../../lib/factors/totp';
import { confirmWebauthnRegistration, relyingPartyFor, webauthnRegistrationOptions } from '../../../lib/factors/webauthn';
import { freshSecondFactorMs } from '../../../lib/factors/setup-flow';
import { SoftAuthenticator } from '../../support/soft-authenticator';
import { dialects } from '../support/dialects';
import { auditActions, enrollTotp, freshDbPair, freshlyVerified, newUser, office, signedIn } from './support';

const start = Date.UTC(2026, 11, 2, 8, 0, 0);
const rp = relyingPartyFor('https://mfa.example.com');

/*
 * R-E8 in the services, not only the pages: every change to a person's factors or recovery
 * codes needs a session that passed a second factor, if they have one; adding, removing and
 * regenerating need one from the last five minutes, and so does changing the password. Personas, each with one TOTP device:
 * - Pat: signed in with the password alone (someone who knows Pat's password, say).
 * - Vera: passed her second factor two minutes ago.
 * - Stella: passed hers six minutes ago (verified, but not fresh).
 * - Newt: no factor at all, password only: his first device needs nothing more.
 */
describe.each(dialects)('R-E8 step-up for factor changes on %s', (dialect) => {
  let db: Db;
  let other: Db;
  const clock = manualClock(start);
  const key = () => new SoftAuthenticator({ rpId: rp.id, origin: rp.origin, kind: 'counter' });

  async function withTotp(name: string) {
    const id = await newUser(db, name, clock);
    const { pending } = await enrollTotp(db, id, clock);
    return { id, factorId: pending.id };
  }
  async function pat() {
    const user = await withTotp('pat');
    return { ...user, session: (await signedIn(db, user.id, clock)).session };
  }
  async function verifiedAgo(name: string, ago: number) {
    const user = await withTotp(name);
    clock.advance(-ago);
    const { session } = await freshlyVerified(db, user.id, clock);
    clock.advance(ago);
    return { ...user, session };
  }
  const vera = () => verifiedAgo('vera', 2 * oneMinute);
  const stella = () => verifiedAgo('stella', freshSecondFactorMs + oneMinute);

  const addTotp = (session: SessionContext) => {
    const secret = newTotpSecret();
    return confirmTotpSetup(db.kysely, session, newPendingTotpSetup(session.userId, secret, null, clock), { code: totpCodeAt(secret, stepAt(clock.now())) }, office, clock);
  };
  const addKey = async (session: SessionContext) => {
    const { options, pending } = await webauthnRegistrationOptions(db.kysely, session, rp, clock);
    return confirmWebauthnRegistration(db.kysely, session, pending, { response: key().register(options.challenge, { userHandle: options.user.id }) }, office, rp, clock);
  };

  const changePassword = (session: SessionContext) =>
    changeOwnPassword(db.kysely, session, { currentPassword: 'correct horse battery', newPassword: 'a brand new passphrase' }, office, clock);
  const passwordIs = async (userId: string, password: string) => {
    const row = await db.kysely.selectFrom('users').select('password_hash').where('id', '=', userId).executeTakeFirstOrThrow();
    return verifyPassword(row.password_hash!, password);
  };

  beforeEach(async () => {
    clock.set(start);
    [db, other] = await freshDbPair(dialect);
  });
  afterEach(async () => {
    await other.close();
    await db.close();
  });

  it('Pat (password only) can rename, remove, regenerate and add nothing, and nothing changes or is audited', async () => {
    const { id, factorId, session } = await pat();
    const before = await securityOverview(db.kysely, id);
    const audited = await auditActions(db);
    expect(await renameFactor(db.kysely, session, { factorId, name: 'Attacker phone' }, office, clock)).toEqual({ ok: false, reason: 'not_verified' });
    expect(await removeFactor(db.kysely, session, { factorId }, office, clock)).toEqual({ ok: false, reason: 'not_fresh' });
    expect(await regenerateRecoveryCodes(db.kysely, session, office, clock)).toEqual({ ok: false, reason: 'not_fresh' });
    expect(await addTotp(session)).toMatchObject({ ok: false, reason: 'not_fresh' });
    expect(await addKey(session)).toMatchObject({ ok: false, reason: 'not_fresh' });
    expect(await changePassword(session)).toEqual({ ok: false, reason: 'not_fresh' });
    expect(await passwordIs(id, 'correct horse battery')).toBe(true);
    expect(await securityOverview(db.kysely, id)).toEqual(before);
    // Only the refused key registration is audited (as a failure); no change is.
    expect((await auditActions(db)).slice(audited.length)).toEqual(['mfa.factor_enroll_failed']);
  });

  it('Vera (second factor 2 minutes ago) may do each of them', async () => {
    const { id, factorId, session } = await vera();
    expect(await renameFactor(db.kysely, session, { factorId, name: 'Work phone' }, office, clock)).toEqual({ ok: true });
    expect(await changePassword(session)).toEqual({ ok: true });
    expect(await passwordIs(id, 'a brand new passphrase')).toBe(true);
    expect(await regenerateRecoveryCodes(db.kysely, session, office, clock)).toMatchObject({ ok: true, codes: expect.any(Array) });
    // Each new device rotates the session (a new id): go on with the new one, as the cookie would.
    const keyAdded = await addKey(session);
    expect(keyAdded).toMatchObject({ ok: true, recoveryCodes: null });
    const afterKey = (await validateSession(db, (keyAdded as { token: string }).token, clock))!;
    const totpAdded = await addTotp(afterKey);
    expect(totpAdded).toMatchObject({ ok: true, recoveryCodes: null });
    const afterTotp = (await validateSession(db, (totpAdded as { token: string }).token, clock))!;
    expect(await removeFactor(db.kysely, afterTotp, { factorId }, office, clock)).toEqual({ ok: true });
    expect((await securityOverview(db.kysely, id)).factors).toHaveLength(2);
  });

  it('Stella (second factor 6 minutes ago) may rename, but not remove, regenerate or add', async () => {
    const { factorId, session } = await stella();
    expect(await renameFactor(db.kysely, session, { factorId, name: 'Old phone' }, office, clock)).toEqual({ ok: true });
    expect(await changePassword(session)).toEqual({ ok: false, reason: 'not_fresh' });
    expect(await removeFactor(db.kysely, session, { factorId }, office, clock)).toEqual({ ok: false, reason: 'not_fresh' });
    expect(await regenerateRecoveryCodes(db.kysely, session, office, clock)).toEqual({ ok: false, reason: 'not_fresh' });
    expect(await addTotp(session)).toMatchObject({ ok: false, reason: 'not_fresh' });
    expect(await addKey(session)).toMatchObject({ ok: false, reason: 'not_fresh' });
  });

  it('Newt, with no factor, sets up his first one with the password alone', async () => {
    const newt = await newUser(db, 'newt', clock);
    const { session } = await signedIn(db, newt, clock);
    expect(await changeOwnPassword(db.kysely, session, { currentPassword: 'wrong', newPassword: 'a brand new passphrase' }, office, clock)).toEqual({ ok: false, reason: 'wrong_password' });
    expect(await changePassword(session)).toEqual({ ok: true });
    expect(await addTotp(session)).toMatchObject({ ok: true, recoveryCodes: expect.any(Array) });
  });

  it('is decided by the session row in the storing transaction, not by what the caller claims', async () => {
    const { factorId, session } = await pat();
    const claimsFresh: SessionContext = { ...session, aal: 2, secondFactorAt: clock.now() };
    expect(await renameFactor(db.kysely, claimsFresh, { factorId, name: 'x' }, office, clock)).toEqual({ ok: false, reason: 'not_verified' });
    expect(await removeFactor(db.kysely, claimsFresh, { factorId }, office, clock)).toEqual({ ok: false, reason: 'not_fresh' });
    expect(await regenerateRecoveryCodes(db.kysely, claimsFresh, office, clock)).toEqual({ ok: false, reason: 'not_fresh' });
    expect(await addTotp(claimsFresh)).toMatchObject({ ok: false, reason: 'not_fresh' });
    expect(await changePassword(claimsFresh)).toEqual({ ok: false, reason: 'not_fresh' });
  });

  it('a fresh session turns stale while the change waits: checked at the time of storing', async () => {
    const { factorId, session } = await vera();
    clock.advance(freshSecondFactorMs);
    expect(await removeFactor(db.kysely, session, { factorId }, office, clock)).toEqual({ ok: false, reason: 'not_fresh' });
  });
});
