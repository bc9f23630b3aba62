import { randomUUID } from 'node:crypto';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Db } from '../../../db';
import type { UserState } from '../../../db/schema';
import { enrolledMethodsOfUser, getMfaRequirement } from '../../../db/queries/mfa';
import { loadMfaSettings } from '../../../db/queries/settings';
import { insertUser } from '../../../db/queries/users';
import { manualClock, oneDay, oneHour } from '../../../lib/clock';
import { ValidationError, NotFoundError } from '../../../lib/admin/errors';
import { createGroup, setGroupMembers } from '../../../lib/admin/groups';
import { requireMfaForUsers } from '../../../lib/admin/mfa-requirements';
import { encodeCursor } from '../../../lib/admin/cursor';
import {
  countUsersByStatus,
  getUserDetail,
  invalidateUserCounts,
  listUsers,
  userCountsRefresh,
  mfaStatusNames,
  type MfaStatusName,
  type UserSummary,
} from '../../../lib/admin/user-directory';
import { createUser } from '../../../lib/admin/users';
import { isEnrolled, mfaStatus } from '../../../lib/policy';
import { dialects, freshDb } from '../support/dialects';

const start = Date.UTC(2026, 10, 2, 9, 0, 0);
const seed = { id: null, label: 'seed', clientIp: null };
const admin = { id: 'admin-ada', label: 'ada.admin', clientIp: '198.51.100.7' };

