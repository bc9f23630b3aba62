import fs from 'node:fs';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import SQLite from 'better-sqlite3';
import pg from 'pg';
import { Kysely, PostgresDialect, SqliteDialect } from 'kysely';
import { createDb, migrateToLatest, type Database, type Db } from '../../../db';
import { parseDatabaseUrl } from '../../../db/url';
import { tagDialect } from '../../../db/dialect';
import { manualClock } from '../../../lib/clock';
import { sourceFailures } from '../../../lib/auth/mfa-throttle';
import { sessionSource } from '../../../lib/auth/mfa-budget';
import { stepAt, totpCodeAt, verifyTotpSignIn } from '../../../lib/factors/totp';
import { dialects, freshDatabase } from '../support/dialects';
import { enrollTotp, newUser, office, signedIn } from './support';

/**
 * What a TOTP sign-in costs the database, statement by statement (issue 4, "Performance"):
 * the session lookup happens before (lib/auth/current.ts); this is everything after it.
 * Every code is first admitted by one transaction that charges the guess to its sources
 * (R-I2, lib/auth/mfa-throttle.ts); a success is then one transaction: the step claimed, the
 * session rotated, the charge refunded, and the audit entry — all of it or none. A refusal
 * while held back writes nothing but its audit entry.
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

  let pending = '';
  const verify = async (code: string) => {
    const { session } = await signedIn(db, alice, clock);
    pending = session.sessionId;
    recorded.statements.length = 0;
    const result = await verifyTotpSignIn(recorded.kysely, session, code, office, clock);
    return { result, statements: [...recorded.statements] };
  };
  /** The admission: one transaction that locks the user's budget row, reads, and charges. */
  const admission = ['begin ?', 'insert mfa_guess_accounts', 'select mfa_guess_sources', 'select mfa_guess_failures', 'insert mfa_guess_failures', 'insert mfa_guess_sources', 'commit ?'];
  const charged = async () => (await db.kysely.selectFrom('mfa_guess_failures').select('id').execute()).length;

  it('a valid code: the admission, one read, then one transaction (claim, rotate, refund, audit)', async () => {
    const { secret } = await enrollTotp(db, alice, clock);
    clock.advance(step);
    const { result, statements } = await verify(totpCodeAt(secret, stepAt(clock.now())));
    expect(result.ok).toBe(true);
    expect(statements).toEqual([
      ...admission,
      'select factors',
      ...['begin ?', 'update factors', 'update sessions', 'delete mfa_guess_failures', 'update mfa_guess_sources', 'insert audit_log', 'commit ?'],
    ]);
    expect(await charged()).toBe(0);
    expect(await sourceFailures(db.kysely, alice, 'totp', sessionSource(pending), clock.now())).toBe(0);
  });

  it('a wrong code stays charged, and is audited', async () => {
    const { secret } = await enrollTotp(db, alice, clock);
    const valid = new Set([-1, 0, 1].map((o) => totpCodeAt(secret, stepAt(clock.now()) + o)));
    const wrong = ['000000', '111111'].find((c) => !valid.has(c))!;
    const { result, statements } = await verify(wrong);
    expect(result).toEqual({ ok: false, reason: 'invalid' });
    expect(statements).toEqual([...admission, 'select factors', 'insert audit_log']);
    expect(await charged()).toBe(1);
    expect(await sourceFailures(db.kysely, alice, 'totp', sessionSource(pending), clock.now())).toBe(1);
  });

  it('the right code while the source is held back claims nothing, is not counted, and is audited', async () => {
    const { secret } = await enrollTotp(db, alice, clock);
    const { session } = await signedIn(db, alice, clock);
    for (let i = 0; i < 5; i++) await verifyTotpSignIn(db.kysely, session, i % 2 ? '000000' : '999999', office, clock);
    const before = await db.kysely.selectFrom('factors').select(['last_used_step', 'last_used_at']).executeTakeFirstOrThrow();
    const failures = await charged();

    recorded.statements.length = 0;
    const result = await verifyTotpSignIn(recorded.kysely, session, totpCodeAt(secret, stepAt(clock.now()) + 1), office, clock);
    expect(result).toMatchObject({ ok: false, reason: 'throttled' });
    expect(recorded.statements).toEqual(['begin ?', 'insert mfa_guess_accounts', 'select mfa_guess_sources', 'select mfa_guess_failures', 'commit ?', 'insert audit_log']);
    expect(await db.kysely.selectFrom('factors').select(['last_used_step', 'last_used_at']).executeTakeFirstOrThrow()).toEqual(before);
    expect(await charged()).toBe(failures);
  });

  it('a replayed code is a charged guess, refused', async () => {
    const { secret } = await enrollTotp(db, alice, clock);
    clock.advance(step);
    const code = totpCodeAt(secret, stepAt(clock.now()));
    expect((await verify(code)).result.ok).toBe(true);
    const { result, statements } = await verify(code);
    expect(result).toEqual({ ok: false, reason: 'invalid' });
    expect(statements).toEqual([...admission, 'select factors', ...['begin ?', 'update factors', 'commit ?'], 'insert audit_log']);
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
