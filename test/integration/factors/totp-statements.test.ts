import fs from 'node:fs';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import SQLite from 'better-sqlite3';
import pg from 'pg';
import { Kysely, PostgresDialect, SqliteDialect } from 'kysely';
import { createDb, migrateToLatest, type Database, type Db } from '../../../db';
import { parseDatabaseUrl } from '../../../db/url';
import { tagDialect } from '../../../db/dialect';
import { manualClock } from '../../../lib/clock';
import { mfaThrottleState } from '../../../lib/auth/mfa-throttle';
import { stepAt, totpCodeAt, verifyTotpSignIn } from '../../../lib/factors/totp';
import { dialects, freshDatabase } from '../support/dialects';
import { enrollTotp, newUser, office, signedIn } from './support';

/**
 * What a TOTP sign-in costs the database, statement by statement (issue 4, "Performance"):
 * the session lookup happens before (lib/auth/current.ts); this is everything after it.
 * A success is one transaction: the step claimed, the session rotated, the budget cleared
 * when there was one, and the audit entry — all of it or none. Counted failures stay
 * single atomic upserts outside any transaction, so a refusal is never rolled back.
 */

const start = Date.UTC(2026, 10, 2, 9, 0, 15);
const step = 30_000;

/** A second handle on the same database that records every statement it runs, as "verb table". */
function recordingHandle(url: string, dataDir: string | undefined) {
  const statements: string[] = [];
  const parsed = parseDatabaseUrl(url, dataDir ?? '.');
  const log = (event: { level: string; query: { sql: string } }) => {
    // Subqueries dropped, so a statement is named by its own table.
    let sql = event.query.sql.toLowerCase();
    while (/\([^()]*\)/.test(sql)) sql = sql.replace(/\([^()]*\)/g, '');
    const verb = /^\s*(\w+)/.exec(sql)![1]!;
    const table = /^\s*(?:select .*? from|update|insert into|delete from)\s+"?(\w+)"?/.exec(sql)?.[1] ?? '?';
    statements.push(`${verb} ${table}`);
  };
  const kysely = tagDialect(
    parsed.dialect === 'sqlite'
      ? new Kysely<Database>({ dialect: new SqliteDialect({ database: new SQLite(parsed.file) }), log })
      : new Kysely<Database>({ dialect: new PostgresDialect({ pool: new pg.Pool({ connectionString: parsed.connectionString, max: 2 }) }), log }),
    parsed.dialect,
  );
  return { kysely, statements, close: () => kysely.destroy() };
}

