import { execFile } from 'node:child_process';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createDb, migrateToLatest, type Db } from '../../../db';
import { dialects, freshDatabase } from '../support/dialects';

// Each test starts the CLI (tsx) several times: seconds each on a busy CI machine.
const cliTestTimeoutMs = 120_000;

/*
 * The operator invites from the CLI as the console and the API do, through the same services:
 * `create-user … --invite` and `invite USERNAME`. Run as a real process against a real
 * database. Ivy is invited, then invited again; an invitation with a password is refused.
 */
const run = promisify(execFile);
const root = path.resolve(__dirname, '../../..');
const tsx = path.join(root, 'node_modules/.bin/tsx');

describe.each(dialects)('CLI invitations on %s', (dialect) => {
  let db: Db;
  let url: string;
  let dataDir: string;

  async function cli(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
    const env = { ...process.env, DATABASE_URL: url, PORTCULLIS_DATA_DIR: dataDir, PORTCULLIS_SECRET: 'cli-invite-test-secret-0123456789abcdef' };
    try {
      const { stdout, stderr } = await run(tsx, ['scripts/cli.ts', ...args], { cwd: root, env, timeout: 60_000 });
      return { code: 0, stdout, stderr };
    } catch (err) {
      const e = err as { code?: number; stdout?: string; stderr?: string };
      return { code: typeof e.code === 'number' ? e.code : -1, stdout: e.stdout ?? '', stderr: e.stderr ?? '' };
    }
  }
  const invitations = () =>
    db.kysely.selectFrom('account_tokens').select(['purpose', 'voided_at', 'expires_at']).orderBy('created_at').orderBy('id').execute();

  beforeEach(async () => {
    const fresh = await freshDatabase(dialect);
    url = fresh.url;
    dataDir = fresh.dataDir ?? path.join(root, 'data');
    db = createDb(url, fresh.dataDir);
    await migrateToLatest(db);
  });
  afterEach(async () => {
    await db.close();
  });

  it('create-user --invite queues Ivy\'s invitation; `invite ivy` replaces it', async () => {
    const created = await cli('create-user', '--username', 'ivy', '--email', 'ivy@example.com', '--invite');
    expect(created.stderr).toBe('');
    expect(created.stdout).toMatch(/Created user ivy \(.+\); invitation queued/);
    const again = await cli('invite', 'ivy');
    expect(again.code).toBe(0);
    expect(again.stdout).toMatch(/Invitation queued for ivy, valid until \d{4}-/);
    const rows = await invitations();
    expect(rows.map((r) => [r.purpose, r.voided_at !== null, r.expires_at !== null])).toEqual([
      ['invitation', true, true],
      ['invitation', false, true],
    ]);
    const mails = await db.kysely.selectFrom('mail_outbox').select('kind').execute();
    expect(mails).toEqual([{ kind: 'invitation' }, { kind: 'invitation' }]);
    const audit = await db.kysely.selectFrom('audit_log').select(['action', 'actor_label']).orderBy('id').execute();
    expect(audit).toEqual([
      { action: 'user.created', actor_label: 'cli' },
      { action: 'user.invited', actor_label: 'cli' },
      { action: 'user.invitation_resent', actor_label: 'cli' },
    ]);
  }, cliTestTimeoutMs);

  it('refuses an invitation with a password, and `invite` for a user who has a password, changing nothing', async () => {
    const both = await cli('create-user', '--username', 'ivy', '--email', 'ivy@example.com', '--password', 'a long enough passphrase', '--invite');
    expect(both.code).toBe(1);
    expect(both.stderr).toMatch(/password: Choose either a password or an invitation/);
    await cli('create-user', '--username', 'rex', '--email', 'rex@example.com', '--password', 'rex has a long password');
    const refused = await cli('invite', 'rex');
    expect(refused.code).toBe(1);
    expect(refused.stderr).toMatch(/already set a password. Send a password reset instead/);
    expect(await invitations()).toEqual([]);
  }, cliTestTimeoutMs);
});
