import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Db } from '../../../db';
import { getAccessFacts } from '../../../db/queries/access';
import { enrolledMethodsOfUser, getMfaRequirement } from '../../../db/queries/mfa';
import { loadMfaSettings } from '../../../db/queries/settings';
import { manualClock, oneMinute } from '../../../lib/clock';
import { cliActor } from '../../../lib/admin/actor';
import { requireMfaForUsers } from '../../../lib/admin/mfa-requirements';
import { createPolicy } from '../../../lib/admin/policies';
import { elevateSession, validateSession, type SessionContext } from '../../../lib/auth/sessions';
import { sessionIdOf } from '../../../lib/auth/session-token';
import { isEnrolled, mfaStatus } from '../../../lib/policy';
import { removeFactor, renameFactor, securityOverview } from '../../../lib/factors/factors';
import { dialects } from '../support/dialects';
import { auditActions, enrollTotp, freshDbPair, newUser, office, signedIn } from './support';

const start = Date.UTC(2026, 10, 2, 9, 0, 15);

describe.each(dialects)('self-service factors on %s', (dialect) => {
  let db: Db;
  let other: Db;
  let alice: string;
  const clock = manualClock(start);

  /** A session that passed a second factor just now. */
  async function freshSession(userId: string): Promise<SessionContext> {
    const { session } = await signedIn(db, userId, clock);
    const token = await elevateSession(db.kysely, session, 'totp', clock);
    return (await validateSession(db, token!, clock))!;
  }

  beforeEach(async () => {
    clock.set(start);
    [db, other] = await freshDbPair(dialect);
    alice = await newUser(db, 'alice', clock);
  });
  afterEach(async () => {
    await other.close();
    await db.close();
  });

  it('lists factors with type, name, created and last used; renames them (audited)', async () => {
    const { pending } = await enrollTotp(db, alice, clock);
    const session = await freshSession(alice);
    expect(await renameFactor(db.kysely, session, { factorId: pending.id, name: '  Pixel 9  ' }, office, clock)).toEqual({ ok: true });
    const { factors, recoveryCodes } = await securityOverview(db.kysely, alice);
    expect(factors).toEqual([{ id: pending.id, type: 'totp', name: 'Pixel 9', createdAt: start, lastUsedAt: null }]);
    expect(recoveryCodes).toEqual({ total: 10, unused: 10 });
    expect(await auditActions(db, 'mfa.factor_renamed')).toHaveLength(1);
  });

  it.each([
    ['an empty name', { name: '   ' }],
    ['a long name', { name: 'x'.repeat(65) }],
    ['a control character', { name: 'a\u0000b' }],
    ['an array', { name: ['a', 'b'] }],
  ])('refuses to rename to %s', async (_name, patch) => {
    const { pending } = await enrollTotp(db, alice, clock);
    const session = await freshSession(alice);
    expect(await renameFactor(db.kysely, session, { factorId: pending.id, ...patch }, office, clock)).toMatchObject({ ok: false, reason: 'invalid' });
  });

  it('nobody renames or removes someone else’s factor', async () => {
    const bob = await newUser(db, 'bob', clock);
    const bobs = await enrollTotp(db, bob, clock);
    await enrollTotp(db, alice, clock);
    const session = await freshSession(alice);
    expect(await renameFactor(db.kysely, session, { factorId: bobs.pending.id, name: 'mine' }, office, clock)).toEqual({ ok: false, reason: 'not_found' });
    expect(await removeFactor(db.kysely, session, { factorId: bobs.pending.id }, office, clock)).toEqual({ ok: false, reason: 'not_found' });
    expect(await securityOverview(db.kysely, bob)).toMatchObject({ factors: [{ id: bobs.pending.id }] });
  });

  it('removal needs a second factor from the last five minutes', async () => {
    const { pending } = await enrollTotp(db, alice, clock);
    const passwordOnly = (await signedIn(db, alice, clock)).session;
    expect(await removeFactor(db.kysely, passwordOnly, { factorId: pending.id }, office, clock)).toEqual({ ok: false, reason: 'not_fresh' });
    const session = await freshSession(alice);
    clock.advance(5 * oneMinute + 1);
    expect(await removeFactor(db.kysely, session, { factorId: pending.id }, office, clock)).toEqual({ ok: false, reason: 'not_fresh' });
  });

  it('the last factor stays while MFA is required (individual requirement); another may go', async () => {
    await requireMfaForUsers(db.kysely, { userIds: [alice], enrollmentDays: 7 }, cliActor, clock);
    const first = await enrollTotp(db, alice, clock);
    const second = await enrollTotp(db, alice, clock);
    const session = await freshSession(alice);
    expect(await removeFactor(db.kysely, session, { factorId: first.pending.id }, office, clock)).toEqual({ ok: true });
    expect(await removeFactor(db.kysely, session, { factorId: second.pending.id }, office, clock)).toEqual({
      ok: false,
      reason: 'last_factor_required',
    });
    expect((await securityOverview(db.kysely, alice)).factors.map((f) => f.id)).toEqual([second.pending.id]);
    expect(await auditActions(db, 'mfa.factor_removed')).toHaveLength(1);
  });

  it('the last factor stays while a policy requires MFA (R-C7)', async () => {
    await createPolicy(db.kysely, { name: 'MFA for everyone', enabled: true, resources: ['portal'], action: 'require_mfa' }, cliActor, clock);
    const { pending } = await enrollTotp(db, alice, clock);
    const session = await freshSession(alice);
    expect(await removeFactor(db.kysely, session, { factorId: pending.id }, office, clock)).toMatchObject({ reason: 'last_factor_required' });
  });

  it('without a requirement the last factor may go, and its recovery codes with it', async () => {
    const { pending } = await enrollTotp(db, alice, clock);
    const session = await freshSession(alice);
    expect(await removeFactor(db.kysely, session, { factorId: pending.id }, office, clock)).toEqual({ ok: true });
    expect(await securityOverview(db.kysely, alice)).toEqual({ factors: [], recoveryCodes: { total: 0, unused: 0 } });
  });

  it('mfaStatus says enrolled once TOTP is verified, and the gate sees the factor (R-F1)', async () => {
    await requireMfaForUsers(db.kysely, { userIds: [alice], enrollmentDays: 7 }, cliActor, clock);
    const settings = await loadMfaSettings(db.kysely);
    const status = async () =>
      mfaStatus(
        { state: 'active' },
        await getMfaRequirement(db.kysely, alice),
        isEnrolled(await enrolledMethodsOfUser(db.kysely, alice), settings),
        clock.now(),
      ).status;
    expect(await status()).toBe('enrollment_period');
    const { token } = await signedIn(db, alice, clock);
    await enrollTotp(db, alice, clock);
    expect(await status()).toBe('enrolled');
    clock.advance(30 * 86_400_000); // long after the period: still enrolled (R-B6)
    expect(await status()).toBe('enrolled');
    const facts = await getAccessFacts(db.kysely, db.dialect, sessionIdOf(token));
    expect(facts?.factor_types).toBe('totp');
  });
});