describe.each(dialects)('TOTP sign-in, statement by statement, on %s', (dialect) => {
  let db: Db;
  let recorded: ReturnType<typeof recordingHandle>;
  let alice: string;
  let dataDir: string | undefined;
  const clock = manualClock(start);

  beforeEach(async () => {
    clock.set(start);
    const fresh = await freshDatabase(dialect);
    dataDir = fresh.dataDir;
    db = createDb(fresh.url, dataDir);
    await migrateToLatest(db);
    recorded = recordingHandle(fresh.url, dataDir);
    alice = await newUser(db, 'alice', clock);
  });
  afterEach(async () => {
    await recorded.close();
    await db.close();
    if (dataDir) fs.rmSync(dataDir, { recursive: true, force: true });
  });

  const verify = async (code: string) => {
    const { session } = await signedIn(db, alice, clock);
    recorded.statements.length = 0;
    const result = await verifyTotpSignIn(recorded.kysely, session, code, office, clock);
    return { result, statements: [...recorded.statements] };
  };

  it('a valid code: one read, then one transaction (claim the step, rotate the session, audit), none on the throttle', async () => {
    const { secret } = await enrollTotp(db, alice, clock);
    clock.advance(step);
    const { result, statements } = await verify(totpCodeAt(secret, stepAt(clock.now())));
    expect(result.ok).toBe(true);
    expect(statements).toEqual(['select factors', 'begin ?', 'update factors', 'update sessions', 'insert audit_log', 'commit ?']);
    expect(await db.kysely.selectFrom('mfa_throttle').selectAll().execute()).toEqual([]);
  });

  it('a valid code after earlier failures also clears the budget, in the same transaction', async () => {
    const { secret } = await enrollTotp(db, alice, clock);
    expect((await verify('000000')).result.ok).toBe(false);
    expect(await mfaThrottleState(db.kysely, alice, clock.now())).toMatchObject({ failures: 1, guesses: 1 });
    clock.advance(step);
    const { result, statements } = await verify(totpCodeAt(secret, stepAt(clock.now())));
    expect(result.ok).toBe(true);
    expect(statements).toEqual(['select factors', 'begin ?', 'update factors', 'update sessions', 'delete mfa_throttle', 'insert audit_log', 'commit ?']);
    expect(await mfaThrottleState(db.kysely, alice, clock.now())).toEqual({ failures: 0, guesses: 0, retryAfterMs: 0 });
  });

  it('a wrong code is a counted guess: admitted, counted as failed, audited', async () => {
    const { secret } = await enrollTotp(db, alice, clock);
    const valid = new Set([-1, 0, 1].map((o) => totpCodeAt(secret, stepAt(clock.now()) + o)));
    const wrong = ['000000', '111111'].find((c) => !valid.has(c))!;
    const { result, statements } = await verify(wrong);
    expect(result).toEqual({ ok: false, reason: 'invalid' });
    expect(statements).toEqual(['select factors', 'insert mfa_throttle', 'update mfa_throttle', 'insert audit_log']);
    expect(await mfaThrottleState(db.kysely, alice, clock.now())).toMatchObject({ failures: 1, guesses: 1 });
  });

  it('the right code while held back claims nothing and is counted as a refusal', async () => {
    const { secret } = await enrollTotp(db, alice, clock);
    for (let i = 0; i < 5; i++) await verify(i % 2 ? '000000' : '999999');
    const before = await db.kysely.selectFrom('factors').select(['last_used_step', 'last_used_at']).executeTakeFirstOrThrow();
    const { failures } = await mfaThrottleState(db.kysely, alice, clock.now());

    const { result, statements } = await verify(totpCodeAt(secret, stepAt(clock.now()) + 1));
    expect(result).toMatchObject({ ok: false, reason: 'throttled' });
    // The conditional claim changed no row; the admission refused and counted it.
    expect(statements).toEqual(['select factors', 'begin ?', 'update factors', 'commit ?', 'insert mfa_throttle', 'insert audit_log']);
    expect(await db.kysely.selectFrom('factors').select(['last_used_step', 'last_used_at']).executeTakeFirstOrThrow()).toEqual(before);
    expect((await mfaThrottleState(db.kysely, alice, clock.now())).failures).toBe(failures + 1);
  });

  it('a replayed code is a counted guess, refused', async () => {
    const { secret } = await enrollTotp(db, alice, clock);
    clock.advance(step);
    const code = totpCodeAt(secret, stepAt(clock.now()));
    expect((await verify(code)).result.ok).toBe(true);
    const { result, statements } = await verify(code);
    expect(result).toEqual({ ok: false, reason: 'invalid' });
    expect(statements).toEqual([
      'select factors',
      ...['begin ?', 'update factors', 'commit ?'],
      'insert mfa_throttle',
      ...['begin ?', 'update factors', 'commit ?'],
      'update mfa_throttle',
      'insert audit_log',
    ]);
    expect(await mfaThrottleState(db.kysely, alice, clock.now())).toMatchObject({ failures: 1, guesses: 1 });
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
    const row = await db.kysely.selectFrom('sessions').select(['id', 'aal']).where('id', '=', session.sessionId).executeTakeFirst();
    expect(row).toEqual({ id: session.sessionId, aal: 1 });
  });
});
