import { execFile } from 'node:child_process';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createDb, migrateToLatest, type Db } from '../../../db';
import { systemClock } from '../../../lib/clock';
import { getMfaRequirement } from '../../../db/queries/mfa';
import { dialects, freshDatabase } from '../support/dialects';
import { addFactor, seed } from '../mail/support/world';

// Each test starts the CLI (tsx) several times: seconds each on a busy CI machine.
const cliTestTimeoutMs = 120_000;

/*
 * The operator's CLI offers "Reset TOTP" as the console and the API do, through the same
 * service: `npm run cli -- reset-totp --username NAME [--days N]`. Run as a real process
 * against a real database. Rita is enrolled with an authenticator app and never required.
 */
const run = promisify(execFile);
const root = path.resolve(__dirname, '../../..');
const tsx = path.join(root, 'node_modules/.bin/tsx');

describe.each(dialects)('CLI reset-totp on %s', (dialect) => {
  let db: Db;
  let url: string;

  async function cli(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
    try {
      const { stdout, stderr } = await run(tsx, ['scripts/cli.ts', ...args], { cwd: root, env: { ...process.env, DATABASE_URL: url }, timeout: 60_000 });
      return { code: 0, stdout, stderr };
    } catch (err) {
      const e = err as { code?: number; stdout?: string; stderr?: string };
      return { code: typeof e.code === 'number' ? e.code : -1, stdout: e.stdout ?? '', stderr: e.stderr ?? '' };
    }
  }

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
