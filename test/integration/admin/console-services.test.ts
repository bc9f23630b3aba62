import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Db } from '../../../db';
import { manualClock, oneDay, oneMinute } from '../../../lib/clock';
import type { Actor } from '../../../lib/admin/actor';
import { createUser } from '../../../lib/admin/users';
import { ConflictError, NotFoundError, ValidationError } from '../../../lib/admin/errors';
import { authenticateApiKey, createApiKey, listApiKeys, revokeApiKey } from '../../../lib/admin/api-keys';
import { createGroup } from '../../../lib/admin/groups';
import { addGroupMembersByUsername, getGroupWithMembers, removeGroupMembers } from '../../../lib/admin/group-members';
import { revokeUserSessions } from '../../../lib/admin/sessions';
import { unlockUser, userThrottleState } from '../../../lib/admin/unlock';
import { removeUserFactor } from '../../../lib/admin/user-factors';
import { changeUserRole, lastAdminMessage } from '../../../lib/admin/user-role';
import { accountKey, accountThrottle, countFailure } from '../../../lib/auth/throttle';
import { admitGuess, guessFailed, guessState } from '../../../lib/auth/mfa-throttle';
import { createSession, validateSession } from '../../../lib/auth/sessions';
import { insertTotpFactor } from '../../../db/queries/factors';
import { recoveryCodeCounts, replaceRecoveryCodes } from '../../../db/queries/recovery-codes';
import { getUserById } from '../../../db/queries/users';
import { dialects, freshDb } from '../support/dialects';

/*
 * The console's own services (lib/admin/{unlock,sessions,user-role,user-factors,
 * group-members}.ts and the API key list/revoke): each change audited with the admin, the
 * target and the address, in the same transaction. Personas: Ada the admin; Bob, who
 * guessed wrong too often and lost his phone; Cleo, a second admin.
 */

const start = Date.UTC(2026, 10, 2, 9, 0, 0);
const ada: Actor = { id: 'admin-ada', label: 'ada', clientIp: '198.51.100.7' };
const seed: Actor = { id: null, label: 'seed', clientIp: null };

