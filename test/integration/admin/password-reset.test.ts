import { execFile } from 'node:child_process';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createDb, migrateToLatest, type Db } from '../../../db';
import { systemClock } from '../../../lib/clock';
import { accountTokenOf, inspectAccountLink, passwordResetValidityMs } from '../../../lib/auth/account-tokens';
import { verifyPassword } from '../../../lib/auth/password';
import { dialects, freshDatabase } from '../support/dialects';
import { seed } from '../mail/support/world';
import { apiWorld, expectJson, expectProblem, iso, start, type ApiWorld } from '../api/support';


// Links are derived under the app secret; never let a test write one into ./data.
process.env.PORTCULLIS_SECRET ??= 'integration-test-secret-0123456789abcdef';
/*
 * "Send password reset" (issue 15 §2, ASVS 6.4.6): an admin sends Rex a link to his own
 * address; the admin never sees the link or chooses the password. Nia has no email address,
 * Sid is staged, Sue suspended: each is refused with 409 and a reason, and nothing is sent.
 */
describe.each(dialects)('POST /api/v1/users/{id}/password-reset on %s', (dialect) => {
  let world: ApiWorld;
  let ids: Record<string, string>;

  beforeEach(async () => {
    world = await apiWorld(dialect);
    ids = {
      rex: await world.user('rex', 'active', { email: 'rex@example.org', password: 'rex keeps his old passphrase' }),
      nia: await world.user('nia', 'active'),
      sid: await world.user('sid', 'staged', { email: 'sid@example.org' }),
      sue: await world.user('sue', 'suspended', { email: 'sue@example.org' }),
    };
  });
  afterEach(async () => {
    await world.close();
  });

  const outbox = () => world.db.kysely.selectFrom('mail_outbox').select(['user_id', 'kind', 'to_address', 'params']).execute();

  it('queues a 30-minute link to Rex\'s own address, audited, and answers without the link; his password still works', async () => {
    const response = await world.call('POST', `/users/${ids.rex}/password-reset`);
    const body = await expectJson(response, 202);
    expect(body).toEqual({ sentTo: 'rex@example.org', expiresAt: iso(start + passwordResetValidityMs) });

    const token = await world.db.kysely.selectFrom('account_tokens').selectAll().executeTakeFirstOrThrow();
    expect(token).toMatchObject({ user_id: ids.rex, purpose: 'password_reset' });
    const link = accountTokenOf(token.id);
    expect(await inspectAccountLink(world.db.kysely, link, start)).toMatchObject({ state: 'open', userId: ids.rex });
    const mail = await outbox();
    expect(mail.map((m) => [m.user_id, m.kind, m.to_address])).toEqual([[ids.rex, 'password_reset', 'rex@example.org']]);
    // Neither the answer nor anything the admin can read holds the link.
    expect(JSON.stringify(body)).not.toContain(link);
    expect(mail[0]!.params).not.toContain(link);

    const audit = await world.db.kysely.selectFrom('audit_log').selectAll().where('action', '=', 'user.password_reset_sent').execute();
    expect(audit.map((a) => [a.actor_label, a.target_id])).toEqual([['api-key:ops-automation', ids.rex]]);
    const row = await world.db.kysely.selectFrom('users').select('password_hash').where('id', '=', ids.rex).executeTakeFirstOrThrow();
    expect(await verifyPassword(row.password_hash!, 'rex keeps his old passphrase')).toBe(true);

    // A second send voids the first link.
    await expectJson(await world.call('POST', `/users/${ids.rex}/password-reset`), 202);
    expect(await inspectAccountLink(world.db.kysely, link, start)).toEqual({ state: 'voided' });
  });

  it('refuses Nia (no email address), staged Sid and suspended Sue with 409 and a clear reason; 404 for nobody; 403 for a read key', async () => {
    const nia = await expectProblem(await world.call('POST', `/users/${ids.nia}/password-reset`), 409);
    expect(nia.errors).toEqual({ email: ['nia has no email address to send a password reset to. Add one first.'] });
    const sid = await expectProblem(await world.call('POST', `/users/${ids.sid}/password-reset`), 409);
    expect(sid.errors).toEqual({ state: ['sid is staged: only an active user can be sent a password reset.'] });
    await expectProblem(await world.call('POST', `/users/${ids.sue}/password-reset`), 409);
    await expectProblem(await world.call('POST', '/users/no-such-user/password-reset'), 404);
    await expectProblem(await world.call('POST', `/users/${ids.rex}/password-reset`, { key: world.readKey }), 403);
    await expectProblem(await world.call('POST', `/users/${ids.rex}/password-reset`, { key: null }), 401);
    expect(await outbox()).toEqual([]);
    expect(await world.db.kysely.selectFrom('account_tokens').select('id').execute()).toEqual([]);
    expect(await world.db.kysely.selectFrom('audit_log').select('id').where('action', '=', 'user.password_reset_sent').execute()).toEqual([]);
  });
});

const run = promisify(execFile);
const root = path.resolve(__dirname, '../../..');
const tsx = path.join(root, 'node_modules/.bin/tsx');

describe.each(dialects)('CLI send-password-reset on %s', (dialect) => {
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

  it('the operator sends Rex a reset by username; Nia, without an address, is refused and nothing is queued for her', async () => {
    const { rex } = await seed(db, systemClock, [{ username: 'rex' }, { username: 'nia', email: null }]);
    const sent = await cli('send-password-reset', 'REX');
    expect(sent).toMatchObject({ code: 0, stderr: '' });
    expect(sent.stdout).toContain('Password reset link for REX queued to rex@example.com');
    const refused = await cli('send-password-reset', '--username', 'nia');
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain('nia has no email address');
    expect((await cli('send-password-reset', 'nobody')).stderr).toContain('user not found: nobody');

    const mail = await db.kysely.selectFrom('mail_outbox').select(['user_id', 'kind', 'to_address']).execute();
    expect(mail).toEqual([{ user_id: rex, kind: 'password_reset', to_address: 'rex@example.com' }]);
    const audit = await db.kysely.selectFrom('audit_log').selectAll().where('action', '=', 'user.password_reset_sent').execute();
    expect(audit.map((a) => [a.actor_label, a.target_id])).toEqual([['cli', rex]]);
  }, 120_000); // three CLI processes, each starting tsx: slow on a busy machine
});
