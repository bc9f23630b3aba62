import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Db } from '../../../db';
import { manualClock } from '../../../lib/clock';
import { validateSession } from '../../../lib/auth/sessions';
import { newPendingTotpSetup, pendingSetupTtlMs } from '../../../lib/auth/pending-setup';
import { guessState, unlockGuesses } from '../../../lib/auth/mfa-throttle';
import { createKeyring, openSecret, sealSecret } from '../../../lib/crypto/secret-box';
import {
  confirmTotpSetup,
  newTotpSecret,
  stepAt,
  totpCodeAt,
  totpSecretContext,
  verifyTotpSignIn,
} from '../../../lib/factors/totp';
import { dialects } from '../support/dialects';
import { metrics } from '../../../lib/metrics/registry';
import { auditActions, enrollTotp, freshDbPair, freshlyVerified, newUser, office, signedIn } from './support';

// 15 s into a step, so "one step later" is a plain clock.advance(30 s).
const start = Date.UTC(2026, 10, 2, 9, 0, 15);
const step = 30_000;

describe.each(dialects)('TOTP enrollment and sign-in on %s', (dialect) => {
  let db: Db;
  let other: Db;
  let alice: string;
  const clock = manualClock(start);

  beforeEach(async () => {
    clock.set(start);
    [db, other] = await freshDbPair(dialect);
    alice = await newUser(db, 'alice', clock);
  });
  afterEach(async () => {
    await other.close();
    await db.close();
  });

  describe('Set Up (R-E6)', () => {
    it('stores nothing until a valid code; then the device, sealed, with its step spent', async () => {
      const { token, session } = await signedIn(db, alice, clock);
      const secret = newTotpSecret();
      const pending = newPendingTotpSetup(alice, secret, null, clock);

      const wrong = totpCodeAt(secret, stepAt(clock.now()) + 3);
      expect(await confirmTotpSetup(db.kysely, session, pending, { code: wrong }, office, clock)).toEqual({ ok: false, reason: 'invalid_code' });
      expect(await db.kysely.selectFrom('factors').selectAll().execute()).toEqual([]);

      const code = totpCodeAt(secret, stepAt(clock.now()));
      const result = await confirmTotpSetup(db.kysely, session, pending, { code, name: ' Work phone ' }, office, clock);
      expect(result).toMatchObject({ ok: true, factorId: pending.id });
      if (!result.ok) return;

      const row = await db.kysely.selectFrom('factors').selectAll().executeTakeFirstOrThrow();
      expect(row).toMatchObject({ user_id: alice, type: 'totp', name: 'Work phone', last_used_step: stepAt(clock.now()) });
      expect(row.secret_enc).not.toContain(secret);
      expect(openSecret(row.secret_enc!, totpSecretContext(alice))).toBe(secret);

      // First factor: ten recovery codes, stored hashed.
      expect(result.recoveryCodes).toHaveLength(10);
      const codes = await db.kysely.selectFrom('recovery_codes').selectAll().execute();
      expect(codes).toHaveLength(10);
      for (const c of codes) expect(result.recoveryCodes!.map((r) => r.replace(/-/g, ''))).not.toContain(c.code_hash);

      // The session records the factor and has a new id: the old token is dead.
      expect(await validateSession(db, token, clock)).toBeNull();
      expect(await validateSession(db, result.token, clock)).toMatchObject({ aal: 2, amr: [expect.objectContaining({ method: 'pwd' }), expect.objectContaining({ method: 'totp' })], secondFactorAt: clock.now() });
      expect(await auditActions(db, 'mfa.factor_enrolled')).toHaveLength(1);
      // NIST: the user is told about the new authenticator, queued with the change itself.
      const notices = await db.kysely.selectFrom('mail_outbox').select(['kind', 'user_id']).where('kind', '=', 'factor_added').execute();
      expect(notices).toEqual([{ kind: 'factor_added', user_id: alice }]);
    });

    it('a pending setup that expired, or belongs to someone else, stores nothing', async () => {
      const bob = await newUser(db, 'bob', clock);
      const { session } = await signedIn(db, alice, clock);
      const secret = newTotpSecret();
      const bobs = newPendingTotpSetup(bob, secret, null, clock);
      const code = () => totpCodeAt(secret, stepAt(clock.now()));
      expect(await confirmTotpSetup(db.kysely, session, bobs, { code: code() }, office, clock)).toMatchObject({ ok: false, reason: 'expired' });
      const mine = newPendingTotpSetup(alice, secret, null, clock);
      clock.advance(pendingSetupTtlMs);
      expect(await confirmTotpSetup(db.kysely, session, mine, { code: code() }, office, clock)).toMatchObject({ ok: false, reason: 'expired' });
      expect(await confirmTotpSetup(db.kysely, session, null, { code: code() }, office, clock)).toMatchObject({ ok: false, reason: 'expired' });
      expect(await db.kysely.selectFrom('factors').selectAll().execute()).toEqual([]);
    });

    it('submitting the same setup twice stores the device once', async () => {
      const { session } = await signedIn(db, alice, clock);
      const secret = newTotpSecret();
      const pending = newPendingTotpSetup(alice, secret, null, clock);
      const code = totpCodeAt(secret, stepAt(clock.now()));
      // NOTE: on SQLite both go through one connection: better-sqlite3 waits for a lock
      // synchronously, so two connections in ONE process holding transactions across awaits
      // would deadlock until the busy timeout. Separate processes wait for each other fine.
      const second = dialect === 'sqlite' ? db : other;
      const results = await Promise.all([
        confirmTotpSetup(db.kysely, session, pending, { code }, office, clock),
        confirmTotpSetup(second.kysely, session, pending, { code }, office, clock),
      ]);
      expect(results.filter((r) => r.ok)).toHaveLength(1);
      expect(await db.kysely.selectFrom('factors').selectAll().execute()).toHaveLength(1);
    });

    it('a replacement device keeps the old one until the new one is verified', async () => {
      const first = await enrollTotp(db, alice, clock);
      const { session } = await freshlyVerified(db, alice, clock); // R-E8
      const secret = newTotpSecret();
      const pending = newPendingTotpSetup(alice, secret, first.pending.id, clock);
      const bad = await confirmTotpSetup(db.kysely, session, pending, { code: 'abcdef' }, office, clock);
      expect(bad.ok).toBe(false);
      expect((await db.kysely.selectFrom('factors').select('id').execute()).map((r) => r.id)).toEqual([first.pending.id]);

      const good = await confirmTotpSetup(db.kysely, session, pending, { code: totpCodeAt(secret, stepAt(clock.now())) }, office, clock);
      expect(good).toMatchObject({ ok: true, recoveryCodes: null }); // not the first factor: codes stay
      expect((await db.kysely.selectFrom('factors').select('id').execute()).map((r) => r.id)).toEqual([pending.id]);
      expect(await db.kysely.selectFrom('recovery_codes').selectAll().execute()).toHaveLength(10);
    });
  });

  describe('verification (R-D3, R-I3)', () => {
    it('the code that enrolled the device cannot sign in (and says it was used); the next step can, once', async () => {
      const { secret } = await enrollTotp(db, alice, clock);
      const enrollmentCode = totpCodeAt(secret, stepAt(clock.now()));
      const { session } = await signedIn(db, alice, clock);
      expect(await verifyTotpSignIn(db.kysely, session, enrollmentCode, office, clock)).toEqual({ ok: false, reason: 'replayed' });

      clock.advance(step);
      const next = totpCodeAt(secret, stepAt(clock.now()));
      const ok = await verifyTotpSignIn(db.kysely, session, next, office, clock);
      expect(ok).toMatchObject({ ok: true });
      if (!ok.ok) return;
      expect(await validateSession(db, ok.token, clock)).toMatchObject({ aal: 2, amr: [expect.objectContaining({ method: 'pwd' }), expect.objectContaining({ method: 'totp' })] });
      expect(await validateSession(db, session.sessionId, clock)).toBeNull();

      // Replayed in another session a moment later: refused.
      const again = await signedIn(db, alice, clock);
      expect(await verifyTotpSignIn(db.kysely, again.session, next, office, clock)).toEqual({ ok: false, reason: 'replayed' });
      const failed = await db.kysely.selectFrom('audit_log').select('details').where('action', '=', 'mfa.verify_failed').execute();
      expect(failed.map((f) => JSON.parse(f.details!).reason)).toEqual(['replayed', 'replayed']);
    });

    it('accepts one step either side and refuses two', async () => {
      const { secret } = await enrollTotp(db, alice, clock);
      clock.advance(10 * step);
      const now = stepAt(clock.now());
      for (const [offset, ok] of [[-2, false], [2, false], [-1, true], [1, true]] as const) {
        const { session } = await signedIn(db, alice, clock);
        const result = await verifyTotpSignIn(db.kysely, session, totpCodeAt(secret, now + offset), office, clock);
        expect([offset, result.ok]).toEqual([offset, ok]);
      }
      // +1 was used last: the current step is now "earlier" and refused.
      const { session } = await signedIn(db, alice, clock);
      expect((await verifyTotpSignIn(db.kysely, session, totpCodeAt(secret, now), office, clock)).ok).toBe(false);
    });

    it.each([
      ['full-width digits', '１２３４５６'],
      ['an array', ['123456', '654321']],
      ['an object', { code: '123456' }],
      ['empty', ''],
      ['null', null],
      ['seven digits', '1234567'],
    ])('refuses %s with the plain message, audited but not charged: it is no guess (R-I2)', async (_name, input) => {
      await enrollTotp(db, alice, clock);
      const { session } = await signedIn(db, alice, clock);
      expect(await verifyTotpSignIn(db.kysely, session, input, office, clock)).toEqual({ ok: false, reason: 'invalid' });
      expect((await guessState(db.kysely, alice, clock.now())).dayFailures.totp).toBe(0);
      expect(await auditActions(db, 'mfa.verify_failed')).toHaveLength(1);
    });

    it('a user with no device gets no sign-in from any code', async () => {
      const { session } = await signedIn(db, alice, clock);
      expect(await verifyTotpSignIn(db.kysely, session, '123456', office, clock)).toEqual({ ok: false, reason: 'no_factor' });
    });

    it('20 parallel submissions of the same valid code, on two instances, give exactly one success', async () => {
      const { secret } = await enrollTotp(db, alice, clock);
      await db.kysely.deleteFrom('sessions').execute();
      clock.advance(step);
      const code = totpCodeAt(secret, stepAt(clock.now()));
      const sessions = await Promise.all(Array.from({ length: 20 }, () => signedIn(db, alice, clock)));
      const results = await Promise.all(
        sessions.map(({ session }, i) => verifyTotpSignIn((i % 2 ? other : db).kysely, session, code, office, clock)),
      );
      expect(results.filter((r) => r.ok)).toHaveLength(1);
      const elevated = await db.kysely.selectFrom('sessions').select('amr').where('amr', 'like', '%"totp"%').execute();
      expect(elevated).toHaveLength(1);
    });

    it('50 parallel wrong codes, from 50 pending sign-ins and addresses, are each checked and counted once', async () => {
      const { secret } = await enrollTotp(db, alice, clock);
      const valid = new Set([-1, 0, 1].map((o) => totpCodeAt(secret, stepAt(clock.now()) + o)));
      const wrong = Array.from({ length: 50 }, (_, i) => String(100000 + i * 7919)).filter((c) => !valid.has(c));
      const clients = wrong.map((_, i) => ({ ip: `203.0.113.${i + 1}`, userAgent: 'curl/8' }));
      const sessions = await Promise.all(clients.map((client) => signedIn(db, alice, clock, client)));
      const results = await Promise.all(
        wrong.map((code, i) => verifyTotpSignIn((i % 2 ? other : db).kysely, sessions[i]!.session, code, clients[i]!, clock)),
      );
      // Every source is fresh, so none is held back; the account's count has them all.
      expect(results.every((r) => !r.ok && r.reason === 'invalid')).toBe(true);
      expect((await guessState(db.kysely, alice, clock.now())).dayFailures.totp).toBe(wrong.length);
      expect(await auditActions(db, 'mfa.verify_failed')).toHaveLength(wrong.length);
    });

    it('backs off the source after five failures (even its right code waits), never Alice’s own sign-in (R-I2)', async () => {
      /** A series' value in the process's metrics (/metrics), 0 while absent. */
      const metric = async (name: string, labels: Record<string, string>) =>
        ((await metrics().registry.getMetricsAsJSON()).find((m) => m.name === name)?.values ?? []).find((v) =>
          Object.entries(labels).every(([k, x]) => v.labels[k] === x),
        )?.value ?? 0;
      const verifications = (outcome: string) => metric('portcullis_second_factor_verifications_total', { method: 'totp', outcome });
      const before = [await verifications('invalid'), await verifications('throttled'), await verifications('ok'), await metric('portcullis_throttle_blocks_total', { kind: 'totp' })];
      const { secret } = await enrollTotp(db, alice, clock);
      const malloryBox = { ip: '203.0.113.66', userAgent: 'curl/8' };
      const mallory = await signedIn(db, alice, clock, malloryBox);
      for (let i = 0; i < 5; i++) {
        expect(await verifyTotpSignIn(db.kysely, mallory.session, i % 2 ? '000000' : '999999', malloryBox, clock)).toMatchObject({ ok: false });
      }
      clock.advance(5_000);
      // The next step's code: valid (one step ahead) and never used.
      const refused = await verifyTotpSignIn(db.kysely, mallory.session, totpCodeAt(secret, stepAt(clock.now()) + 1), malloryBox, clock);
      expect(refused).toMatchObject({ ok: false, reason: 'throttled', retryAfterMs: 25_000 });

      const alicesOwn = await signedIn(db, alice, clock);
      const ok = await verifyTotpSignIn(db.kysely, alicesOwn.session, totpCodeAt(secret, stepAt(clock.now()) + 1), office, clock);
      expect(ok.ok).toBe(true);
      expect(await guessState(db.kysely, alice, clock.now())).toMatchObject({ dayFailures: { totp: 5 }, throttledSources: 1 });
      // For the operator (/metrics): five wrong codes, one refused unchecked (a throttle block), one right.
      const after = [await verifications('invalid'), await verifications('throttled'), await verifications('ok'), await metric('portcullis_throttle_blocks_total', { kind: 'totp' })];
      expect(after.map((n, i) => n - before[i]!)).toEqual([5, 1, 1, 1]);
    });

    it('an admin can unlock at once, and a day of quiet starts the count again (R-I2)', async () => {
      const { secret } = await enrollTotp(db, alice, clock);
      const { session } = await signedIn(db, alice, clock);
      for (let i = 0; i < 8; i++) {
        clock.advance(2 * 60 * 60_000); // wait out each backoff: 8 checked guesses
        await verifyTotpSignIn(db.kysely, session, '000000' === totpCodeAt(secret, stepAt(clock.now())) ? '111111' : '000000', office, clock);
      }
      expect(await guessState(db.kysely, alice, clock.now())).toMatchObject({ dayFailures: { totp: 8 }, retryAfterMs: 4 * 60_000 });
      await unlockGuesses(db.kysely, alice);
      expect(await guessState(db.kysely, alice, clock.now())).toMatchObject({ dayFailures: { totp: 0 }, throttledSources: 0, retryAfterMs: 0 });

      for (let i = 0; i < 6; i++) await verifyTotpSignIn(db.kysely, session, totpCodeAt(secret, stepAt(clock.now()) + 5 + i), office, clock);
      expect((await guessState(db.kysely, alice, clock.now())).retryAfterMs).toBeGreaterThan(0);
      clock.advance(24 * 60 * 60_000);
      expect(await guessState(db.kysely, alice, clock.now())).toMatchObject({ dayFailures: { totp: 0 }, throttledSources: 0, retryAfterMs: 0 });
    });

    it('a device sealed under a key this server lacks matches nothing, and nothing breaks', async () => {
      const { secret } = await enrollTotp(db, alice, clock);
      const foreign = sealSecret(secret, totpSecretContext(alice), createKeyring(['some-other-deployment-secret-0123456789']));
      await db.kysely.updateTable('factors').set({ secret_enc: foreign }).execute();
      clock.advance(step);
      const { session } = await signedIn(db, alice, clock);
      expect(await verifyTotpSignIn(db.kysely, session, totpCodeAt(secret, stepAt(clock.now())), office, clock)).toEqual({
        ok: false,
        reason: 'invalid',
      });
    });

    it('verification events are audited', async () => {
      const { secret } = await enrollTotp(db, alice, clock);
      const { session } = await signedIn(db, alice, clock);
      await verifyTotpSignIn(db.kysely, session, '12345x', office, clock);
      clock.advance(step);
      await verifyTotpSignIn(db.kysely, session, totpCodeAt(secret, stepAt(clock.now())), office, clock);
      const rows = await db.kysely
        .selectFrom('audit_log')
        .select(['action', 'actor_id', 'client_ip'])
        .where('action', 'like', 'mfa.verify%')
        .orderBy('id')
        .execute();
      expect(rows).toEqual([
        { action: 'mfa.verify_failed', actor_id: alice, client_ip: office.ip },
        { action: 'mfa.verify_succeeded', actor_id: alice, client_ip: office.ip },
      ]);
    });
  });
});
