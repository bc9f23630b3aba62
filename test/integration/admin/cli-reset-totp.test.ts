import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createDb, migrateToLatest, type Db } from '../../../db';
import { systemClock } from '../../../lib/clock';
import { getMfaRequirement } from '../../../db/queries/mfa';
import { dialects, freshDatabase } from '../support/dialects';
import { cliTestTimeoutMs, runCli, cliTestSecret } from '../support/cli';
import { addFactor, seed } from '../mail/support/world';

/*
 * The operator's CLI offers "Reset TOTP" as the console and the API do, through the same
 * service: `npm run cli -- reset-totp --username NAME [--days N]`. Run as a real process
 * against a real database. Rita is enrolled with an authenticator app and never required.
 */
describe.each(dialects)('CLI reset-totp on %s', (dialect) => {
  let db: Db;
  let url: string;

  const cli = (...args: string[]) => runCli({ DATABASE_URL: url, PORTCULLIS_SECRET: cliTestSecret }, ...args);

  beforeEach(async () => {
    const fresh = await freshDatabase(dialect);
    url = fresh.url;
    db = createDb(url, fresh.dataDir);
    await migrateToLatest(db);
  });
  afterEach(async () => {
    await db.close();
  });

  it('Rita loses her phone: the operator resets her TOTP by username, with a 3-day period', async () => {
    const { rita } = await seed(db, systemClock, [{ username: 'rita' }]);
    await addFactor(db, rita!, 'totp', systemClock.now());

    const result = await cli('reset-totp', '--username', 'RITA', '--days', '3');
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(/TOTP reset for RITA: 1 authenticator app removed\..*MFA was not required for this user; it is now\..*3-day enrollment period/s);

    expect(await db.kysely.selectFrom('factors').select('id').where('user_id', '=', rita!).execute()).toEqual([]);
    expect(await getMfaRequirement(db.kysely, rita!)).toMatchObject({ required: true, enrollmentDays: 3 });
    const audit = await db.kysely.selectFrom('audit_log').selectAll().where('action', '=', 'mfa.totp_reset').execute();
    expect(audit.map((a) => [a.actor_label, a.target_id])).toEqual([['cli', rita]]);
  }, cliTestTimeoutMs);

  it('refuses bad days and unknown users, and changes nothing', async () => {
    const { rita } = await seed(db, systemClock, [{ username: 'rita' }]);
    await addFactor(db, rita!, 'totp', systemClock.now());
    const badDays = await cli('reset-totp', '--username', 'rita', '--days', '7.5');
    expect(badDays.code).toBe(1);
    expect(badDays.stderr).toMatch(/enrollmentDays: Enrollment period must be a whole number of days from 1 to 365/);
    const ghost = await cli('reset-totp', '--username', 'ghost');
    expect(ghost.code).toBe(1);
    expect(ghost.stderr).toMatch(/user not found: ghost/);
    expect(await db.kysely.selectFrom('factors').select('id').where('user_id', '=', rita!).execute()).toHaveLength(1);
    expect(await db.kysely.selectFrom('audit_log').selectAll().where('action', '=', 'mfa.totp_reset').execute()).toEqual([]);
  }, cliTestTimeoutMs);
});
