import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Db } from '../../../db';
import { manualClock, oneMinute, oneHour } from '../../../lib/clock';
import { createUser } from '../../../lib/admin/users';
import { cliActor } from '../../../lib/admin/actor';
import { signInWithPassword } from '../../../lib/auth/sign-in';
import { elevateSession, sessionIdleTimeoutMs, validateSession } from '../../../lib/auth/sessions';
import { sessionIdOf } from '../../../lib/auth/session-token';
import { dialects, freshDb } from '../support/dialects';
import { metrics } from '../../../lib/metrics/registry';

const start = Date.UTC(2026, 10, 2, 9, 0, 0);
const office = { ip: '198.51.100.7', userAgent: 'Mozilla/5.0 test' };

/** The process's counter values by one label (/metrics), to compare before and after. */
async function counted(name: string, label: string): Promise<Record<string, number>> {
  const found = (await metrics().registry.getMetricsAsJSON()).find((m) => m.name === name);
  return Object.fromEntries((found?.values ?? []).map((v) => [String(v.labels[label]), v.value]));
}

describe.each(dialects)('password sign-in and session records on %s', (dialect) => {
  let db: Db;
  const clock = manualClock(start);

  beforeEach(async () => {
    clock.set(start);
    db = await freshDb(dialect);
    await createUser(db.kysely, { username: 'Alice', password: 'correct horse battery', state: 'active' }, cliActor, clock);
    await createUser(db.kysely, { username: 'sam', password: 'suspended passphrase', state: 'suspended' }, cliActor, clock);
    await createUser(db.kysely, { username: 'stella', password: 'staged passphrase 1', state: 'staged' }, cliActor, clock);
  });
  afterEach(async () => {
    await db.close();
  });

  it('Alice signs in (username case-insensitive) and gets a session row keyed by the token hash', async () => {
    const result = await signInWithPassword(db.kysely, { username: 'ALICE', password: 'correct horse battery' }, office, clock);
    expect(result.ok).toBe(true);
    if (!result.ok) return;
    expect(result.token).toMatch(/^[A-Za-z0-9_-]{43}$/);
    const row = await db.kysely.selectFrom('sessions').selectAll().executeTakeFirstOrThrow();
    expect(row.id).toBe(sessionIdOf(result.token));
    expect(row.id).not.toBe(result.token);
    expect(JSON.parse(row.amr)).toEqual([{ method: 'pwd', at: clock.now() }]);
    const session = await validateSession(db, result.token, clock);
    expect(session?.username).toBe('Alice');
  });

  it('unknown user and wrong password get the same answer', async () => {
    const unknown = await signInWithPassword(db.kysely, { username: 'nobody', password: 'whatever1' }, office, clock);
    const wrong = await signInWithPassword(db.kysely, { username: 'alice', password: 'wrong horse' }, office, clock);
    expect(unknown).toEqual({ ok: false, reason: 'invalid' });
    expect(wrong).toEqual({ ok: false, reason: 'invalid' });
  });

  it.each([
    ['an array', { username: ['alice'], password: 'correct horse battery' }],
    ['an object', { username: { $ne: 1 }, password: 'correct horse battery' }],
    ['a missing password', { username: 'alice' }],
    ['a huge password', { username: 'alice', password: 'x'.repeat(5000) }],
  ])('refuses %s as invalid, never throwing', async (_name, input) => {
    await expect(signInWithPassword(db.kysely, input, office, clock)).resolves.toEqual({ ok: false, reason: 'invalid' });
  });

  it('Sam (suspended) and Stella (staged, R-D7) cannot sign in even with the right password', async () => {
    expect(await signInWithPassword(db.kysely, { username: 'sam', password: 'suspended passphrase' }, office, clock)).toEqual({
      ok: false,
      reason: 'not_allowed',
    });
    expect(await signInWithPassword(db.kysely, { username: 'stella', password: 'staged passphrase 1' }, office, clock)).toEqual({
      ok: false,
      reason: 'not_allowed',
    });
    expect(await db.kysely.selectFrom('sessions').selectAll().execute()).toHaveLength(0);
  });

  it('Mallory guessing Alice’s password is slowed down, and Alice gets in once the short wait is over (R-I2)', async () => {
    const signIns = await counted('portcullis_sign_ins_total', 'outcome');
    const blocks = await counted('portcullis_throttle_blocks_total', 'kind');
    for (let i = 0; i < 6; i++) {
      await signInWithPassword(db.kysely, { username: 'alice', password: `guess-${i}` }, { ...office, ip: '203.0.113.66' }, clock);
    }
    const throttled = await signInWithPassword(db.kysely, { username: 'alice', password: 'correct horse battery' }, office, clock);
    expect(throttled).toMatchObject({ ok: false, reason: 'throttled' });
    clock.advance(oneMinute + 1);
    const later = await signInWithPassword(db.kysely, { username: 'alice', password: 'correct horse battery' }, office, clock);
    expect(later.ok).toBe(true);
    // For the operator (/metrics): each outcome counted, and the block by its kind.
    const moved = (now: Record<string, number>, before: Record<string, number>, key: string) => (now[key] ?? 0) - (before[key] ?? 0);
    const signInsNow = await counted('portcullis_sign_ins_total', 'outcome');
    expect(['invalid', 'throttled', 'ok'].map((o) => moved(signInsNow, signIns, o))).toEqual([6, 1, 1]);
    expect(moved(await counted('portcullis_throttle_blocks_total', 'kind'), blocks, 'sign_in_account')).toBe(1);
  });

  it('parallel wrong guesses are each counted, atomically, until the backoff starts refusing them', async () => {
    await Promise.all(
      Array.from({ length: 20 }, (_, i) =>
        signInWithPassword(db.kysely, { username: 'alice', password: `parallel-${i}` }, office, clock),
      ),
    );
    const row = await db.kysely.selectFrom('auth_throttle').selectAll().where('key', '=', 'user:alice').executeTakeFirstOrThrow();
    // Some guesses arrive after the backoff began and are refused before counting.
    expect(row.failures).toBeGreaterThanOrEqual(6);
    const ipRow = await db.kysely.selectFrom('auth_throttle').selectAll().where('key', '=', `ip:${office.ip}`).executeTakeFirstOrThrow();
    // The address counts distinct failing accounts (R-I2: an office behind one NAT address).
    expect(ipRow.failures).toBe(1);
  });

  it('a session row deleted in the database is refused on the next lookup', async () => {
    const result = await signInWithPassword(db.kysely, { username: 'alice', password: 'correct horse battery' }, office, clock);
    if (!result.ok) throw new Error('sign-in failed');
    await db.kysely.deleteFrom('sessions').execute();
    expect(await validateSession(db, result.token, clock)).toBeNull();
  });

  it('sessions expire when idle, and suspension applies at the next request', async () => {
    const result = await signInWithPassword(db.kysely, { username: 'alice', password: 'correct horse battery' }, office, clock);
    if (!result.ok) throw new Error('sign-in failed');
    clock.advance(sessionIdleTimeoutMs - 1);
    expect(await validateSession(db, result.token, clock)).not.toBeNull();
    await db.kysely.updateTable('users').set({ state: 'suspended' }).execute();
    expect(await validateSession(db, result.token, clock)).toBeNull();
    await db.kysely.updateTable('users').set({ state: 'active' }).execute();
    clock.advance(oneHour);
    expect(await validateSession(db, result.token, clock)).toBeNull();
  });

  it('passing a second factor rotates the session id: the old token stops working', async () => {
    const result = await signInWithPassword(db.kysely, { username: 'alice', password: 'correct horse battery' }, office, clock);
    if (!result.ok) throw new Error('sign-in failed');
    const before = await validateSession(db, result.token, clock);
    const newToken = await elevateSession(db.kysely, before!, 'totp', clock);
    expect(newToken).not.toBeNull();
    expect(await validateSession(db, result.token, clock)).toBeNull();
    const after = await validateSession(db, newToken!, clock);
    expect(after).toMatchObject({ aal: 2, amr: [expect.objectContaining({ method: 'pwd' }), expect.objectContaining({ method: 'totp' })] });
  });

  it('a wrong password and a sign-in are both in the audit log', async () => {
    await signInWithPassword(db.kysely, { username: 'alice', password: 'nope nope' }, office, clock);
    await signInWithPassword(db.kysely, { username: 'alice', password: 'correct horse battery' }, office, clock);
    const actions = (await db.kysely.selectFrom('audit_log').select(['action', 'client_ip']).orderBy('id').execute()).map((r) => r.action);
    expect(actions).toEqual(['user.created', 'user.created', 'user.created', 'auth.sign_in_failed', 'auth.signed_in']);
  });
});