/** A small deterministic PRNG so a failure names a population that can be rebuilt. */
function prng(seedValue: number) {
  let s = seedValue >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

describe.each(dialects)('the users directory (R-F1..R-F3) on %s', (dialect) => {
  let db: Db;
  const clock = manualClock(start);

  beforeEach(async () => {
    clock.set(start);
    db = await freshDb(dialect);
  });
  afterEach(async () => {
    await db.close();
  });

  async function user(username: string, state: UserState = 'active', extra: Record<string, unknown> = {}) {
    return (await createUser(db.kysely, { username, state, ...extra }, seed, clock)).id;
  }

  async function addFactor(userId: string, type: 'totp' | 'webauthn' | 'duo') {
    await db.kysely
      .insertInto('factors')
      .values({
        id: randomUUID(),
        user_id: userId,
        type,
        name: `${type} of ${userId.slice(0, 4)}`,
        created_at: clock.now(),
        last_used_at: null,
        secret_enc: type === 'totp' ? 'sealed-secret-never-shown' : null,
        last_used_step: null,
        credential_id: type === 'webauthn' ? randomUUID() : null,
        public_key: type === 'webauthn' ? 'public-key-never-shown' : null,
        sign_count: null,
        transports: null,
      })
      .execute();
  }

  async function setMethods(totp: boolean, webauthn: boolean, duo: boolean) {
    await db.kysely
      .updateTable('mfa_settings')
      .set({ totp_enabled: totp ? 1 : 0, webauthn_enabled: webauthn ? 1 : 0, duo_enabled: duo ? 1 : 0 })
      .execute();
  }

  /** Every page of a listing, following cursors. */
  async function all(filter: Parameters<typeof listUsers>[1], pageSize = 7): Promise<UserSummary[]> {
    const out: UserSummary[] = [];
    let cursor: string | undefined;
    for (let pages = 0; pages < 1000; pages++) {
      const page = await listUsers(db.kysely, { ...filter, limit: pageSize, ...(cursor ? { cursor } : {}) }, clock);
      out.push(...page.users);
      if (!page.nextCursor) return out;
      cursor = page.nextCursor;
    }
    throw new Error('too many pages');
  }

  /** The oracle: lib/policy mfaStatus() on data read with the gate's own queries. */
  async function oracleStatus(id: string, state: UserState): Promise<MfaStatusName> {
    const settings = await loadMfaSettings(db.kysely);
    const enrolled = isEnrolled(await enrolledMethodsOfUser(db.kysely, id), settings);
    return mfaStatus({ state }, await getMfaRequirement(db.kysely, id), enrolled, clock.now()).status;
  }

  /**
   * A varied population: every state, with and without a requirement (some rows with
   * required = 0), periods running, ended, ending exactly now and missing, and factors of
   * every type.
   */
  async function seedPopulation(size: number, seedValue: number) {
    const random = prng(seedValue);
    const pick = <T,>(items: readonly T[]) => items[Math.floor(random() * items.length)]!;
    const now = clock.now();
    const users: { id: string; state: UserState }[] = [];
    for (let i = 0; i < size; i++) {
      const state = pick(['active', 'active', 'staged', 'suspended'] as const);
      const id = randomUUID();
      const username = `${pick(['Ana', 'BO', 'cy', 'Dee'])}-${String(i).padStart(3, '0')}`;
      await db.kysely
        .insertInto('users')
        .values({
          id,
          username,
          username_lower: username.toLowerCase(),
          email: random() < 0.8 ? `user${i}@example.org` : null,
          display_name: random() < 0.5 ? `Person ${i}` : null,
          password_hash: null,
          state,
          role: 'user',
          created_at: now - Math.floor(random() * 100) * oneHour,
          activated_at: state === 'staged' ? null : now,
        })
        .execute();
      users.push({ id, state });
      const requirement = pick(['none', 'none', 'required', 'required', 'required', 'not_required_row'] as const);
      if (requirement !== 'none') {
        const ends = pick([now + oneDay, now - oneDay, now, now + 1, null] as const);
        await db.kysely
          .insertInto('mfa_requirements')
          .values({
            user_id: id,
            required: requirement === 'required' ? 1 : 0,
            enrollment_days: 7,
            period_starts_at: state === 'staged' || ends === null ? null : ends - 7 * oneDay,
            period_ends_at: state === 'staged' ? null : ends,
            set_by: null,
            set_at: now,
          })
          .execute();
      }
      const factors = pick([[], [], ['totp'], ['webauthn'], ['duo'], ['totp', 'webauthn']] as const);
      for (const type of factors) await addFactor(id, type);
    }
    return users;
  }

  describe('filters agree with mfaStatus() (R-F1, R-F2)', () => {
    const settingsCases = [
      { name: 'TOTP only (default)', methods: [true, false, false] },
      { name: 'TOTP and WebAuthn', methods: [true, true, false] },
      { name: 'Duo and WebAuthn', methods: [false, true, true] },
      { name: 'Duo only: nothing to set up, everyone enrolled', methods: [false, false, true] },
    ] as const;

    it.each(settingsCases)('on a seeded population of 90 users with $name', async ({ methods }) => {
      await setMethods(methods[0], methods[1], methods[2]);
      const population = await seedPopulation(90, 20261102);
      const expected = new Map<string, MfaStatusName>();
      for (const u of population) expected.set(u.id, await oracleStatus(u.id, u.state));

      // Every user's own column says what the oracle says.
      const everyone = await all({});
      expect(everyone).toHaveLength(population.length);
      for (const summary of everyone) expect(summary.mfa.status, summary.username).toBe(expected.get(summary.id));

      // Each status filter returns exactly the users of that status.
      for (const status of mfaStatusNames) {
        const listed = (await all({ mfaStatus: status })).map((u) => u.id).sort();
        const wanted = [...expected].filter(([, s]) => s === status).map(([id]) => id).sort();
        expect(listed, status).toEqual(wanted);
      }
      // Requirement filters split the population; combined with status they intersect.
      const required = new Set((await all({ required: true })).map((u) => u.id));
      const notRequired = new Set((await all({ required: false })).map((u) => u.id));
      expect(required.size + notRequired.size).toBe(population.length);
      for (const u of population) {
        const requirement = await getMfaRequirement(db.kysely, u.id);
        expect(required.has(u.id), u.id).toBe(requirement?.required === true);
      }
      const requiredInactive = await all({ required: true, mfaStatus: 'not_enrolled' });
      expect(requiredInactive).toEqual([]);

      // R-F2: active = enrolled, inactive = every other status; with "required", inactive is
      // the enrollment-period, expired and pre-enrollment users together.
      const active = (await all({ enrolled: true })).map((u) => u.id).sort();
      const inactive = (await all({ enrolled: false })).map((u) => u.id).sort();
      expect(active).toEqual([...expected].filter(([, s]) => s === 'enrolled').map(([id]) => id).sort());
      expect(inactive).toEqual([...expected].filter(([, s]) => s !== 'enrolled').map(([id]) => id).sort());
      const requiredAndInactive = (await all({ required: true, enrolled: false })).map((u) => u.id).sort();
      expect(requiredAndInactive).toEqual(
        [...expected].filter(([, s]) => s === 'enrollment_period' || s === 'expired' || s === 'pre_enrollment').map(([id]) => id).sort(),
      );

      // The header counts classify the same way.
      invalidateUserCounts(db.kysely);
      const counts = await countUsersByStatus(db.kysely, clock);
      expect(counts.total).toBe(population.length);
      expect(counts.required).toBe(required.size);
      for (const status of mfaStatusNames) {
        expect(counts.byStatus[status], status).toBe([...expected.values()].filter((s) => s === status).length);
      }
    });
  });

  describe('the named personas', () => {
    let ids: Record<string, string>;

    beforeEach(async () => {
      ids = {
        ada: await user('ada', 'active', { email: 'ada@example.org', displayName: 'Ada Lovelace' }),
        bob: await user('bob', 'active', { email: 'bob@example.org' }),
        cleo: await user('Cleo', 'active', { displayName: 'Cleo 100% Ready' }),
        dev: await user('dev', 'staged'),
        eve: await user('eve_ops', 'suspended', { email: 'EVE@Example.org' }),
      };
      await addFactor(ids.ada!, 'totp');
      await requireMfaForUsers(db.kysely, { userIds: [ids.bob, ids.cleo, ids.dev], enrollmentDays: 7 }, admin, clock);
      // Cleo's period ran out; Bob's still runs.
      clock.advance(3 * oneDay);
      await db.kysely.updateTable('mfa_requirements').set({ period_ends_at: clock.now() - 1 }).where('user_id', '=', ids.cleo!).execute();
    });

    it('shows each status with its dates (R-F1)', async () => {
      const page = await listUsers(db.kysely, {}, clock);
      const byName = Object.fromEntries(page.users.map((u) => [u.username, u.mfa]));
      expect(page.users.map((u) => u.username)).toEqual(['ada', 'bob', 'Cleo', 'dev', 'eve_ops']);
      expect(byName.ada).toMatchObject({ required: false, status: 'enrolled', enrollmentStartsAt: null });
      expect(byName.bob).toEqual({
        required: true,
        status: 'enrollment_period',
        enrollmentDays: 7,
        enrollmentStartsAt: start,
        enrollmentEndsAt: start + 7 * oneDay,
      });
      expect(byName.Cleo).toMatchObject({ status: 'expired', enrollmentEndsAt: clock.now() - 1 });
      expect(byName.dev).toEqual({ required: true, status: 'pre_enrollment', enrollmentDays: 7, enrollmentStartsAt: null, enrollmentEndsAt: null });
      expect(byName.eve_ops).toMatchObject({ required: false, status: 'not_enrolled' });
      expect(page.nextCursor).toBeNull();
    });

    it('a period ends at its end instant: the same filter moves Bob from period to expired', async () => {
      clock.set(start + 7 * oneDay - 1);
      expect((await listUsers(db.kysely, { mfaStatus: 'enrollment_period' }, clock)).users.map((u) => u.username)).toEqual(['bob']);
      clock.set(start + 7 * oneDay);
      expect((await listUsers(db.kysely, { mfaStatus: 'enrollment_period' }, clock)).users).toEqual([]);
      expect((await listUsers(db.kysely, { mfaStatus: 'expired' }, clock)).users.map((u) => u.username)).toEqual(['bob', 'Cleo']);
    });

    it('searches username, email and display name, case-insensitively', async () => {
      const names = async (q: string) => (await listUsers(db.kysely, { q }, clock)).users.map((u) => u.username);
      expect(await names('ADA')).toEqual(['ada']);
      expect(await names('lovelace')).toEqual(['ada']);
      expect(await names('eve@example')).toEqual(['eve_ops']);
      expect(await names('example.org')).toEqual(['ada', 'bob', 'eve_ops']);
      expect(await names('  cleo  ')).toEqual(['Cleo']);
    });

    it('treats % and _ in a search as the characters themselves', async () => {
      const names = async (q: string) => (await listUsers(db.kysely, { q }, clock)).users.map((u) => u.username);
      expect(await names('%')).toEqual(['Cleo']);
      expect(await names('100%')).toEqual(['Cleo']);
      expect(await names('_')).toEqual(['eve_ops']);
      expect(await names('e_o')).toEqual(['eve_ops']);
      expect(await names('b_b')).toEqual([]);
      expect(await names('\\')).toEqual([]);
    });

    it('filters by state and combines filters', async () => {
      expect((await listUsers(db.kysely, { state: 'staged' }, clock)).users.map((u) => u.username)).toEqual(['dev']);
      expect((await listUsers(db.kysely, { state: 'active', required: true }, clock)).users.map((u) => u.username)).toEqual(['bob', 'Cleo']);
      expect((await listUsers(db.kysely, { q: 'example', mfaStatus: 'not_enrolled' }, clock)).users.map((u) => u.username)).toEqual(['eve_ops']);
    });

    it('refuses filters and sorts it does not know, and bad values', async () => {
      for (const bad of [
        { role: 'admin' },
        { sort: 'password_hash' },
        { mfaStatus: 'active' },
        { limit: 0 },
        { limit: 201 },
        { limit: 2.5 },
        { q: 'x'.repeat(101) },
        { required: 'yes' },
      ]) {
        await expect(listUsers(db.kysely, bad as never, clock), JSON.stringify(bad)).rejects.toBeInstanceOf(ValidationError);
      }
    });

    it('pages by keyset in both sorts, each user exactly once', async () => {
      for (let i = 0; i < 12; i++) await user(`zed${i}`);
      clock.advance(oneHour);
      await user('zz-newest');
      const byName = await all({}, 4);
      expect(byName.map((u) => u.username)).toEqual([...byName.map((u) => u.username)].sort((a, b) => a.toLowerCase().localeCompare(b.toLowerCase())));
      expect(new Set(byName.map((u) => u.id)).size).toBe(18);
      const newest = await all({ sort: 'newest' }, 5);
      expect(newest).toHaveLength(18);
      expect(newest[0]!.username).toBe('zz-newest');
      for (let i = 1; i < newest.length; i++) expect(newest[i - 1]!.createdAt).toBeGreaterThanOrEqual(newest[i]!.createdAt);
      expect(new Set(newest.map((u) => u.id)).size).toBe(18);
    });

    it('refuses a garbled, forged or foreign cursor with a ValidationError', async () => {
      const first = await listUsers(db.kysely, { limit: 2 }, clock);
      expect(first.nextCursor).toMatch(/^[A-Za-z0-9_-]+$/);
      const forged = [
        'not a cursor!',
        '%%%',
        Buffer.from('{"v":1').toString('base64url'),
        encodeCursor({ v: 2, s: 'username', k: ['a', 'b'] }),
        encodeCursor({ v: 1, s: 'username', k: ['a'] }),
        encodeCursor({ v: 1, s: 'username', k: [1, 2] }),
        encodeCursor({ v: 1, s: 'username', k: ['a', 'b'], extra: "' or 1=1 --" }),
        encodeCursor({ v: 1, s: 'newest', k: [-1, 'b'] }),
        encodeCursor(null),
        'A'.repeat(600),
      ];
      for (const cursor of forged) {
        await expect(listUsers(db.kysely, { cursor }, clock), cursor).rejects.toBeInstanceOf(ValidationError);
      }
      // A username-order cursor means nothing in the newest-first list.
      await expect(listUsers(db.kysely, { sort: 'newest', cursor: first.nextCursor! }, clock)).rejects.toBeInstanceOf(ValidationError);
      // A well-formed cursor naming no real user is just a position.
      const after = await listUsers(db.kysely, { cursor: encodeCursor({ v: 1, s: 'username', k: ['c', ''] }) }, clock);
      expect(after.users.map((u) => u.username)).toEqual(['Cleo', 'dev', 'eve_ops']);
    });

    it("shows a user's detail: status, factors without secrets, groups (R-F3)", async () => {
      await addFactor(ids.ada!, 'webauthn');
      const { id: ops } = await createGroup(db.kysely, { name: 'Operations' }, admin, clock);
      const { id: eng } = await createGroup(db.kysely, { name: 'engineering' }, admin, clock);
      await setGroupMembers(db.kysely, ops, { userIds: [ids.ada] }, admin, clock);
      await setGroupMembers(db.kysely, eng, { userIds: [ids.ada] }, admin, clock);
      const detail = await getUserDetail(db.kysely, ids.ada!, clock);
      expect(detail).toMatchObject({ username: 'ada', email: 'ada@example.org', displayName: 'Ada Lovelace', state: 'active', role: 'user' });
      expect(detail.mfa.status).toBe('enrolled');
      expect(detail.mfa.factors.map((f) => f.type)).toEqual(['totp', 'webauthn']);
      for (const factor of detail.mfa.factors) expect(Object.keys(factor).sort()).toEqual(['createdAt', 'id', 'lastUsedAt', 'name', 'type']);
      expect(JSON.stringify(detail)).not.toContain('never-shown');
      expect(detail.groups.map((g) => g.name)).toEqual(['engineering', 'Operations']);
      await expect(getUserDetail(db.kysely, randomUUID(), clock)).rejects.toBeInstanceOf(NotFoundError);
    });

    it('counts per status: the first view and the view after a change here wait; otherwise stale-while-refresh, one count at a time', async () => {
      const first = await countUsersByStatus(db.kysely, clock);
      expect(first).toMatchObject({ total: 5, required: 3, notRequired: 2, asOf: clock.now() });
      expect(first.byStatus).toEqual({ enrolled: 1, not_enrolled: 1, enrollment_period: 1, expired: 1, pre_enrollment: 1 });
      expect(userCountsRefresh(db.kysely)).toBeNull();

      // Within 30 s: the same count, nothing running, even after another process (here: a
      // row written straight to the table) added a user.
      await insertUser(db.kysely, {
        id: randomUUID(),
        username: 'fay',
        email: null,
        displayName: null,
        passwordHash: null,
        state: 'active',
        role: 'user',
        createdAt: clock.now(),
      });
      clock.advance(29_000);
      expect(await countUsersByStatus(db.kysely, clock)).toBe(first);
      expect(userCountsRefresh(db.kysely)).toBeNull();

      // At 30 s the view still gets the old count at once, and ONE recount starts behind it.
      clock.advance(1_000);
      const recountAt = clock.now();
      expect(await countUsersByStatus(db.kysely, clock)).toBe(first);
      const refresh = userCountsRefresh(db.kysely);
      expect(refresh).not.toBeNull();
      expect(await countUsersByStatus(db.kysely, clock)).toBe(first);
      expect(userCountsRefresh(db.kysely)).toBe(refresh);
      const fresh = await refresh!;
      expect(fresh).toMatchObject({ total: 6, asOf: recountAt });
      expect(userCountsRefresh(db.kysely)).toBeNull();
      clock.advance(5_000);
      expect(await countUsersByStatus(db.kysely, clock)).toBe(fresh);

      // A change made here marks the count stale at once, whatever its age, and the next
      // view waits for a recount that sees it.
      await user('gus');
      expect((await countUsersByStatus(db.kysely, clock)).total).toBe(7);
      expect(userCountsRefresh(db.kysely)).toBeNull();
    });

    it('counts are exact as of their time: the recount after Bob\'s period ended has him expired', async () => {
      const end = start + 7 * oneDay;
      clock.set(end - 1);
      const before = await countUsersByStatus(db.kysely, clock);
      expect(before.byStatus).toMatchObject({ enrollment_period: 1, expired: 1 });
      clock.set(end - 1 + 30_000);
      expect(await countUsersByStatus(db.kysely, clock)).toBe(before);
      const after = await userCountsRefresh(db.kysely)!;
      expect(after).toMatchObject({ asOf: end - 1 + 30_000, total: 5 });
      expect(after.byStatus).toMatchObject({ enrollment_period: 0, expired: 2 });
    });

    it('a failed recount keeps serving the last count and is tried again at the next view', async () => {
      const first = await countUsersByStatus(db.kysely, clock);
      await db.kysely.schema.alterTable('mfa_requirements').renameTo('mfa_requirements_away').execute();
      clock.advance(30_000);
      expect(await countUsersByStatus(db.kysely, clock)).toBe(first);
      await expect(userCountsRefresh(db.kysely)!).rejects.toThrow();
      expect(userCountsRefresh(db.kysely)).toBeNull();
      await db.kysely.schema.alterTable('mfa_requirements_away').renameTo('mfa_requirements').execute();
      expect(await countUsersByStatus(db.kysely, clock)).toBe(first);
      expect((await userCountsRefresh(db.kysely)!).asOf).toBe(clock.now());
    });
  });
});
