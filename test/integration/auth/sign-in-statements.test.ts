import SQLite from 'better-sqlite3';
import pg from 'pg';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { Db } from '../../../db';
import { manualClock } from '../../../lib/clock';
import { createUser } from '../../../lib/admin/users';
import { cliActor } from '../../../lib/admin/actor';
import { signInWithPassword } from '../../../lib/auth/sign-in';
import { accountThrottle, addressThrottle, countFailure } from '../../../lib/auth/throttle';
import { dialects, freshDb } from '../support/dialects';

/**
 * What a password sign-in costs the database, counted where the statements leave the
 * process (better-sqlite3's Statement, pg's Client), BEGIN and COMMIT included.
 */
const statements: string[] = [];
let counting = false;
const restore: (() => void)[] = [];

beforeAll(() => {
  const scratch = new SQLite(':memory:');
  const proto = Object.getPrototypeOf(scratch.prepare('select 1')) as Record<string, (...a: unknown[]) => unknown>;
  scratch.close();
  for (const method of ['run', 'get', 'all', 'iterate']) {
    const original = proto[method]!;
    proto[method] = function (this: { source: string }, ...args: unknown[]) {
      if (counting) statements.push(this.source);
      return original.apply(this, args);
    };
    restore.push(() => (proto[method] = original));
  }
  const clientProto = pg.Client.prototype as unknown as { query: (...a: unknown[]) => unknown };
  const query = clientProto.query;
  clientProto.query = function (this: unknown, ...args: unknown[]) {
    if (counting) statements.push(typeof args[0] === 'string' ? args[0] : String((args[0] as { text?: string })?.text));
    return query.apply(this, args);
  };
  restore.push(() => (clientProto.query = query));
});
afterAll(() => restore.forEach((r) => r()));

async function counted<T>(fn: () => Promise<T>): Promise<{ result: T; sql: string[] }> {
  statements.length = 0;
  counting = true;
  try {
    const result = await fn();
    return { result, sql: [...statements] };
  } finally {
    counting = false;
  }
}

const start = Date.UTC(2026, 10, 2, 9, 0, 0);
const office = { ip: '198.51.100.7', userAgent: 'Mozilla/5.0 test' };
const norm = (s: string) => s.trim().split(/\s+/).slice(0, 3).join(' ').toLowerCase();

describe.each(dialects)('what a sign-in asks of the database on %s', (dialect) => {
  let db: Db;
  const clock = manualClock(start);

  beforeEach(async () => {
    clock.set(start);
    db = await freshDb(dialect);
    await createUser(db.kysely, { username: 'Alice', password: 'correct horse', state: 'active' }, cliActor, clock);
  });
  afterEach(async () => {
    await db.close();
  });

  it('a successful sign-in: one read before the verify, then session and audit in one transaction (5 statements)', async () => {
    const { result, sql } = await counted(() =>
      signInWithPassword(db.kysely, { username: 'alice', password: 'correct horse' }, office, clock),
    );
    expect(result.ok).toBe(true);
    expect(sql).toHaveLength(5);
    expect(norm(sql[0]!)).toMatch(/^select /);
    expect(sql[0]).toMatch(/auth_throttle/);
    expect(sql[0]).toMatch(/users/);
    expect(norm(sql[1]!)).toMatch(/^begin( immediate)?$/); // SQLite: BEGIN IMMEDIATE (db/sqlite-file-lock.ts)
    expect(sql[2]).toMatch(/insert into "sessions"/);
    expect(sql[3]).toMatch(/insert into "audit_log"/);
    expect(norm(sql[4]!)).toBe('commit');
  });

  it('a sign-in after earlier failures also resets the account’s count, inside the same transaction', async () => {
    await signInWithPassword(db.kysely, { username: 'alice', password: 'nope 1' }, office, clock);
    const { result, sql } = await counted(() =>
      signInWithPassword(db.kysely, { username: 'alice', password: 'correct horse' }, office, clock),
    );
    expect(result.ok).toBe(true);
    expect(sql).toHaveLength(6);
    expect(sql.findIndex((s) => /delete from "auth_throttle"/.test(s))).toBeGreaterThan(1);
    expect(norm(sql.at(-1)!)).toBe('commit');
    const rows = await db.kysely.selectFrom('auth_throttle').select(['key', 'failures']).orderBy('key').execute();
    // The address keeps its count: a success from an address does not clear its guesses.
    expect(rows).toEqual([{ key: `ip:${office.ip}`, failures: 1 }]);
  });

  it('a throttled attempt stops after the one read, before any verify or write', async () => {
    for (let i = 0; i < 6; i++) await countFailure(db.kysely, 'user:alice', accountThrottle, clock.now());
    const { result, sql } = await counted(() =>
      signInWithPassword(db.kysely, { username: 'alice', password: 'correct horse' }, office, clock),
    );
    expect(result).toMatchObject({ ok: false, reason: 'throttled' });
    expect(sql).toHaveLength(1);
  });

  it('an address over its limit is throttled for every account, known or not', async () => {
    for (let i = 0; i < addressThrottle.freeFailures + 1; i++) await countFailure(db.kysely, `ip:${office.ip}`, addressThrottle, clock.now());
    for (const username of ['alice', 'nobody']) {
      expect(await signInWithPassword(db.kysely, { username, password: 'correct horse' }, office, clock)).toMatchObject({
        ok: false,
        reason: 'throttled',
      });
    }
  });
});

