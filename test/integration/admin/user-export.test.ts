import { randomUUID } from 'node:crypto';
import { sql } from 'kysely';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Db } from '../../../db';
import { isPostgres } from '../../../db/dialect';
import { insertUser } from '../../../db/queries/users';
import { manualClock, oneDay } from '../../../lib/clock';
import type { Actor } from '../../../lib/admin/actor';
import { ValidationError } from '../../../lib/admin/errors';
import { requireMfaForUsers } from '../../../lib/admin/mfa-requirements';
import { getUserDetail, listUsers } from '../../../lib/admin/user-directory';
import { exportUsersCsv, userCsvColumns } from '../../../lib/admin/user-export';
import { createUser } from '../../../lib/admin/users';
import { signInWithPassword } from '../../../lib/auth/sign-in';
import { dialects, freshDb } from '../support/dialects';

/**
 * The users list's CSV export and its "Last sign-in" column (issue 16). Ada the admin exports
 * the people in their enrollment period; Mallory named herself `=HYPERLINK(…)`, which a
 * spreadsheet must show as text. Nina signs in; Olaf never has.
 */

const start = Date.UTC(2026, 10, 2, 9, 0, 0);
const ada: Actor = { id: 'admin-ada', label: 'ada.admin', clientIp: '198.51.100.7' };

/** Parses our CSV (every cell quoted, CRLF records) back into rows. */
function parseCsv(text: string): string[][] {
  expect(text.endsWith('\r\n')).toBe(true);
  return text
    .slice(0, -2)
    .split('\r\n')
    .map((line) => [...line.matchAll(/"((?:[^"]|"")*)"(?:,|$)/g)].map((m) => m[1]!.replace(/""/g, '"')));
}

async function collect(lines: AsyncIterable<string>): Promise<string> {
  let out = '';
  for await (const chunk of lines) out += chunk;
  return out;
}

describe.each(dialects)('users CSV export and last sign-in on %s', (dialect) => {
  let db: Db;
  const clock = manualClock(start);

  beforeEach(async () => {
    clock.set(start);
    db = await freshDb(dialect);
  });
  afterEach(async () => {
    await db.close();
  });

  it('exports every page of the list as filtered, and audits the export', async () => {
    // 205 users in their enrollment period (more than one 200-user page), and 3 who are not.
    const ids: string[] = [];
    for (let i = 0; i < 205; i++) {
      const id = randomUUID();
      ids.push(id);
      await insertUser(db.kysely, {
        id,
        username: `temp-${String(i).padStart(3, '0')}`,
        email: null,
        displayName: null,
        passwordHash: null,
        state: 'active',
        role: 'user',
        createdAt: start,
      });
    }
    const mallory = (await createUser(db.kysely, { username: 'mallory', displayName: '=HYPERLINK("http://evil.example")', state: 'active' }, ada, clock)).id;
    await createUser(db.kysely, { username: 'olaf', email: 'olaf@example.test', state: 'active' }, ada, clock);
    await createUser(db.kysely, { username: 'pia', state: 'staged' }, ada, clock);
    await requireMfaForUsers(db.kysely, { userIds: [...ids, mallory], enrollmentDays: 7 }, ada, clock);

    const text = await collect(exportUsersCsv(db.kysely, { mfaStatus: 'enrollment_period' }, ada, clock));
    const [header, ...rows] = parseCsv(text);
    expect(header).toEqual([...userCsvColumns]);
    expect(rows).toHaveLength(206);
    expect(rows.map((r) => r[1])).toEqual(['mallory', ...ids.map((_, i) => `temp-${String(i).padStart(3, '0')}`)]);
    const malloryRow = rows[0]!;
    expect(malloryRow[2]).toBe(`'=HYPERLINK("http://evil.example")`);
    expect(malloryRow.slice(4, 9)).toEqual(['active', 'user', 'yes', 'enrollment_period', new Date(start + 7 * oneDay).toISOString()]);
    expect(malloryRow[10]).toBe('');

    const audit = await db.kysely.selectFrom('audit_log').select(['actor_label', 'details']).where('action', '=', 'user.list_exported').execute();
    expect(audit).toHaveLength(1);
    expect(JSON.parse(audit[0]!.details!)).toEqual({ filters: { mfaStatus: 'enrollment_period', sort: 'username' } });

    // A filter the list refuses is refused before anything is written.
    await expect(collect(exportUsersCsv(db.kysely, { mfaStatus: 'nonsense' as never }, ada, clock))).rejects.toThrow(ValidationError);
    expect(await db.kysely.selectFrom('audit_log').select('id').where('action', '=', 'user.list_exported').execute()).toHaveLength(1);
  });

  it("shows each user's last sign-in from the audit log, read through its own index", async () => {
    const password = 'nina walks the long pier at dawn';
    const nina = (await createUser(db.kysely, { username: 'nina', password, state: 'active' }, ada, clock)).id;
    const olaf = (await createUser(db.kysely, { username: 'olaf', state: 'active' }, ada, clock)).id;
    clock.advance(oneDay);
    expect(await signInWithPassword(db.kysely, { username: 'nina', password }, { ip: '203.0.113.5', userAgent: null }, clock)).toMatchObject({ ok: true });
    clock.advance(oneDay);
    expect(await signInWithPassword(db.kysely, { username: 'nina', password }, { ip: '203.0.113.5', userAgent: null }, clock)).toMatchObject({ ok: true });
    const { users } = await listUsers(db.kysely, {}, clock);
    expect(users.map((u) => [u.username, u.lastSignInAt])).toEqual([
      ['nina', start + 2 * oneDay],
      ['olaf', null],
    ]);
    expect((await getUserDetail(db.kysely, nina, clock)).lastSignInAt).toBe(start + 2 * oneDay);
    expect((await getUserDetail(db.kysely, olaf, clock)).lastSignInAt).toBeNull();

    // The per-user lookup seeks the partial index (migration 015) instead of scanning the log.
    const lookup = sql`select max(s.at) from audit_log s where s.action = 'auth.signed_in' and s.target_id = ${nina}`;
    if (isPostgres(db.kysely)) {
      await sql`set enable_seqscan = off`.execute(db.kysely);
      const plan = await sql<{ 'QUERY PLAN': string }>`explain ${lookup}`.execute(db.kysely);
      expect(plan.rows.map((r) => r['QUERY PLAN']).join('\n')).toContain('audit_log_sign_in_idx');
    } else {
      const plan = await sql<{ detail: string }>`explain query plan ${lookup}`.execute(db.kysely);
      expect(plan.rows.map((r) => r.detail).join('\n')).toContain('audit_log_sign_in_idx');
    }
  });
});
