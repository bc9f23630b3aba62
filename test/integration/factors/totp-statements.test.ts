import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Db } from '../../../db';
import { manualClock } from '../../../lib/clock';
import { sourceFailures } from '../../../lib/auth/mfa-throttle';
import { sessionSource } from '../../../lib/auth/mfa-budget';
import { stepAt, totpCodeAt, verifyTotpSignIn } from '../../../lib/factors/totp';
import { dialects, freshDb } from '../support/dialects';
import { probed } from '../support/probe';
import { enrollTotp, newUser, office, signedIn } from './support';

/**
 * What a TOTP sign-in costs the database (the verify bench's cost), counted by the benches'
 * probe as bench/verify.ts counts a verification: SQL statements, BEGIN and COMMIT included,
 * and session-row reads and writes. The session lookup happens before (lib/auth/current.ts);
 * this is everything after it, so it never reads the session row again.
 * Every code is first admitted by one transaction that charges the guess to its sources
 * (R-I2, lib/auth/mfa-throttle.ts): 7 statements. A success is then one read (the user's
 * factors) and one transaction: the step claimed, the session rotated (its one session-row
 * write), the charge refunded, and the audit entry — all of it or none. A refusal while held
 * back writes nothing but its audit entry. What each leaves in the database is checked on
 * both dialects.
 */

const start = Date.UTC(2026, 10, 2, 9, 0, 15);
const step = 30_000;
const admission = 7;

describe.each(dialects)('TOTP sign-in, what it costs the database, on %s', (dialect) => {
  let db: Db;
  let alice: string;
  const clock = manualClock(start);

  beforeEach(async () => {
    clock.set(start);
    db = await freshDb(dialect);
    alice = await newUser(db, 'alice', clock);
  });
  afterEach(async () => {
    await db.close();
  });

  let pending = '';
  const verify = async (code: string) => {
    const { session } = await signedIn(db, alice, clock);
    pending = session.sessionId;
    return probed(() => verifyTotpSignIn(db.kysely, session, code, office, clock));
  };
  /** The probe counts at better-sqlite3, where the benches run; on PostgreSQL it sees nothing. */
  const expectCost = (counts: { sql: number; sessionSelects: number; sessionWrites: number }, sql: number, sessionWrites: number) =>
    expect(counts).toMatchObject(dialect === 'sqlite' ? { sql, sessionSelects: 0, sessionWrites } : { sql: 0, sessionSelects: 0, sessionWrites: 0 });
  const charged = async () => (await db.kysely.selectFrom('mfa_guess_failures').select('id').execute()).length;

  it('a valid code: the admission, one read, then one transaction (claim, rotate, refund, audit)', async () => {
    const { secret } = await enrollTotp(db, alice, clock);
    clock.advance(step);
    const { result, counts } = await verify(totpCodeAt(secret, stepAt(clock.now())));
    expect(result.ok).toBe(true);
    expectCost(counts, admission + 1 + 7, 1);
    expect(await charged()).toBe(0);
    expect(await sourceFailures(db.kysely, alice, 'totp', sessionSource(pending), clock.now())).toBe(0);
  });

  it('a wrong code stays charged, and is audited', async () => {
    const { secret } = await enrollTotp(db, alice, clock);
    const valid = new Set([-1, 0, 1].map((o) => totpCodeAt(secret, stepAt(clock.now()) + o)));
    const wrong = ['000000', '111111'].find((c) => !valid.has(c))!;
    const { result, counts } = await verify(wrong);
    expect(result).toEqual({ ok: false, reason: 'invalid' });
    // The admission, the read, the audit entry: no session-row write.
    expectCost(counts, admission + 1 + 1, 0);
    expect(await charged()).toBe(1);
    expect(await sourceFailures(db.kysely, alice, 'totp', sessionSource(pending), clock.now())).toBe(1);
  });

  it('the right code while the source is held back claims nothing, is not counted, and is audited', async () => {
    const { secret } = await enrollTotp(db, alice, clock);
    const { session } = await signedIn(db, alice, clock);
    for (let i = 0; i < 5; i++) await verifyTotpSignIn(db.kysely, session, i % 2 ? '000000' : '999999', office, clock);
    const before = await db.kysely.selectFrom('factors').select(['last_used_step', 'last_used_at']).executeTakeFirstOrThrow();
    const failures = await charged();

    const { result, counts } = await probed(() => verifyTotpSignIn(db.kysely, session, totpCodeAt(secret, stepAt(clock.now()) + 1), office, clock));
    expect(result).toMatchObject({ ok: false, reason: 'throttled' });
    // An admission that charges nothing (two statements fewer), then only the audit entry.
    expectCost(counts, admission - 2 + 1, 0);
    expect(await db.kysely.selectFrom('factors').select(['last_used_step', 'last_used_at']).executeTakeFirstOrThrow()).toEqual(before);
    expect(await charged()).toBe(failures);
  });

  it('a replayed code is a charged guess, refused', async () => {
    const { secret } = await enrollTotp(db, alice, clock);
    clock.advance(step);
    const code = totpCodeAt(secret, stepAt(clock.now()));
    expect((await verify(code)).result.ok).toBe(true);
    const { result, counts } = await verify(code);
    // Refused, and told apart from a wrong code so the page can say "already used, wait for the next".
    expect(result).toEqual({ ok: false, reason: 'replayed' });
    // The claim of the spent step fails inside its transaction (3 statements); the session stays as it was.
    expectCost(counts, admission + 1 + 3 + 1, 0);
    expect(await charged()).toBe(1);
  });

  it('a success that cannot be audited leaves nothing behind: the step unspent, the session as it was', async () => {
    const { secret } = await enrollTotp(db, alice, clock);
    clock.advance(step);
    const { session } = await signedIn(db, alice, clock);
    const factorBefore = await db.kysely.selectFrom('factors').select(['last_used_step', 'last_used_at']).executeTakeFirstOrThrow();
    // The audit log refuses the entry (its table is gone), so the transaction must roll back.
    await db.kysely.schema.dropTable('audit_log').execute();
    await expect(verifyTotpSignIn(db.kysely, session, totpCodeAt(secret, stepAt(clock.now())), office, clock)).rejects.toThrow();
    expect(await db.kysely.selectFrom('factors').select(['last_used_step', 'last_used_at']).executeTakeFirstOrThrow()).toEqual(factorBefore);
    const row = await db.kysely.selectFrom('sessions').select(['id', 'amr']).where('id', '=', session.sessionId).executeTakeFirst();
    expect(row).toEqual({ id: session.sessionId, amr: JSON.stringify(session.amr) });
  });
});
