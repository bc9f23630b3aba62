import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createDb, migrateToLatest, type Db } from '../../../db';
import { dialects, freshDatabase } from '../support/dialects';
import { runCli, cliTestSecret } from '../support/cli';

/*
 * Olga the operator names people from the CLI (issue 16): a display name at creation and
 * a later change, each through the same audited service as the console; and an API key
 * for the dashboards, read-only unless she says otherwise, with an expiry. Run as a real
 * process against a real database.
 */

describe.each(dialects)('CLI display names and API keys on %s', (dialect) => {
  let db: Db;
  let url: string;

  const cli = (...args: string[]) => runCli({ DATABASE_URL: url, PORTCULLIS_SECRET: cliTestSecret }, ...args);

  async function displayName(username: string): Promise<string | null> {
    return (await db.kysely.selectFrom('users').select('display_name').where('username', '=', username).executeTakeFirstOrThrow()).display_name;
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

  it('create-user --display-name names Nina; set-display-name renames her, audited', { timeout: 300_000 }, async () => {
    const created = await cli('create-user', '--username', 'nina', '--password', 'nina walks the long pier at dawn', '--display-name', 'Nina New');
    expect(created.stderr).toBe('');
    expect(created.code).toBe(0);
    expect(await displayName('nina')).toBe('Nina New');

    const renamed = await cli('set-display-name', '--username', 'nina', '--display-name', '  Nina Novak ');
    expect(renamed).toMatchObject({ code: 0, stderr: '' });
    expect(renamed.stdout).toContain('Display name of nina is now “Nina Novak”.');
    expect(await displayName('nina')).toBe('Nina Novak');
    const audit = await db.kysely.selectFrom('audit_log').select(['actor_label', 'details']).where('action', '=', 'user.profile_updated').execute();
    expect(audit).toHaveLength(1);
    expect(JSON.parse(audit[0]!.details!)).toEqual({ displayName: { from: 'Nina New', to: 'Nina Novak' } });

    const unknown = await cli('set-display-name', '--username', 'nobody', '--display-name', 'X');
    expect(unknown.code).toBe(1);
    const missing = await cli('set-display-name', '--username', 'nina');
    expect(missing.code).toBe(2);
    expect(missing.stderr).toContain('set-display-name --username NAME --display-name');
  });

  it('create-api-key gives a read-only key unless asked, with the expiry given', { timeout: 300_000 }, async () => {
    const made = await cli('create-api-key', '--name', 'dashboards', '--expires-in-days', '30');
    expect(made).toMatchObject({ code: 0, stderr: '' });
    expect(made.stdout).toMatch(/API key with read-only access, valid until \d{4}-\d\d-\d\dT/);
    const row = await db.kysely.selectFrom('api_keys').select(['role', 'created_at', 'expires_at']).executeTakeFirstOrThrow();
    expect(row.role).toBe('read');
    expect(Number(row.expires_at) - Number(row.created_at)).toBe(30 * 24 * 60 * 60 * 1000);

    const refused = await cli('create-api-key', '--name', 'bad', '--expires-in-days', 'soon');
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain('expiresInDays: Expiry must be a whole number of days from 1 to 730, or none.');
  });
});
