import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Db } from '../../../db';
import { manualClock } from '../../../lib/clock';
import { cliActor } from '../../../lib/admin/actor';
import { unlockUser, userThrottleState } from '../../../lib/admin/unlock';
import { admitGuess, guessFailed } from '../../../lib/auth/mfa-throttle';
import { stepAt, totpCodeAt, verifyTotpSignIn } from '../../../lib/factors/totp';
import { verifyRecoveryCodeSignIn } from '../../../lib/factors/recovery-codes';
import { dialects } from '../support/dialects';
import { enrollTotp, freshDbPair, newUser, office, signedIn } from './support';

/**
 * Second-factor guess throttling, step by step (R-I2): mallory knows bob's password and guesses his codes.
 * She must be slowed down where she guesses from (her pending sign-in, her address), never
 * shut bob out of his own sign-in; the account's cap (100 a day) remains, and bob is told.
 */

const start = Date.UTC(2026, 11, 3, 9, 0, 15);
const step = 30_000;
const bobsLaptop = office;
const mallorysBox = { ip: '203.0.113.66', userAgent: 'curl/8' };
/** Mallory's botnet: a new address per guess. */
const botAddress = (i: number) => ({ ip: `198.18.${Math.floor(i / 250)}.${(i % 250) + 1}`, userAgent: 'curl/8' });

