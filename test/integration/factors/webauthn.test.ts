import { generateKeyPairSync } from 'node:crypto';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Db } from '../../../db';
import { advanceWebauthnCounter, listWebauthnCredentials, spendNonce } from '../../../db/queries/webauthn';
import { manualClock, oneMinute } from '../../../lib/clock';
import { validateSession, type SessionContext } from '../../../lib/auth/sessions';
import { removeFactor } from '../../../lib/factors/factors';
import { webauthnChallengeTtlMs, type PendingWebauthn } from '../../../lib/factors/ceremony';
import {
  confirmWebauthnRegistration,
  relyingPartyFor,
  userHandleOf,
  verifyWebauthnSignIn,
  webauthnAuthenticationOptions,
  webauthnRegistrationOptions,
} from '../../../lib/factors/webauthn';
import { flags, SoftAuthenticator } from '../../support/soft-authenticator';
import { dialects } from '../support/dialects';
import { freshDbPair, freshlyVerified, newUser, office, signedIn } from './support';

/*
 * WebAuthn against the real @simplewebauthn/server verification, with a software
 * authenticator standing in for the browser and the key. Personas: Alice registers keys
 * and signs in with them; Mallory holds Alice's password but not her key, and has a key of
 * her own.
 */
const start = Date.UTC(2026, 10, 2, 9, 0, 0);
const rp = relyingPartyFor('https://mfa.example.com');