describe.each(dialects)('throttle counts under concurrency on %s', (dialect) => {
  let db: Db;
  const clock = manualClock(start);
  const accounts = Array.from({ length: 10 }, (_, i) => `user${i}`);

  beforeEach(async () => {
    clock.set(start);
    db = await freshDb(dialect);
    for (const username of accounts) {
      await createUser(db.kysely, { username, password: `right-${username}`, state: 'active' }, cliActor, clock);
    }
  });
  afterEach(async () => {
    await db.close();
  });

  it('50 wrong passwords at once from one office address, 5 per account: every one counted per account, the address counts 10 accounts and stays open', async () => {
    const attempts = accounts.flatMap((username) => Array.from({ length: accountThrottle.freeFailures }, (_, i) => ({ username, i })));
    expect(attempts).toHaveLength(50);
    const results = await Promise.all(
      attempts.map(({ username, i }) => signInWithPassword(db.kysely, { username, password: `wrong-${i}` }, office, clock)),
    );
    expect(results.every((r) => !r.ok && r.reason === 'invalid')).toBe(true);
    const rows = await db.kysely.selectFrom('auth_throttle').select(['key', 'failures', 'blocked_until']).execute();
    const byKey = new Map(rows.map((r) => [r.key, r]));
    for (const username of accounts) expect(byKey.get(`user:${username}`)).toMatchObject({ failures: 5, blocked_until: 0 });
    // R-I2: the address counts DISTINCT failing accounts, so one office behind a NAT is not shut out.
    expect(byKey.get(`ip:${office.ip}`)).toMatchObject({ failures: 10, blocked_until: 0 });
    const audits = await db.kysely.selectFrom('audit_log').select('id').where('action', '=', 'auth.sign_in_failed').execute();
    expect(audits).toHaveLength(50);
    await signInWithPassword(db.kysely, { username: 'user0', password: 'wrong-again' }, office, clock);
    expect((await signInWithPassword(db.kysely, { username: 'user1', password: 'right-user1' }, office, clock)).ok).toBe(true);

    // Spraying passwords over more than 50 distinct accounts starts the address's backoff; then even a right password waits.
    for (let i = 0; i < addressThrottle.freeFailures + 1 - accounts.length; i++) {
      await signInWithPassword(db.kysely, { username: `sprayed${i}`, password: 'Winter2026!' }, office, clock);
    }
    expect(await signInWithPassword(db.kysely, { username: 'user2', password: 'right-user2' }, office, clock)).toMatchObject({
      ok: false,
      reason: 'throttled',
    });
    const elsewhere = { ...office, ip: '192.0.2.1' };
    expect((await signInWithPassword(db.kysely, { username: 'user2', password: 'right-user2' }, elsewhere, clock)).ok).toBe(true);
  });

  it('50 right passwords at once each get their own session, audit entry and no throttle row', async () => {
    const results = await Promise.all(
      Array.from({ length: 50 }, (_, i) => {
        const username = accounts[i % accounts.length]!;
        return signInWithPassword(db.kysely, { username, password: `right-${username}` }, office, clock);
      }),
    );
    expect(results.every((r) => r.ok)).toBe(true);
    const tokens = new Set(results.map((r) => (r.ok ? r.token : '')));
    expect(tokens.size).toBe(50);
    expect(await db.kysely.selectFrom('sessions').select('id').execute()).toHaveLength(50);
    expect(await db.kysely.selectFrom('audit_log').select('id').where('action', '=', 'auth.signed_in').execute()).toHaveLength(50);
    expect(await db.kysely.selectFrom('auth_throttle').select('key').execute()).toEqual([]);
  });
});