describe.each(dialects)('a password holder cannot lock bob out (R-I2) on %s', (dialect) => {
  let db: Db;
  let other: Db;
  let bob: string;
  let secret: string;
  let recoveryCodes: string[];
  const clock = manualClock(start);

  beforeEach(async () => {
    clock.set(start);
    [db, other] = await freshDbPair(dialect);
    bob = await newUser(db, 'bob', clock);
    await db.kysely.updateTable('users').set({ email: 'bob@example.com' }).where('id', '=', bob).execute();
    const enrolled = await enrollTotp(db, bob, clock);
    secret = enrolled.secret;
    recoveryCodes = enrolled.result.ok ? enrolled.result.recoveryCodes! : [];
    clock.advance(step);
  });
  afterEach(async () => {
    await other.close();
    await db.close();
  });

  /** A code that is none of the three steps the server accepts now. */
  const wrongCode = (i = 0) => {
    const valid = new Set([-1, 0, 1].map((o) => totpCodeAt(secret, stepAt(clock.now()) + o)));
    for (let n = 100_000 + i * 7919; ; n++) if (!valid.has(String(n))) return String(n);
  };
  const validCode = () => totpCodeAt(secret, stepAt(clock.now()));
  const failures = async () => (await userThrottleState(db.kysely, { id: bob, username: 'bob' }, clock)).mfa.failures;
  const failureMails = async () =>
    (await db.kysely.selectFrom('mail_outbox').select(['kind', 'to_address']).where('user_id', '=', bob).where('kind', '=', 'second_factor_failures' as never).execute());
  /** bob signs in himself, from his laptop, and types the code his app shows. */
  const bobSignsIn = async () => {
    const { session } = await signedIn(db, bob, clock, bobsLaptop);
    return verifyTotpSignIn(db.kysely, session, validCode(), bobsLaptop, clock);
  };

  it('1. 50 parallel wrong codes on two instances: only the budget (5) is checked and counted, the 45 refused are not', async () => {
    const mallory = await signedIn(db, bob, clock, mallorysBox);
    const results = await Promise.all(
      Array.from({ length: 50 }, (_, i) => verifyTotpSignIn((i % 2 ? other : db).kysely, mallory.session, wrongCode(i), mallorysBox, clock)),
    );
    expect(results.filter((r) => !r.ok && r.reason === 'invalid')).toHaveLength(5);
    expect(results.filter((r) => !r.ok && r.reason === 'throttled')).toHaveLength(45);
    expect(await failures()).toBe(5);
  });

  it('2. bob, from his own pending sign-in, passes with a valid code while mallory’s is throttled', async () => {
    const mallory = await signedIn(db, bob, clock, mallorysBox);
    for (let i = 0; i < 6; i++) await verifyTotpSignIn(db.kysely, mallory.session, wrongCode(i), mallorysBox, clock);
    expect(await verifyTotpSignIn(db.kysely, mallory.session, validCode(), mallorysBox, clock)).toMatchObject({ ok: false, reason: 'throttled' });
    const bobs = await bobSignsIn();
    expect(bobs.ok).toBe(true);
    // His success cost him nothing: the charge was refunded.
    expect(await failures()).toBe(5);
  });

  it('3. mallory guessing again each time her wait ends never keeps bob out; a new pending sign-in does not reset her address', async () => {
    let mallory = await signedIn(db, bob, clock, mallorysBox);
    for (let i = 0; i < 5; i++) await verifyTotpSignIn(db.kysely, mallory.session, wrongCode(i), mallorysBox, clock);
    for (let round = 0; round < 12; round++) {
      const refused = await verifyTotpSignIn(db.kysely, mallory.session, wrongCode(round), mallorysBox, clock);
      expect(refused).toMatchObject({ ok: false, reason: 'throttled' });
      clock.advance(refused.ok ? 0 : refused.retryAfterMs!);
      expect(await verifyTotpSignIn(db.kysely, mallory.session, wrongCode(round), mallorysBox, clock)).toMatchObject({ ok: false, reason: 'invalid' });
      expect((await bobSignsIn()).ok).toBe(true);
      if (round === 4) {
        // She abandons her pending sign-in for a new one: her address (9) holds her back.
        mallory = await signedIn(db, bob, clock, mallorysBox);
      }
    }
    // The waits reached the hour and stayed there.
    const refused = await verifyTotpSignIn(db.kysely, mallory.session, wrongCode(), mallorysBox, clock);
    expect(refused).toMatchObject({ ok: false, reason: 'throttled', retryAfterMs: 3_600_000 });
  });

  it('4. an admin’s unlock is not undone by requests in flight: charges made before it never count after it', async () => {
    // Mallory's botnet reaches the daily cap (a new address and pending sign-in per guess).
    const bots = await Promise.all(Array.from({ length: 100 }, (_, i) => signedIn(db, bob, clock, botAddress(i))));
    for (const [i, bot] of bots.entries()) {
      expect(await verifyTotpSignIn((i % 2 ? other : db).kysely, bot.session, wrongCode(i), botAddress(i), clock)).toMatchObject({ ok: false, reason: 'invalid' });
    }
    expect(await bobSignsIn()).toMatchObject({ ok: false, reason: 'capped' });

    // One guess is admitted (charged) before the unlock and fails after it.
    const late = await signedIn(db, bob, clock, botAddress(500));
    const inFlight = await admitGuess(db.kysely, { userId: bob, kind: 'totp', sessionId: late.session.sessionId, ip: botAddress(500).ip }, clock.now());
    expect(inFlight.admitted).toBe(false); // at the cap: refused, and not counted
    const held = await signedIn(db, bob, clock, mallorysBox);
    for (let i = 0; i < 3; i++) await verifyTotpSignIn(db.kysely, held.session, wrongCode(i), mallorysBox, clock);

    // 30 guesses in flight on both instances while the admin unlocks.
    const racing = Promise.all(
      bots.slice(0, 30).map((bot, i) => verifyTotpSignIn((i % 2 ? other : db).kysely, bot.session, wrongCode(i), botAddress(i), clock)),
    );
    await unlockUser(db.kysely, bob, { ...cliActor }, clock);
    await racing;
    // Whatever raced, at most what was charged after the unlock counts: never the cap again.
    expect(await failures()).toBeLessThanOrEqual(30);
    expect((await bobSignsIn()).ok).toBe(true);

    // Deterministically: a charge admitted before an unlock and failed after it is gone.
    const admitted = await admitGuess(db.kysely, { userId: bob, kind: 'totp', sessionId: late.session.sessionId, ip: botAddress(500).ip }, clock.now());
    if (!admitted.admitted) throw new Error('not admitted');
    const before = await failures();
    await unlockUser(db.kysely, bob, { ...cliActor }, clock);
    await guessFailed(db.kysely, admitted.charge, clock.now());
    expect(before).toBeGreaterThan(0);
    expect(await failures()).toBe(0);
  });

  it('5. recovery codes have their own budget: TOTP guesses do not spend it, and recovery guesses do not spend TOTP’s', async () => {
    const mallory = await signedIn(db, bob, clock, mallorysBox);
    for (let i = 0; i < 5; i++) await verifyTotpSignIn(db.kysely, mallory.session, wrongCode(i), mallorysBox, clock);
    expect(await verifyTotpSignIn(db.kysely, mallory.session, wrongCode(), mallorysBox, clock)).toMatchObject({ reason: 'throttled' });
    // Her TOTP budget is spent; a recovery code from the same pending sign-in is still checked.
    expect(await verifyRecoveryCodeSignIn(db.kysely, mallory.session, 'aaaa-bbbb-cccc-dddd', mallorysBox, clock)).toEqual({ ok: false, reason: 'invalid' });

    const bobs = await signedIn(db, bob, clock, bobsLaptop);
    for (let i = 0; i < 5; i++) await verifyRecoveryCodeSignIn(db.kysely, bobs.session, `zzzz-zzzz-zzzz-zz${i}z`, bobsLaptop, clock);
    expect(await verifyRecoveryCodeSignIn(db.kysely, bobs.session, recoveryCodes[0], bobsLaptop, clock)).toMatchObject({ ok: false, reason: 'throttled' });
    // bob mistyped five recovery codes; his authenticator app still works from the same sign-in.
    expect((await verifyTotpSignIn(db.kysely, bobs.session, validCode(), bobsLaptop, clock)).ok).toBe(true);
  });

  it('6. the account cap: 100 failures a day refuse further codes of that kind, bob is told once by mail, and recovery codes still work', async () => {
    for (let i = 0; i < 100; i++) {
      const bot = await signedIn(db, bob, clock, botAddress(i));
      expect(await verifyTotpSignIn(db.kysely, bot.session, wrongCode(i), botAddress(i), clock)).toMatchObject({ ok: false, reason: 'invalid' });
      if (i === 8) expect(await failureMails()).toEqual([]);
      if (i === 9) expect(await failureMails()).toEqual([{ kind: 'second_factor_failures', to_address: 'bob@example.com' }]);
    }
    const next = await signedIn(db, bob, clock, botAddress(100));
    expect(await verifyTotpSignIn(db.kysely, next.session, wrongCode(), botAddress(100), clock)).toMatchObject({ ok: false, reason: 'capped' });
    expect(await bobSignsIn()).toMatchObject({ ok: false, reason: 'capped' });
    expect(await failures()).toBe(100);
    expect(await failureMails()).toHaveLength(1);

    const bobs = await signedIn(db, bob, clock, bobsLaptop);
    expect(await verifyRecoveryCodeSignIn(db.kysely, bobs.session, recoveryCodes[0], bobsLaptop, clock)).toMatchObject({ ok: true });

    // A rolling day later the cap has passed.
    clock.advance(24 * 60 * 60_000);
    expect((await bobSignsIn()).ok).toBe(true);
    // The day-old rows went with that admission; bob's own charge was refunded.
    expect(await db.kysely.selectFrom('mfa_guess_failures').select('id').execute()).toEqual([]);
    expect(await db.kysely.selectFrom('mfa_guess_sources').select('source').where('failures', '>', 0).execute()).toEqual([]);
  });
});
