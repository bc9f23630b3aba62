import { randomUUID } from 'node:crypto';
import fs from 'node:fs';
import { Migrator, sql } from 'kysely';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createDb, migrateToLatest, type Db } from '../../../db';
import { migrations } from '../../../db/migrations';
import type { UserState } from '../../../db/schema';
import {
  countSearchCandidates,
  listUserRows,
  type ListInput,
  type UserKeyset,
  type UserListFilter,
  type UserListRow,
  type UserSort,
} from '../../../db/queries/user-directory';
import { insertUser } from '../../../db/queries/users';
import { manualClock, oneDay } from '../../../lib/clock';
import { updateUserProfile } from '../../../lib/admin/user-profile';
import { listUsers } from '../../../lib/admin/user-directory';
import { loadCountingFactorTypes } from '../../../lib/factors/counting';
import { createUser } from '../../../lib/admin/users';
import { dialects, freshDatabase, freshDb } from '../support/dialects';

/**
 * The users search (`q`) at any scale: a contains-match, case-insensitive, over username,
 * email and display name, with LIKE's `%`, `_` and `\` taken literally. Terms of 3+
 * characters go through the trigram index of migration 007 (SQLite FTS5, PostgreSQL
 * pg_trgm); each of the strategies listUserRows() picks between must give exactly what the
 * plain predicate gives, in the list's order, page by page.
 */

const start = Date.UTC(2026, 10, 2, 9, 0, 0);
const seed = { id: null, label: 'seed', clientIp: null };

/** The strategies, reached with small thresholds: sort the candidates; walk then sort; walk only. */
const strategies: { name: string; search: ListInput['search'] }[] = [
  { name: 'default thresholds (few candidates: sorted)', search: undefined },
  { name: 'a common term: walk 7 users, then sort the candidates after them', search: { candidateCap: 0, walkRows: 7 } },
  { name: 'a common term: the walk reaches the end of the list', search: { candidateCap: 0, walkRows: 10_000 } },
  { name: 'a walk of 1 user at a time', search: { candidateCap: 2, walkRows: 1 } },
  {
    name: 'a common term: walk 7 users, then its candidates in username order, 2 at a time (SQLite)',
    search: { candidateCap: 0, walkRows: 7, rankedChunk: 2 },
  },
];

const firstNames = ['ada', 'Grace', 'LINUS', 'margaret', 'Ken', 'radia', 'Bjarne', 'anna'];
const lastNames = ['Lovelace', 'hopper', 'TORVALDS', 'hamilton', 'thompson', 'perlman', 'stroustrup', 'lee'];