describe.each(dialects)('WebAuthn on %s', (dialect) => {
  let db: Db;
  let other: Db;
  let alice: string;
  let mallory: string;
  const clock = manualClock(start);

  const key = (kind: 'counter' | 'passkey' = 'counter') => new SoftAuthenticator({ rpId: rp.id, origin: rp.origin, kind });

  beforeEach(async () => {
    clock.set(start);
    [db, other] = await freshDbPair(dialect);
    alice = await newUser(db, 'alice', clock);
    mallory = await newUser(db, 'mallory', clock);
  });
  afterEach(async () => {
    await other.close();
    await db.close();
  });

  async function register(session: SessionContext, authenticator: SoftAuthenticator, name?: string) {
    const { options, pending } = await webauthnRegistrationOptions(db.kysely, session, rp, clock);
    const response = authenticator.register(options.challenge, { userHandle: options.user.id });
    return confirmWebauthnRegistration(db.kysely, session, pending, { response, name }, office, rp, clock);
  }

  /** Alice with one registered key, and a fresh password-only session to sign in with. */
  async function aliceWithKey(kind: 'counter' | 'passkey' = 'counter') {
    const authenticator = key(kind);
    const enrolled = await register((await signedIn(db, alice, clock)).session, authenticator, 'YubiKey');
    expect(enrolled.ok).toBe(true);
    const { token, session } = await signedIn(db, alice, clock);
    return { authenticator, token, session };
  }

  async function challengeFor(session: SessionContext) {
    const started = await webauthnAuthenticationOptions(db.kysely, session, rp, clock);
    if (!started) throw new Error('no credentials');
    return started;
  }

  async function auditDetails(action: string): Promise<Record<string, unknown>[]> {
    const rows = await db.kysely.selectFrom('audit_log').select('details').where('action', '=', action).orderBy('id').execute();
    return rows.map((r) => JSON.parse(r.details ?? '{}'));
  }

  describe('registration', () => {
    it('stores a named credential, starts recovery codes with the first factor, and rotates the session', async () => {
      const { token, session } = await signedIn(db, alice, clock);
      const { options, pending } = await webauthnRegistrationOptions(db.kysely, session, rp, clock);
      expect(options.rp).toEqual({ id: 'mfa.example.com', name: 'Portcullis' });
      expect(options.authenticatorSelection?.userVerification).toBe('preferred');
      expect(options.attestation).toBe('none');
      expect(options.user.id).toBe(userHandleOf(alice));
      expect(pending).toMatchObject({ ceremony: 'registration', userId: alice, expiresAt: start + webauthnChallengeTtlMs });

      const authenticator = key();
      const result = await confirmWebauthnRegistration(
        db.kysely,
        session,
        pending,
        { response: authenticator.register(options.challenge), name: '  Blue key ' },
        office,
        rp,
        clock,
      );
      expect(result).toMatchObject({ ok: true });
      if (!result.ok) return;
      expect(result.recoveryCodes).toHaveLength(10);

      const row = await db.kysely.selectFrom('factors').selectAll().where('id', '=', result.factorId).executeTakeFirstOrThrow();
      expect(row).toMatchObject({ user_id: alice, type: 'webauthn', name: 'Blue key', credential_id: authenticator.id, sign_count: 0 });
      expect(JSON.parse(row.transports!)).toEqual(['usb']);
      expect(row.secret_enc).toBeNull();

      expect(await validateSession(db, token, clock)).toBeNull(); // old id is dead
      expect(await validateSession(db, result.token, clock)).toMatchObject({ aal: 2, amr: [expect.objectContaining({ method: 'pwd' }), expect.objectContaining({ method: 'webauthn' })] });
      expect(await auditDetails('mfa.factor_enrolled')).toEqual([expect.objectContaining({ type: 'webauthn', name: 'Blue key' })]);
      // The user hears about the new key (queued in the same transaction; Alice has no address, so it is kept as skipped).
      const notices = await db.kysely.selectFrom('mail_outbox').select(['kind', 'user_id', 'params']).execute();
      expect(notices).toEqual([expect.objectContaining({ kind: 'factor_added', user_id: alice })]);
      expect(JSON.parse(notices[0]!.params)).toMatchObject({ factorType: 'webauthn', factorName: 'Blue key' });
    });

    it('keeps several keys per user, each named, and excludes registered ones from the next registration', async () => {
      const { session } = await signedIn(db, alice, clock);
      const first = key();
      const second = key('passkey');
      expect(await register(session, first, 'Desk key')).toMatchObject({ ok: true, recoveryCodes: expect.any(Array) });
      clock.advance(oneMinute);
      const fresh = (await freshlyVerified(db, alice, clock)).session; // R-E8: a second key needs a fresh second factor
      const { options } = await webauthnRegistrationOptions(db.kysely, fresh, rp, clock);
      expect(options.excludeCredentials).toEqual([{ id: first.id, type: 'public-key', transports: ['usb'] }]);
      expect(await register(fresh, second, 'Phone passkey')).toMatchObject({ ok: true, recoveryCodes: null });

      expect((await listWebauthnCredentials(db.kysely, alice)).map((c) => c.name)).toEqual(['Desk key', 'Phone passkey']);
      // The same authenticator again is refused, for Alice and for anyone else.
      expect(await register((await signedIn(db, alice, clock)).session, first)).toMatchObject({ ok: false, reason: 'already_registered' });
      expect(await register((await signedIn(db, mallory, clock)).session, first)).toMatchObject({ ok: false, reason: 'already_registered' });
    });

    it.each([
      ['from another origin', { origin: 'https://evil.example' }, 'wrong_origin'],
      ['for another RP ID', { rpId: 'evil.example' }, 'wrong_rp_id'],
      ['without the user-presence flag', { flags: flags.uv | flags.at }, 'user_not_present'],
      ['of the wrong ceremony type', { type: 'webauthn.get' }, 'wrong_type'],
    ] as const)('refuses an attestation %s', async (_what, overrides, detail) => {
      const { session } = await signedIn(db, alice, clock);
      const { options, pending } = await webauthnRegistrationOptions(db.kysely, session, rp, clock);
      const response = key().register(options.challenge, overrides);
      expect(await confirmWebauthnRegistration(db.kysely, session, pending, { response }, office, rp, clock)).toMatchObject({
        ok: false,
        reason: 'invalid',
        detail,
      });
      expect(await db.kysely.selectFrom('factors').selectAll().execute()).toEqual([]);
      expect(await auditDetails('mfa.factor_enroll_failed')).toEqual([expect.objectContaining({ type: 'webauthn', detail })]);
    });

    it('removing a key (with a fresh second factor) is audited and the user is told', async () => {
      const { session } = await signedIn(db, alice, clock);
      const first = await register(session, key(), 'Old key');
      const second = await register((await freshlyVerified(db, alice, clock)).session, key(), 'New key');
      if (!first.ok || !second.ok) throw new Error('registration failed');
      const fresh = (await validateSession(db, second.token, clock))!;
      expect(await removeFactor(db.kysely, fresh, { factorId: first.factorId }, office, clock)).toEqual({ ok: true });
      expect((await listWebauthnCredentials(db.kysely, alice)).map((c) => c.name)).toEqual(['New key']);
      expect(await auditDetails('mfa.factor_removed')).toEqual([expect.objectContaining({ type: 'webauthn', name: 'Old key', factorId: first.factorId })]);
      const notices = await db.kysely.selectFrom('mail_outbox').select(['kind', 'params']).where('kind', '=', 'factor_removed').execute();
      expect(notices.map((n) => JSON.parse(n.params))).toEqual([expect.objectContaining({ factorType: 'webauthn', factorName: 'Old key' })]);
    });

    it('refuses a replayed, foreign, expired or substituted challenge', async () => {
      const { session } = await signedIn(db, alice, clock);
      const authenticator = key();

      // Replayed: the same pending ceremony and answer a second time.
      const first = await webauthnRegistrationOptions(db.kysely, session, rp, clock);
      const answer = authenticator.register(first.options.challenge);
      const ok = await confirmWebauthnRegistration(db.kysely, session, first.pending, { response: answer }, office, rp, clock);
      expect(ok.ok).toBe(true);
      const again = (await signedIn(db, alice, clock)).session;
      expect(
        await confirmWebauthnRegistration(db.kysely, again, { ...first.pending, binding: (await pendingFor(again)).binding }, { response: answer }, office, rp, clock),
      ).toMatchObject({ ok: false, reason: 'replayed' });

      // Foreign: Mallory's pending ceremony presented in Alice's session.
      const malloryPending = (await webauthnRegistrationOptions(db.kysely, (await signedIn(db, mallory, clock)).session, rp, clock)).pending;
      expect(
        await confirmWebauthnRegistration(db.kysely, again, malloryPending, { response: key().register(malloryPending.challenge) }, office, rp, clock),
      ).toMatchObject({ ok: false, reason: 'expired', detail: 'foreign_challenge' });

      // Another session of the same user: bound to the session, not just the user.
      const otherSession = (await signedIn(db, alice, clock)).session;
      const elsewhere = await webauthnRegistrationOptions(db.kysely, otherSession, rp, clock);
      expect(
        await confirmWebauthnRegistration(db.kysely, again, elsewhere.pending, { response: key().register(elsewhere.pending.challenge) }, office, rp, clock),
      ).toMatchObject({ ok: false, reason: 'expired', detail: 'foreign_challenge' });

      // Expired: five minutes are up.
      const late = await webauthnRegistrationOptions(db.kysely, again, rp, clock);
      clock.advance(webauthnChallengeTtlMs);
      expect(
        await confirmWebauthnRegistration(db.kysely, again, late.pending, { response: key().register(late.options.challenge) }, office, rp, clock),
      ).toMatchObject({ ok: false, reason: 'expired', detail: 'challenge_expired' });

      // Substituted: an answer signed over some other challenge.
      const current = await webauthnRegistrationOptions(db.kysely, again, rp, clock);
      expect(
        await confirmWebauthnRegistration(db.kysely, again, current.pending, { response: key().register(first.options.challenge) }, office, rp, clock),
      ).toMatchObject({ ok: false, reason: 'invalid', detail: 'wrong_challenge' });
    });

    it('refuses malformed input and bad names without storing anything', async () => {
      const { session } = await signedIn(db, alice, clock);
      for (const input of [null, 'x', [], { response: { id: 'a' } }, { response: 42 }]) {
        const { pending } = await webauthnRegistrationOptions(db.kysely, session, rp, clock);
        expect(await confirmWebauthnRegistration(db.kysely, session, pending, input, office, rp, clock)).toMatchObject({ ok: false, reason: 'invalid' });
      }
      const { options, pending } = await webauthnRegistrationOptions(db.kysely, session, rp, clock);
      expect(
        await confirmWebauthnRegistration(db.kysely, session, pending, { response: key().register(options.challenge), name: 'x'.repeat(65) }, office, rp, clock),
      ).toMatchObject({ ok: false, reason: 'invalid_name' });
      expect(await db.kysely.selectFrom('factors').selectAll().execute()).toEqual([]);
    });
  });

  /** A pending ceremony for a session, to borrow its binding. */
  async function pendingFor(session: SessionContext): Promise<PendingWebauthn> {
    return (await webauthnRegistrationOptions(db.kysely, session, rp, clock)).pending;
  }

  describe('sign-in', () => {
    it('accepts the user’s own key, moves the counter, records the use and rotates the session', async () => {
      const { authenticator, token, session } = await aliceWithKey();
      const { options, pending } = await challengeFor(session);
      expect(options.rpId).toBe('mfa.example.com');
      expect(options.userVerification).toBe('preferred');
      expect(options.allowCredentials).toEqual([{ id: authenticator.id, type: 'public-key', transports: ['usb'] }]);

      clock.advance(oneMinute);
      const result = await verifyWebauthnSignIn(db.kysely, session, pending, authenticator.assert(options.challenge), office, rp, clock);
      expect(result).toMatchObject({ ok: true });
      if (!result.ok) return;
      expect(await validateSession(db, token, clock)).toBeNull();
      expect(await validateSession(db, result.token, clock)).toMatchObject({ aal: 2, amr: [expect.objectContaining({ method: 'pwd' }), expect.objectContaining({ method: 'webauthn' })], secondFactorAt: clock.now() });
      const row = await db.kysely.selectFrom('factors').selectAll().where('id', '=', result.factorId).executeTakeFirstOrThrow();
      expect(row).toMatchObject({ sign_count: 1, last_used_at: clock.now() });
      expect(await auditDetails('mfa.verify_succeeded')).toEqual([{ method: 'webauthn', factorId: result.factorId }]);
    });

    it('accepts a key without user verification (preferred, not required)', async () => {
      const { authenticator, session } = await aliceWithKey();
      const { options, pending } = await challengeFor(session);
      const result = await verifyWebauthnSignIn(db.kysely, session, pending, authenticator.assert(options.challenge, { flags: flags.up }), office, rp, clock);
      expect(result.ok).toBe(true);
    });

    it.each([
      ['from another origin', { origin: 'https://mfa.example.com.evil.example' }, 'wrong_origin'],
      ['for another RP ID', { rpId: 'example.com' }, 'wrong_rp_id'],
      ['without the user-presence flag', { flags: flags.uv }, 'user_not_present'],
      ['of the wrong ceremony type', { type: 'webauthn.create' }, 'wrong_type'],
      ['with a forged signature', { signWith: generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey }, 'bad_signature'],
    ] as const)('refuses an assertion %s', async (_what, overrides, detail) => {
      const { authenticator, token, session } = await aliceWithKey();
      const { options, pending } = await challengeFor(session);
      const result = await verifyWebauthnSignIn(db.kysely, session, pending, authenticator.assert(options.challenge, overrides), office, rp, clock);
      expect(result).toMatchObject({ ok: false, reason: 'invalid', detail });
      expect(await validateSession(db, token, clock)).toMatchObject({ aal: 1 });
      expect(await auditDetails('mfa.verify_failed')).toEqual([expect.objectContaining({ method: 'webauthn', reason: detail })]);
    });

    it('refuses a replayed challenge, even with a fresh assertion', async () => {
      const { authenticator, session } = await aliceWithKey();
      const { options, pending } = await challengeFor(session);
      const first = await verifyWebauthnSignIn(db.kysely, session, pending, authenticator.assert(options.challenge), office, rp, clock);
      expect(first.ok).toBe(true);
      // The attacker kept the old cookie and signs the old challenge again in a new session of theirs.
      const next = (await signedIn(db, alice, clock)).session;
      const replay = { ...pending, binding: (await pendingFor(next)).binding };
      expect(await verifyWebauthnSignIn(db.kysely, next, replay, authenticator.assert(options.challenge), office, rp, clock)).toMatchObject({
        ok: false,
        reason: 'replayed',
      });
    });

    it('refuses a challenge that belongs to another session, and one answered too late', async () => {
      const { authenticator, session } = await aliceWithKey();
      const elsewhere = await challengeFor((await signedIn(db, alice, clock)).session);
      expect(
        await verifyWebauthnSignIn(db.kysely, session, elsewhere.pending, authenticator.assert(elsewhere.options.challenge), office, rp, clock),
      ).toMatchObject({ ok: false, reason: 'expired', detail: 'foreign_challenge' });

      const { options, pending } = await challengeFor(session);
      clock.advance(webauthnChallengeTtlMs + 1);
      expect(await verifyWebauthnSignIn(db.kysely, session, pending, authenticator.assert(options.challenge), office, rp, clock)).toMatchObject({
        ok: false,
        reason: 'expired',
        detail: 'challenge_expired',
      });
    });

    it('refuses another user’s credential: Mallory’s own key does not open Alice’s account', async () => {
      const malloryKey = key();
      expect((await register((await signedIn(db, mallory, clock)).session, malloryKey)).ok).toBe(true);
      const { session } = await aliceWithKey();
      const { options, pending } = await challengeFor(session);
      // A valid signature by a registered key, over Alice's challenge, from Mallory's authenticator.
      const result = await verifyWebauthnSignIn(db.kysely, session, pending, malloryKey.assert(options.challenge, { userHandle: null }), office, rp, clock);
      expect(result).toMatchObject({ ok: false, reason: 'unknown_credential' });
      expect(await auditDetails('mfa.verify_failed')).toEqual([expect.objectContaining({ reason: 'unknown_credential' })]);
    });

    it('refuses an assertion whose user handle is someone else’s', async () => {
      const { authenticator, session } = await aliceWithKey();
      const { options, pending } = await challengeFor(session);
      const result = await verifyWebauthnSignIn(
        db.kysely,
        session,
        pending,
        authenticator.assert(options.challenge, { userHandle: userHandleOf(mallory) }),
        office,
        rp,
        clock,
      );
      expect(result).toMatchObject({ ok: false, reason: 'invalid', detail: 'wrong_user_handle' });
    });

    it('refuses a counter that goes backwards or stands still, and accepts 0 → 0 for synced passkeys', async () => {
      const { authenticator, session } = await aliceWithKey();
      const signIn = async (counter?: number) => {
        const s = (await signedIn(db, alice, clock)).session;
        const { options, pending } = await challengeFor(s);
        return verifyWebauthnSignIn(db.kysely, s, pending, authenticator.assert(options.challenge, counter === undefined ? {} : { counter }), office, rp, clock);
      };
      expect((await signIn(5)).ok).toBe(true);
      expect(await signIn(5)).toMatchObject({ ok: false, detail: 'counter_regression' });
      expect((await auditDetails('mfa.verify_failed')).at(-1)).toMatchObject({ reason: 'counter_regression', stored: 5, presented: 5 });
      expect(await signIn(3)).toMatchObject({ ok: false, detail: 'counter_regression' });
      expect(await signIn(0)).toMatchObject({ ok: false, detail: 'counter_regression' });
      expect((await signIn(6)).ok).toBe(true);
      void session;

      const passkey = key('passkey');
      expect((await register((await freshlyVerified(db, alice, clock)).session, passkey)).ok).toBe(true);
      for (let i = 0; i < 2; i++) {
        const s = (await signedIn(db, alice, clock)).session;
        const { options, pending } = await challengeFor(s);
        expect((await verifyWebauthnSignIn(db.kysely, s, pending, passkey.assert(options.challenge), office, rp, clock)).ok).toBe(true);
      }
    });

    it('reports a forged assertion as a bad signature even when its counter is stale', async () => {
      const { authenticator } = await aliceWithKey();
      const s1 = (await signedIn(db, alice, clock)).session;
      const first = await challengeFor(s1);
      expect((await verifyWebauthnSignIn(db.kysely, s1, first.pending, authenticator.assert(first.options.challenge, { counter: 9 }), office, rp, clock)).ok).toBe(true);
      const s2 = (await signedIn(db, alice, clock)).session;
      const second = await challengeFor(s2);
      const forged = authenticator.assert(second.options.challenge, { counter: 1, signWith: generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey });
      expect(await verifyWebauthnSignIn(db.kysely, s2, second.pending, forged, office, rp, clock)).toMatchObject({ ok: false, detail: 'bad_signature' });
    });

    it('records a counter value at most once, under concurrency and across instances', async () => {
      await aliceWithKey();
      const [credential] = await listWebauthnCredentials(db.kysely, alice);
      const results = await Promise.all(
        Array.from({ length: 20 }, (_, i) => advanceWebauthnCounter(i % 2 ? db.kysely : other.kysely, credential!.factorId, 7, clock.now())),
      );
      expect(results.filter(Boolean)).toHaveLength(1);
      expect(await advanceWebauthnCounter(db.kysely, credential!.factorId, 7, clock.now())).toBe(false);
      expect(await advanceWebauthnCounter(db.kysely, credential!.factorId, 8, clock.now())).toBe(true);
    });

    it('spends a challenge at most once, under concurrency and across instances', async () => {
      const nonce = { hash: 'h'.repeat(64), purpose: 'webauthn-authentication', userId: alice, expiresAt: clock.now() + webauthnChallengeTtlMs };
      const results = await Promise.all(Array.from({ length: 20 }, (_, i) => spendNonce(i % 2 ? db.kysely : other.kysely, nonce, clock.now())));
      expect(results.filter(Boolean)).toHaveLength(1);
      // Spent values are swept once they have expired (they would be refused as expired anyway).
      clock.advance(webauthnChallengeTtlMs);
      await spendNonce(db.kysely, { ...nonce, hash: 'g'.repeat(64), expiresAt: clock.now() + 1 }, clock.now());
      expect((await db.kysely.selectFrom('spent_nonces').select('nonce_hash').execute()).map((r) => r.nonce_hash)).toEqual(['g'.repeat(64)]);
    });

    it('has nothing to offer a user without keys, and refuses malformed answers', async () => {
      const { session } = await signedIn(db, mallory, clock);
      expect(await webauthnAuthenticationOptions(db.kysely, session, rp, clock)).toBeNull();
      const { session: aliceSession } = await aliceWithKey();
      for (const input of [undefined, 'x', { id: 'a', rawId: 'a', type: 'public-key', response: {} }, { ...key().assert('AAAA'), type: 'other' }]) {
        const { pending } = await challengeFor(aliceSession);
        expect(await verifyWebauthnSignIn(db.kysely, aliceSession, pending, input, office, rp, clock)).toMatchObject({ ok: false, reason: 'invalid' });
      }
    });
  });
});
