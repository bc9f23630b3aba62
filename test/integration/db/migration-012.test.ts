import { afterEach, describe, expect, it } from 'vitest';
import type { Kysely } from 'kysely';
import type { Db } from '../../../db';
import { parseAmr } from '../../../lib/auth/sessions';
import { aalOf, secondFactorAtOf } from '../../../lib/policy';
import { dialects } from '../support/dialects';
import { closeMigrationDatabases, databaseMigratedTo, migrateTo } from '../support/migration';

/**
 * 012-derived-assurance on sessions that exist: method names become methods with times, the
 * stored level and second-factor time go, and the derived ones say what the stored ones said.
 */
describe.each(dialects)('migration 012-derived-assurance on %s', (dialect) => {
  let db: Db;
  afterEach(closeMigrationDatabases);

  const any = () => db.kysely as unknown as Kysely<any>;
  const created = Date.UTC(2026, 10, 2, 9, 0);
  const verified = created + 60_000;
  const session = (id: string, amr: string[], aal: number, secondFactorAt: number | null) => ({
    id,
    user_id: 'u-ada',
    created_at: created,
    last_seen_at: verified,
    idle_expires_at: created + 3_600_000,
    absolute_expires_at: created + 7_200_000,
    aal,
    amr: JSON.stringify(amr),
    mfa_skipped: 0,
    second_factor_at: secondFactorAt,
    client_ip: null,
    user_agent: null,
  });

  it('converts password-only and verified sessions, and down restores the old columns', async () => {
    db = await databaseMigratedTo(dialect, '011-own-factor-challenge');
    await any().insertInto('users').values({ id: 'u-ada', username: 'ada', username_lower: 'ada', email: null, state: 'active', role: 'user', created_at: 1 }).execute();
    await any()
      .insertInto('sessions')
      .values([session('s-pwd', ['pwd'], 1, null), session('s-totp', ['pwd', 'totp'], 2, verified), session('s-odd', ['pwd', 7] as string[], 1, null)])
      .execute();

    await migrateTo(db, '012-derived-assurance');
    const rows = await any().selectFrom('sessions').selectAll().orderBy('id').execute();
    expect(Object.keys(rows[0]!)).not.toContain('aal');
    expect(Object.keys(rows[0]!)).not.toContain('second_factor_at');
    expect(Object.fromEntries(rows.map((r) => [r.id, JSON.parse(r.amr)]))).toEqual({
      's-odd': [{ method: 'pwd', at: created }],
      's-pwd': [{ method: 'pwd', at: created }],
      's-totp': [
        { method: 'pwd', at: created },
        { method: 'totp', at: verified },
      ],
    });
    // What was stored is now derived, and says the same.
    expect(rows.map((r) => [r.id, aalOf(parseAmr(r.amr)), secondFactorAtOf(parseAmr(r.amr))])).toEqual([
      ['s-odd', 1, null],
      ['s-pwd', 1, null],
      ['s-totp', 2, verified],
    ]);
    await migrateTo(db, '011-own-factor-challenge');
    const restored = await any().selectFrom('sessions').select(['id', 'aal', 'amr', 'second_factor_at']).orderBy('id').execute();
    expect(restored.map((r) => ({ ...r, second_factor_at: r.second_factor_at === null ? null : Number(r.second_factor_at) }))).toEqual([
      { id: 's-odd', aal: 1, amr: '["pwd"]', second_factor_at: null },
      { id: 's-pwd', aal: 1, amr: '["pwd"]', second_factor_at: null },
      { id: 's-totp', aal: 2, amr: '["pwd","totp"]', second_factor_at: verified },
    ]);
  });
});