describe.each(dialects)('searching users on %s', (dialect) => {
  let db: Db;
  const clock = manualClock(start);

  beforeEach(async () => {
    clock.set(start);
    db = await freshDb(dialect);
  });
  afterEach(async () => {
    await db.close();
  });

  interface Person {
    id: string;
    username: string;
    email: string | null;
    displayName: string | null;
    state: UserState;
    createdAt: number;
  }

  /** 64 users whose names share many trigrams, a few with LIKE metacharacters; some required. */
  async function population(): Promise<Person[]> {
    const people: Person[] = [];
    for (let i = 0; i < 64; i++) {
      const first = firstNames[i % firstNames.length]!;
      const last = lastNames[(i * 3) % lastNames.length]!;
      const special = i % 16 === 5 ? '100%_sure\\' : i % 16 === 9 ? 'x_y' : '';
      const person: Person = {
        id: randomUUID(),
        username: `${first}.${last}${i}${special}`,
        email: i % 5 === 0 ? null : `${first}.${last}@Example${i % 3}.org`,
        displayName: i % 4 === 0 ? null : `${first} ${last}`,
        state: (['active', 'active', 'staged', 'suspended'] as const)[i % 4]!,
        createdAt: start - (i % 7) * oneDay,
      };
      await db.kysely
        .insertInto('users')
        .values({
          id: person.id,
          username: person.username,
          username_lower: person.username.toLowerCase(),
          email: person.email,
          display_name: person.displayName,
          password_hash: null,
          state: person.state,
          role: 'user',
          created_at: person.createdAt,
          activated_at: null,
        })
        .execute();
      if (i % 3 === 0) {
        await db.kysely
          .insertInto('mfa_requirements')
          .values({ user_id: person.id, required: 1, enrollment_days: 7, period_starts_at: start - oneDay, period_ends_at: i % 2 ? start + oneDay : start, set_by: null, set_at: start })
          .execute();
      }
      people.push(person);
    }
    return people;
  }

  /** The promise, in plain code: ASCII case folded, every character literal. */
  function matches(p: Person, q: string): boolean {
    const t = q.trim().toLowerCase();
    return [p.username, p.email, p.displayName].some((f) => f !== null && f.toLowerCase().includes(t));
  }

  function ordered(people: Person[], sort: UserSort): string[] {
    const byName = (a: Person, b: Person) =>
      a.username.toLowerCase() < b.username.toLowerCase() ? -1 : a.username.toLowerCase() > b.username.toLowerCase() ? 1 : a.id < b.id ? -1 : 1;
    const newest = (a: Person, b: Person) => (a.createdAt !== b.createdAt ? b.createdAt - a.createdAt : a.id < b.id ? 1 : -1);
    return [...people].sort(sort === 'username' ? byName : newest).map((p) => p.id);
  }

  /** Every page of listUserRows() with a strategy's thresholds, following keysets. */
  async function everyPage(filter: UserListFilter, sort: UserSort, search: ListInput['search'], limit = 5): Promise<string[]> {
    const rule = await loadCountingFactorTypes(db.kysely);
    const out: string[] = [];
    let after: UserKeyset | null = null;
    for (let pages = 0; pages < 100; pages++) {
      const rows: UserListRow[] = await listUserRows(db.kysely, { filter, rule, now: clock.now(), sort, after, limit: limit + 1, search });
      const page = rows.slice(0, limit);
      out.push(...page.map((r) => r.id));
      if (rows.length <= limit) return out;
      const last = page[page.length - 1]!;
      after = sort === 'username' ? { sort, usernameLower: last.usernameLower, id: last.id } : { sort, createdAt: last.createdAt, id: last.id };
    }
    throw new Error('too many pages');
  }

  const terms = ['lovelace', 'LOVE', 'ada', 'a.h', 'example1.org', 'Grace Hopper', 'anna', 'ann', '100%_', '%_s', 'x_y', 'e\\', '_', '%', 'zzz', 'er', 'n.t', '@example'];

  it.each(strategies)('gives exactly the contains-matches in list order: $name', async ({ search }) => {
    const people = await population();
    for (const sort of ['username', 'newest'] as const) {
      for (const q of terms) {
        const expected = ordered(people.filter((p) => matches(p, q)), sort);
        expect(await everyPage({ q }, sort, search), `${sort} q=${q}`).toEqual(expected);
      }
    }
    // Combined with other filters, the search narrows them and keeps their order.
    const staged = ordered(people.filter((p) => matches(p, 'example') && p.state === 'staged'), 'username');
    expect(await everyPage({ q: 'example', state: 'staged' }, 'username', search)).toEqual(staged);
    const requiredIds = new Set(people.filter((_, i) => i % 3 === 0).map((p) => p.id));
    const required = ordered(people.filter((p) => matches(p, 'ada') && requiredIds.has(p.id)), 'newest');
    expect(await everyPage({ q: 'ada', required: true }, 'newest', search, 2)).toEqual(required);
  });

  it('the console and API service answer the same through listUsers(), trimmed and lowercased', async () => {
    const people = await population();
    const page = await listUsers(db.kysely, { q: '  LOVELACE ', limit: 200 }, clock);
    expect(page.users.map((u) => u.id)).toEqual(ordered(people.filter((p) => matches(p, 'lovelace')), 'username'));
  });

  it('the index follows every write to users, and a rolled-back write leaves it as it was', async () => {
    const found = async (q: string) => (await listUsers(db.kysely, { q, limit: 200 }, clock)).users.map((u) => u.username);
    const candidates = (q: string) => countSearchCandidates(db.kysely, q, 100);

    const { id } = await createUser(db.kysely, { username: 'Hedy', state: 'active', email: 'hedy@lamarr.example', displayName: 'Hedy Lamarr' }, seed, clock);
    expect(await found('lamarr')).toEqual(['Hedy']);
    expect(await found('hedy@lam')).toEqual(['Hedy']);

    // Profile changes: the old values stop matching, the new ones match.
    await updateUserProfile(db.kysely, id, { email: 'h.kiesler@patents.example', displayName: 'Hedwig Kiesler' }, seed, clock);
    expect(await found('lamarr')).toEqual([]);
    expect(await candidates('lamarr')).toBe(0);
    expect(await found('kiesler')).toEqual(['Hedy']);
    expect(await found('patents')).toEqual(['Hedy']);
    await updateUserProfile(db.kysely, id, { email: null, displayName: null }, seed, clock);
    expect(await found('kiesler')).toEqual([]);
    expect(await candidates('kiesler')).toBe(0);
    expect(await found('hedy')).toEqual(['Hedy']);

    // Any write path, e.g. a rename by hand, and a delete.
    await db.kysely.updateTable('users').set({ username: 'Hedwig', username_lower: 'hedwig' }).where('id', '=', id).execute();
    expect(await found('hedy')).toEqual([]);
    expect(await found('hedwig')).toEqual(['Hedwig']);
    if (dialect === 'sqlite') {
      // The keys' copy of the username (009) follows the rename.
      const key = await sql<{ username_lower: string }>`select username_lower from user_search_keys where user_id = ${id}`.execute(db.kysely);
      expect(key.rows).toEqual([{ username_lower: 'hedwig' }]);
    }
    await db.kysely.deleteFrom('users').where('id', '=', id).execute();
    expect(await found('hedwig')).toEqual([]);
    expect(await candidates('hedwig')).toBe(0);

    // A transaction that fails takes its index changes with it.
    await expect(
      db.kysely.transaction().execute(async (trx) => {
        await insertUser(trx, { id: randomUUID(), username: 'ghost.writer', email: null, displayName: null, passwordHash: null, state: 'active', role: 'user', createdAt: clock.now() });
        expect(await countSearchCandidates(trx, 'ghost', 10)).toBe(1);
        throw new Error('abort');
      }),
    ).rejects.toThrow('abort');
    expect(await found('ghost')).toEqual([]);
    expect(await candidates('ghost')).toBe(0);

    if (dialect === 'sqlite') {
      // One key per user, none left behind by the delete.
      const [users, keys] = await Promise.all([
        sql<{ n: number }>`select count(*) as n from users`.execute(db.kysely),
        sql<{ n: number }>`select count(*) as n from user_search_keys`.execute(db.kysely),
      ]);
      expect(Number(keys.rows[0]!.n)).toBe(Number(users.rows[0]!.n));
      const stale = await sql<{ n: number }>`select count(*) as n from user_search_keys k join users u on u.id = k.user_id where k.username_lower is not u.username_lower`.execute(db.kysely);
      expect(Number(stale.rows[0]!.n)).toBe(0);
    }
  });

  it('users written before migration 007 are indexed by it', async () => {
    await db.close();
    const { url, dataDir } = await freshDatabase(dialect);
    const old = createDb(url, dataDir);
    const migrator = new Migrator({ db: old.kysely, provider: { getMigrations: async () => migrations(old.dialect) } });
    const to006 = await migrator.migrateTo('006-admin');
    expect(to006.error).toBeUndefined();
    await createUser(old.kysely, { username: 'Katherine', state: 'active', email: 'kj@nasa.example', displayName: 'Katherine Johnson' }, seed, clock);
    // Later migrations (010, 011, ...) follow; this test is about 007 reaching older rows.
    expect((await migrateToLatest(old)).slice(0, 3)).toEqual(['007-user-search', '008-start-notice', '009-search-key-order']);
    db = { ...old, close: async () => { await old.close(); if (dataDir) fs.rmSync(dataDir, { recursive: true, force: true }); } };
    expect((await listUsers(db.kysely, { q: 'johnson' }, clock)).users.map((u) => u.username)).toEqual(['Katherine']);
    expect(await countSearchCandidates(db.kysely, 'nasa.ex', 10)).toBe(1);
    if (dialect === 'sqlite') {
      const keys = await sql<{ username_lower: string }>`select username_lower from user_search_keys`.execute(db.kysely);
      expect(keys.rows).toEqual([{ username_lower: 'katherine' }]);
    }
  });
});
