import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Db } from '../../../db';
import { manualClock, oneMinute } from '../../../lib/clock';
import { createUser } from '../../../lib/admin/users';
import { cliActor } from '../../../lib/admin/actor';
import { validateSession, type SessionContext } from '../../../lib/auth/sessions';
import { newPendingTotpSetup } from '../../../lib/auth/pending-setup';
import { justRecovered } from '../../../lib/factors/recovery-path';
import { regenerateRecoveryCodes, verifyRecoveryCodeSignIn } from '../../../lib/factors/recovery-codes';
import { confirmTotpSetup, newTotpSecret, stepAt, totpCodeAt } from '../../../lib/factors/totp';
import { confirmWebauthnRegistration, relyingPartyFor, webauthnRegistrationOptions } from '../../../lib/factors/webauthn';
import { SoftAuthenticator } from '../../support/soft-authenticator';
import { dialects } from '../support/dialects';
import { enrollTotp, freshDbPair, freshlyVerified, office, signedIn } from './support';

/*
 * The lost-device path (issue 15, section 3). Rita lost her phone: she signs in with a
 * recovery code and sets up a new authenticator app. Tom still has his phone and adds a
 * second one the ordinary way. Everything on record and in the outbox is checked.
 */
const start = Date.UTC(2026, 10, 2, 9, 0, 15);

describe.each(dialects)('a new device after a recovery code on %s', (dialect) => {
  let db: Db;
  let other: Db;
  let rita: string;
  let codes: string[];
  const clock = manualClock(start);

  async function recoverySignIn(code: string): Promise<SessionContext> {
    const { session } = await signedIn(db, rita, clock);
    const result = await verifyRecoveryCodeSignIn(db.kysely, session, code, office, clock);
    if (!result.ok) throw new Error(`recovery sign-in failed: ${result.reason}`);
    return (await validateSession(db, result.token, clock))!;
  }

  async function addTotp(session: SessionContext) {
    const secret = newTotpSecret();
    const pending = newPendingTotpSetup(session.userId, secret, null, clock);
    return confirmTotpSetup(db.kysely, session, pending, { code: totpCodeAt(secret, stepAt(clock.now())), name: 'New phone' }, office, clock);
  }

  async function audit(userId: string) {
    const rows = await db.kysely.selectFrom('audit_log').select(['action', 'details', 'at']).where('target_id', '=', userId).orderBy('id').execute();
    return rows.map((r) => ({ action: r.action, at: r.at, details: r.details ? JSON.parse(r.details) : null }));
  }

  async function mail(userId: string) {
    return db.kysely.selectFrom('mail_outbox').select(['kind', 'status', 'created_at']).where('user_id', '=', userId).orderBy('created_at').orderBy('kind').execute();
  }

  beforeEach(async () => {
    clock.set(start);
    [db, other] = await freshDbPair(dialect);
    rita = (await createUser(db.kysely, { username: 'rita', password: 'correct horse battery', email: 'rita@example.com', state: 'active' }, cliActor, clock)).id;
    codes = (await enrollTotp(db, rita, clock)).result.recoveryCodes!;
  });
  afterEach(async () => {
    await other.close();
    await db.close();
  });

  it('Rita signs in with a recovery code and sets up a new app: audited as the recovery path, and she is told of both', async () => {
    clock.advance(oneMinute);
    const session = await recoverySignIn(codes[0]!);
    expect(justRecovered(session.amr, clock.now())).toBe(true);
    const usedAt = clock.now();

    clock.advance(oneMinute);
    const result = await addTotp(session);
    expect(result).toMatchObject({ ok: true, recoveryCodes: null }); // another device: her codes stay
    if (!result.ok) return;
    const addedAt = clock.now();

    const entries = (await audit(rita)).filter((e) => e.at >= usedAt && !e.action.startsWith('mfa.verify'));
    expect(entries).toEqual([
      { action: 'mfa.recovery_code_used', at: usedAt, details: { remaining: 9 } },
      { action: 'mfa.factor_enrolled', at: addedAt, details: { type: 'totp', factorId: result.factorId, name: 'New phone' } },
      { action: 'mfa.factor_added_after_recovery_code', at: addedAt, details: { type: 'totp', factorId: result.factorId, recoveryCodeAt: usedAt } },
    ]);
    expect((await mail(rita)).filter((m) => m.created_at >= usedAt)).toEqual([
      { kind: 'recovery_code_used', status: 'pending', created_at: usedAt },
      { kind: 'factor_added', status: 'pending', created_at: addedAt },
    ]);
    // Her new app is now the latest second factor: the recovered page is behind her.
    const after = (await validateSession(db, result.token, clock))!;
    expect(justRecovered(after.amr, clock.now())).toBe(false);
  });

  it('a security key added on the recovery path is on record the same way', async () => {
    const rp = relyingPartyFor('https://mfa.example.com');
    clock.advance(oneMinute);
    const session = await recoverySignIn(codes[0]!);
    const usedAt = clock.now();
    clock.advance(oneMinute);
    const { options, pending } = await webauthnRegistrationOptions(db.kysely, session, rp, clock);
    const response = new SoftAuthenticator({ rpId: rp.id, origin: rp.origin, kind: 'counter' }).register(options.challenge, { userHandle: options.user.id });
    const result = await confirmWebauthnRegistration(db.kysely, session, pending, { response, name: 'New key' }, office, rp, clock);
    expect(result.ok).toBe(true);
    const entry = (await audit(rita)).find((e) => e.action === 'mfa.factor_added_after_recovery_code');
    expect(entry?.details).toMatchObject({ type: 'webauthn', recoveryCodeAt: usedAt });
    expect((await mail(rita)).filter((m) => m.created_at >= usedAt).map((m) => m.kind)).toEqual(['recovery_code_used', 'factor_added']);
  });

  it('Tom-style additions (a session verified with the app) carry no recovery-path entry', async () => {
    clock.advance(oneMinute);
    const { session } = await freshlyVerified(db, rita, clock);
    const result = await addTotp(session);
    expect(result.ok).toBe(true);
    expect((await audit(rita)).map((e) => e.action)).not.toContain('mfa.factor_added_after_recovery_code');
  });

  it('six minutes after the code it is too late to add a device: nothing is stored or recorded', async () => {
    const session = await recoverySignIn(codes[0]!);
    clock.advance(6 * oneMinute);
    expect(await addTotp(session)).toEqual({ ok: false, reason: 'not_fresh' });
    const actions = (await audit(rita)).map((e) => e.action);
    expect(actions.filter((a) => a === 'mfa.factor_enrolled')).toHaveLength(1); // the first app only
    expect(actions).not.toContain('mfa.factor_added_after_recovery_code');
    expect((await mail(rita)).filter((m) => m.kind === 'factor_added')).toHaveLength(1); // the first app's
  });

  it('the last code spent leaves none, and the session that spent it may make new ones at once', async () => {
    let session: SessionContext | null = null;
    for (const code of codes) {
      clock.advance(oneMinute);
      session = await recoverySignIn(code);
    }
    const { unused } = await db.kysely
      .selectFrom('recovery_codes')
      .select((eb) => eb.fn.countAll<number | string>().as('unused'))
      .where('user_id', '=', rita)
      .where('used_at', 'is', null)
      .executeTakeFirstOrThrow();
    expect(Number(unused)).toBe(0);
    const renewed = await regenerateRecoveryCodes(db.kysely, session!, office, clock);
    expect(renewed.ok && renewed.codes).toHaveLength(10);
  });
});
