import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createDb, migrateToLatest, type Db } from '../../../db';
import { createUser } from '../../../lib/admin/users';
import { systemClock } from '../../../lib/clock';
import { dialects, freshDatabase } from '../support/dialects';
import { runCli, cliTestSecret } from '../support/cli';

/*
 * Olga the operator gives Hal the helpdesk role from the CLI (issue 18 part 7), through the
 * same audited service as the console and the API, and makes his ticketing tool a helpdesk
 * API key. The last admin cannot be demoted. Run as a real process against a real database.
 */
const seedActor = { id: null, label: 'seed', clientIp: null };

describe.each(dialects)('CLI set-role and helpdesk keys on %s', (dialect) => {
  let db: Db;
  let url: string;

  const cli = (...args: string[]) => runCli({ DATABASE_URL: url, PORTCULLIS_SECRET: cliTestSecret }, ...args);
  const roleOf = async (username: string) =>
    (await db.kysely.selectFrom('users').select('role').where('username', '=', username).executeTakeFirstOrThrow()).role;

  beforeEach(async () => {
    const fresh = await freshDatabase(dialect);
    url = fresh.url;
    db = createDb(url, fresh.dataDir);
    await migrateToLatest(db);
  });
  afterEach(async () => {
    await db.close();
  });

  it('set-role makes Hal helpdesk (audited), refuses to demote the last admin, and create-api-key --role helpdesk', { timeout: 300_000 }, async () => {
    // Seeded through the service: each CLI start costs seconds on a busy machine.
    await createUser(db.kysely, { username: 'ada', state: 'active', role: 'admin' }, seedActor, systemClock);
    await createUser(db.kysely, { username: 'hal', state: 'active' }, seedActor, systemClock);

    const made = await cli('set-role', '--username', 'hal', '--role', 'helpdesk');
    expect(made).toMatchObject({ code: 0, stderr: '' });
    expect(made.stdout).toContain('hal is now helpdesk.');
    expect(await roleOf('hal')).toBe('helpdesk');
    const audit = await db.kysely.selectFrom('audit_log').select(['actor_label', 'details']).where('action', '=', 'user.role_changed').execute();
    expect(audit.map((a) => JSON.parse(a.details!))).toEqual([{ from: 'user', to: 'helpdesk' }]);

    const last = await cli('set-role', '--username', 'ada', '--role', 'helpdesk');
    expect(last.code).not.toBe(0);
    expect(last.stderr).toContain('This is the last admin');
    expect(await roleOf('ada')).toBe('admin');

    const key = await cli('create-api-key', '--name', 'service-desk', '--role', 'helpdesk');
    expect(key).toMatchObject({ code: 0, stderr: '' });
    expect(key.stdout).toContain('API key with helpdesk access');
    expect((await db.kysely.selectFrom('api_keys').select('role').executeTakeFirstOrThrow()).role).toBe('helpdesk');
  });
});