describe.each(dialects)('console services on %s', (dialect) => {
  let db: Db;
  const clock = manualClock(start);
  let adaId: string;
  let bob: string;
  let cleo: string;

  async function audit(action: string) {
    return db.kysely.selectFrom('audit_log').selectAll().where('action', '=', action).orderBy('id').execute();
  }

  beforeEach(async () => {
    clock.set(start);
    db = await freshDb(dialect);
    adaId = (await createUser(db.kysely, { username: 'ada', state: 'active', role: 'admin' }, seed, clock)).id;
    bob = (await createUser(db.kysely, { username: 'Bob', state: 'active', email: 'bob@example.test' }, seed, clock)).id;
    cleo = (await createUser(db.kysely, { username: 'cleo', state: 'active' }, seed, clock)).id;
  });
  afterEach(async () => {
    await db.close();
  });

  it('unlock clears Bob’s password and second-factor throttles, not his address’s, and audits the counts (R-I2)', async () => {
    const k = db.kysely;
    for (let i = 0; i < 8; i++) await countFailure(k, accountKey('bob'), accountThrottle, clock.now());
    await countFailure(k, 'ip:203.0.113.9', accountThrottle, clock.now());
    for (let i = 0; i < 6; i++) {
      if (i > 0) clock.advance(oneMinute);
      const admitted = await admitGuess(k, { userId: bob, kind: 'totp', sessionId: 'mallory-pending', ip: '203.0.113.9' }, clock.now());
      if (admitted.admitted) await guessFailed(k, admitted.charge, clock.now());
    }
    const before = await userThrottleState(k, { id: bob, username: 'Bob' }, clock);
    expect(before.throttled).toBe(true);
    expect(before.signIn.failures).toBe(8);
    expect(before.mfa.retryAfterMs).toBeGreaterThan(0);

    expect(await unlockUser(k, bob, ada, clock)).toEqual({ signInFailures: 8, mfaFailures: before.mfa.failures });
    const after = await userThrottleState(k, { id: bob, username: 'Bob' }, clock);
    expect(after).toEqual({ signIn: { failures: 0, retryAfterMs: 0 }, mfa: { failures: 0, throttledSources: 0, retryAfterMs: 0, capped: [] }, throttled: false });
    expect((await guessState(k, bob, clock.now())).dayFailures.totp).toBe(0);
    // The address that guessed keeps its count.
    expect(await k.selectFrom('auth_throttle').select('key').execute()).toEqual([{ key: 'ip:203.0.113.9' }]);

    const [entry] = await audit('user.unlocked');
    expect(entry).toMatchObject({ actor_id: 'admin-ada', actor_label: 'ada', target_type: 'user', target_id: bob, client_ip: '198.51.100.7' });
    expect(JSON.parse(entry!.details!)).toMatchObject({ signInFailures: 8 });
    await expect(unlockUser(k, 'nobody', ada, clock)).rejects.toThrow(NotFoundError);
  });

  it('revoking Bob’s sessions ends every one at once; others keep theirs', async () => {
    const k = db.kysely;
    const client = { ip: '203.0.113.5', userAgent: 'test' };
    const phone = await createSession(k, bob, client, clock);
    const laptop = await createSession(k, bob, client, clock);
    const cleos = await createSession(k, cleo, client, clock);
    expect(await revokeUserSessions(k, bob, ada, clock)).toEqual({ revoked: 2 });
    expect(await validateSession(db, phone, clock)).toBeNull();
    expect(await validateSession(db, laptop, clock)).toBeNull();
    expect(await validateSession(db, cleos, clock)).not.toBeNull();
    const [entry] = await audit('user.sessions_revoked');
    expect(entry).toMatchObject({ actor_label: 'ada', target_id: bob, client_ip: '198.51.100.7' });
    expect(JSON.parse(entry!.details!)).toEqual({ revoked: 2 });
    await expect(revokeUserSessions(k, 'nobody', ada, clock)).rejects.toThrow(NotFoundError);
  });

  it('roles change only through changeUserRole: audited, and never leaving the console without an admin', async () => {
    const k = db.kysely;
    expect(await changeUserRole(k, cleo, 'admin', ada, clock)).toEqual({ changed: true, role: 'admin' });
    expect(await changeUserRole(k, cleo, 'admin', ada, clock)).toEqual({ changed: false, role: 'admin' });
    expect(await changeUserRole(k, adaId, 'user', ada, clock)).toEqual({ changed: true, role: 'user' });
    const error = await changeUserRole(k, cleo, 'user', ada, clock).catch((e) => e);
    expect(error).toBeInstanceOf(ConflictError);
    expect((error as ConflictError).message).toBe(lastAdminMessage);
    expect((await getUserById(k, cleo))!.role).toBe('admin');
    await expect(changeUserRole(k, bob, 'root', ada, clock)).rejects.toThrow(ValidationError);
    await expect(changeUserRole(k, 'nobody', 'admin', ada, clock)).rejects.toThrow(NotFoundError);
    const entries = await audit('user.role_changed');
    expect(entries.map((e) => [e.target_id, JSON.parse(e.details!)])).toEqual([
      [cleo, { from: 'user', to: 'admin' }],
      [adaId, { from: 'admin', to: 'user' }],
    ]);
  });

  it('an admin removes Bob’s lost phone; with his last factor gone his recovery codes go too, and he is emailed', async () => {
    const k = db.kysely;
    const factor = (id: string, name: string) =>
      insertTotpFactor(k, { id, userId: bob, name, secretSealed: 'sealed', enrolledStep: 1, now: clock.now() });
    await factor('phone', 'Phone');
    await factor('tablet', 'Tablet');
    await replaceRecoveryCodes(k, bob, [{ id: 'rc1', hash: 'h1' }], clock.now());

    expect(await removeUserFactor(k, bob, 'phone', ada, clock)).toEqual({ type: 'totp', name: 'Phone', lastFactor: false });
    expect((await recoveryCodeCounts(k, bob)).total).toBe(1);
    // A factor id of someone else's (or of nobody) is not found, and nothing goes.
    await expect(removeUserFactor(k, cleo, 'tablet', ada, clock)).rejects.toThrow(NotFoundError);
    clock.advance(oneMinute);
    expect(await removeUserFactor(k, bob, 'tablet', ada, clock)).toEqual({ type: 'totp', name: 'Tablet', lastFactor: true });
    expect((await recoveryCodeCounts(k, bob)).total).toBe(0);

    const entries = await audit('mfa.factor_removed');
    expect(entries).toHaveLength(2);
    expect(entries[1]).toMatchObject({ actor_label: 'ada', target_id: bob, client_ip: '198.51.100.7' });
    expect(JSON.parse(entries[1]!.details!)).toMatchObject({ factorId: 'tablet', lastFactor: true, byAdmin: true });
    const mail = await k.selectFrom('mail_outbox').select(['kind', 'to_address']).where('user_id', '=', bob).execute();
    expect(mail).toEqual([
      { kind: 'factor_removed', to_address: 'bob@example.test' },
      { kind: 'factor_removed', to_address: 'bob@example.test' },
    ]);
  });

  it('API keys are listed without their secret and revoked at once', async () => {
    const k = db.kysely;
    const { id, key } = await createApiKey(k, { name: 'provisioning', role: 'admin' }, ada, clock);
    const [listed] = await listApiKeys(k);
    expect(listed).toEqual({
      id,
      name: 'provisioning',
      prefix: key.slice(0, 10),
      role: 'admin',
      createdAt: start,
      createdBy: 'admin-ada',
      lastUsedAt: null,
      revokedAt: null,
      expiresAt: null,
    });
    expect(JSON.stringify(listed)).not.toContain(key);
    expect(await authenticateApiKey(k, key, clock)).toBeDefined();
    clock.advance(oneMinute);
    await revokeApiKey(k, id, ada, clock);
    expect(await authenticateApiKey(k, key, clock)).toBeUndefined();
    expect((await listApiKeys(k))[0]!.revokedAt).toBe(start + oneMinute);
    await expect(revokeApiKey(k, id, ada, clock)).rejects.toThrow(NotFoundError);
    expect(await audit('api_key.revoked')).toHaveLength(1);
  });

  it('a new API key reads only unless Ada asks for admin access, and may be given an expiry that the key check enforces', async () => {
    const k = db.kysely;
    const dashboards = await createApiKey(k, { name: 'dashboards', expiresInDays: 30 }, ada, clock);
    expect(dashboards).toMatchObject({ role: 'read', expiresAt: start + 30 * oneDay });
    const [listed] = await listApiKeys(k);
    expect(listed).toMatchObject({ name: 'dashboards', role: 'read', expiresAt: start + 30 * oneDay });
    const [created] = await audit('api_key.created');
    expect(JSON.parse(created!.details!)).toEqual({ name: 'dashboards', role: 'read', expiresAt: start + 30 * oneDay });

    // Live until the last millisecond before its expiry, refused from that instant on.
    clock.set(start + 30 * oneDay - 1);
    expect(await authenticateApiKey(k, dashboards.key, clock)).toMatchObject({ name: 'dashboards', role: 'read' });
    expect((await listApiKeys(k))[0]!.lastUsedAt).toBe(start + 30 * oneDay - 1);
    clock.set(start + 30 * oneDay);
    expect(await authenticateApiKey(k, dashboards.key, clock)).toBeUndefined();
    expect((await listApiKeys(k))[0]!.lastUsedAt).toBe(start + 30 * oneDay - 1);

    // A key without an expiry keeps working.
    const forever = await createApiKey(k, { name: 'provisioning', role: 'admin' }, ada, clock);
    expect(forever.expiresAt).toBeNull();
    clock.advance(3650 * oneDay);
    expect(await authenticateApiKey(k, forever.key, clock)).toMatchObject({ role: 'admin' });

    // Expiries are whole days from 1 to 730; roles are admin or read.
    for (const bad of [0, 731, 1.5, '30', -1]) {
      await expect(createApiKey(k, { name: 'bad', expiresInDays: bad }, ada, clock), String(bad)).rejects.toThrow(ValidationError);
    }
    await expect(createApiKey(k, { name: 'bad', role: 'owner' }, ada, clock)).rejects.toThrow(ValidationError);
    expect(await listApiKeys(k)).toHaveLength(2);
  });

  it('group members are added by username (case-insensitive; an unknown name changes nothing) and removed by tick', async () => {
    const k = db.kysely;
    const group = await createGroup(k, { name: 'Contractors' }, ada, clock);
    expect(await addGroupMembersByUsername(k, group.id, ['bob', 'CLEO', 'bob'], ada, clock)).toEqual({ added: 2, count: 2 });
    const error = await addGroupMembersByUsername(k, group.id, ['ada', 'zed'], ada, clock).catch((e) => e);
    expect(error).toBeInstanceOf(ValidationError);
    expect((error as ValidationError).fieldErrors.usernames![0]).toContain('“zed”');
    expect((await getGroupWithMembers(k, group.id)).members.map((m) => m.username)).toEqual(['Bob', 'cleo']);
    expect(await removeGroupMembers(k, group.id, [bob], ada, clock)).toEqual({ removed: 1, count: 1 });
    expect((await getGroupWithMembers(k, group.id)).members.map((m) => m.username)).toEqual(['cleo']);
    await expect(getGroupWithMembers(k, 'nope')).rejects.toThrow(NotFoundError);
    expect(await audit('group.members_set')).toHaveLength(2);
  });
});
