import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Db } from '../../../db';
import { manualClock, oneMinute } from '../../../lib/clock';
import { validateSession } from '../../../lib/auth/sessions';
import { regenerateRecoveryCodes, verifyRecoveryCodeSignIn } from '../../../lib/factors/recovery-codes';
import { dialects } from '../support/dialects';
import { auditActions, enrollTotp, freshDbPair, newUser, office, signedIn } from './support';

const start = Date.UTC(2026, 10, 2, 9, 0, 15);

describe.each(dialects)('recovery codes on %s', (dialect) => {
  let db: Db;
  let other: Db;
  let alice: string;
  let codes: string[];
  const clock = manualClock(start);

  beforeEach(async () => {
    clock.set(start);
    [db, other] = await freshDbPair(dialect);
    alice = await newUser(db, 'alice', clock);
    codes = (await enrollTotp(db, alice, clock)).result.recoveryCodes!;
  });
  afterEach(async () => {
    await other.close();
    await db.close();
  });

  it('a code signs in once, as typed or tidied, and its use is audited', async () => {
    const first = await signedIn(db, alice, clock);
    const ok = await verifyRecoveryCodeSignIn(db.kysely, first.session, ` ${codes[0]!.toUpperCase()} `, office, clock);
    expect(ok).toMatchObject({ ok: true, remaining: 9 });
    if (!ok.ok) return;
    expect(await validateSession(db, ok.token, clock)).toMatchObject({ aal: 2, amr: [expect.objectContaining({ method: 'pwd' }), expect.objectContaining({ method: 'recovery' })] });

    const second = await signedIn(db, alice, clock);
    expect(await verifyRecoveryCodeSignIn(db.kysely, second.session, codes[0], office, clock)).toEqual({ ok: false, reason: 'invalid' });
    const used = await db.kysely.selectFrom('audit_log').select(['details', 'actor_id']).where('action', '=', 'mfa.recovery_code_used').execute();
    expect(used).toEqual([{ details: JSON.stringify({ remaining: 9 }), actor_id: alice }]);
    const notices = await db.kysely.selectFrom('mail_outbox').select(['kind', 'user_id']).where('kind', '=', 'recovery_code_used').execute();
    expect(notices).toEqual([{ kind: 'recovery_code_used', user_id: alice }]);
  });

  it('20 parallel uses of one code, on two instances, give exactly one sign-in (R-I3)', async () => {
    const sessions = await Promise.all(Array.from({ length: 20 }, () => signedIn(db, alice, clock)));
    const results = await Promise.all(
      sessions.map(({ session }, i) => verifyRecoveryCodeSignIn((i % 2 ? other : db).kysely, session, codes[1], office, clock)),
    );
    expect(results.filter((r) => r.ok)).toHaveLength(1);
    const row = await db.kysely.selectFrom('recovery_codes').select((eb) => eb.fn.countAll<number | string>().as('n')).where('used_at', 'is not', null).executeTakeFirstOrThrow();
    expect(Number(row.n)).toBe(1);
  });

  it('another user’s code, or garbage, does not work', async () => {
    const bob = await newUser(db, 'bob', clock);
    const bobsCodes = (await enrollTotp(db, bob, clock)).result.recoveryCodes!;
    const { session } = await signedIn(db, alice, clock);
    for (const input of [bobsCodes[0], '', ['x'], { a: 1 }, 'zzzz-zzzz-zzzz-zzzz']) {
      expect((await verifyRecoveryCodeSignIn(db.kysely, session, input, office, clock)).ok).toBe(false);
    }
  });

  it('regenerating needs a fresh second factor and voids the old set', async () => {
    const stale = await signedIn(db, alice, clock);
    expect(await regenerateRecoveryCodes(db.kysely, stale.session, office, clock)).toEqual({ ok: false, reason: 'not_fresh' });

    const { session: before } = await signedIn(db, alice, clock);
    const elevated = await verifyRecoveryCodeSignIn(db.kysely, before, codes[2], office, clock);
    if (!elevated.ok) throw new Error('recovery failed');
    clock.advance(4 * oneMinute);
    const session = (await validateSession(db, elevated.token, clock))!;
    const fresh = await regenerateRecoveryCodes(db.kysely, session, office, clock);
    expect(fresh).toMatchObject({ ok: true });
    if (!fresh.ok) return;
    expect(fresh.codes).toHaveLength(10);
    expect(fresh.codes.some((c) => codes.includes(c))).toBe(false);
    expect(await db.kysely.selectFrom('recovery_codes').selectAll().execute()).toHaveLength(10);

    const later = await signedIn(db, alice, clock);
    expect((await verifyRecoveryCodeSignIn(db.kysely, later.session, codes[3], office, clock)).ok).toBe(false);
    expect((await verifyRecoveryCodeSignIn(db.kysely, later.session, fresh.codes[0], office, clock)).ok).toBe(true);
    expect(await auditActions(db, 'mfa.recovery_codes_regenerated')).toHaveLength(1);
  });
});
