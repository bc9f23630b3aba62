import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Db } from '../../../db';
import { manualClock } from '../../../lib/clock';
import { createUser } from '../../../lib/admin/users';
import { cliActor } from '../../../lib/admin/actor';
import { signInWithPassword } from '../../../lib/auth/sign-in';
import { accountThrottle, addressThrottle, countFailure } from '../../../lib/auth/throttle';
import { dialects, freshDb } from '../support/dialects';
import { probed } from '../support/probe';

const start = Date.UTC(2026, 10, 2, 9, 0, 0);
/** 50 argon2 verifications at once take seconds of CPU: past vitest's 30 s on a busy 2-core CI machine. */
const concurrentSignInTimeoutMs = 120_000;
const office = { ip: '198.51.100.7', userAgent: 'Mozilla/5.0 test' };

/**
 * What a password sign-in costs the database, counted by the benches' probe as bench/login.ts
 * counts a sign-in (SQL statements, BEGIN and COMMIT included; session-row reads and writes).
 * The verify needs the stored hash and the writes need its answer, so the one read comes
 * before the verify and everything else after it.
 */
describe('what a sign-in asks of the database (the benches\' probe, on SQLite)', () => {
  let db: Db;
  const clock = manualClock(start);

  beforeEach(async () => {
    clock.set(start);
    db = await freshDb('sqlite');
    await createUser(db.kysely, { username: 'Alice', password: 'correct horse battery', state: 'active' }, cliActor, clock);
  });
  afterEach(async () => {
    await db.close();
  });

  const signIn = (password: string) => probed(() => signInWithPassword(db.kysely, { username: 'alice', password }, office, clock));

  it('a successful sign-in: one read before the verify, then the session and its audit entry in one transaction (5 statements)', async () => {
    const { result, counts } = await signIn('correct horse battery');
    expect(result.ok).toBe(true);
    expect(counts).toMatchObject({ sql: 5, sessionSelects: 0, sessionWrites: 1 });
    expect(await db.kysely.selectFrom('audit_log').select('action').where('action', '=', 'auth.signed_in').execute()).toHaveLength(1);
  });

  it('a sign-in after earlier failures also resets the account’s count: one statement more', async () => {
    await signInWithPassword(db.kysely, { username: 'alice', password: 'nope 1' }, office, clock);
    const { result, counts } = await signIn('correct horse battery');
    expect(result.ok).toBe(true);
    expect(counts).toMatchObject({ sql: 6, sessionSelects: 0, sessionWrites: 1 });
    const rows = await db.kysely.selectFrom('auth_throttle').select(['key', 'failures']).orderBy('key').execute();
    // The address keeps its count: a success from an address does not clear its guesses.
    expect(rows).toEqual([{ key: `ip:${office.ip}`, failures: 1 }]);
  });

  it('a throttled attempt stops after the one read, before any verify or write', async () => {
    for (let i = 0; i < 6; i++) await countFailure(db.kysely, 'user:alice', accountThrottle, clock.now());
    const { result, counts } = await signIn('correct horse battery');
    expect(result).toMatchObject({ ok: false, reason: 'throttled' });
    expect(counts).toMatchObject({ sql: 1, sessionSelects: 0, sessionWrites: 0 });
  });
});

describe.each(dialects)('sign-in throttling on %s', (dialect) => {
  let db: Db;
  const clock = manualClock(start);

  beforeEach(async () => {
    clock.set(start);
    db = await freshDb(dialect);
    await createUser(db.kysely, { username: 'Alice', password: 'correct horse battery', state: 'active' }, cliActor, clock);
  });
  afterEach(async () => {
    await db.close();
  });

  it('an address over its limit is throttled for every account, known or not', async () => {
    for (let i = 0; i < addressThrottle.freeFailures + 1; i++) await countFailure(db.kysely, `ip:${office.ip}`, addressThrottle, clock.now());
    for (const username of ['alice', 'nobody']) {
      expect(await signInWithPassword(db.kysely, { username, password: 'correct horse battery' }, office, clock)).toMatchObject({
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
      await createUser(db.kysely, { username, password: `right-${username}-passphrase`, state: 'active' }, cliActor, clock);
    }
  });
  afterEach(async () => {
    await db.close();
  });

  it('50 wrong passwords at once from one office address, 5 per account: every one counted per account, the address counts 10 accounts and stays open', { timeout: concurrentSignInTimeoutMs }, async () => {
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
    expect((await signInWithPassword(db.kysely, { username: 'user1', password: 'right-user1-passphrase' }, office, clock)).ok).toBe(true);

    // Spraying passwords over more than 50 distinct accounts starts the address's backoff; then even a right password waits.
    for (let i = 0; i < addressThrottle.freeFailures + 1 - accounts.length; i++) {
      await signInWithPassword(db.kysely, { username: `sprayed${i}`, password: 'Winter2026!' }, office, clock);
    }
    expect(await signInWithPassword(db.kysely, { username: 'user2', password: 'right-user2-passphrase' }, office, clock)).toMatchObject({
      ok: false,
      reason: 'throttled',
    });
    const elsewhere = { ...office, ip: '192.0.2.1' };
    expect((await signInWithPassword(db.kysely, { username: 'user2', password: 'right-user2-passphrase' }, elsewhere, clock)).ok).toBe(true);
  });

  it('50 right passwords at once each get their own session, audit entry and no throttle row', { timeout: concurrentSignInTimeoutMs }, async () => {
    const results = await Promise.all(
      Array.from({ length: 50 }, (_, i) => {
        const username = accounts[i % accounts.length]!;
        return signInWithPassword(db.kysely, { username, password: `right-${username}-passphrase` }, office, clock);
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
