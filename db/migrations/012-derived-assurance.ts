import type { Kysely } from 'kysely';
import type { DialectName } from '../url';
import { columnTypes } from './types';

/**
 * Assurance derived from the methods passed (lib/policy/assurance.ts), not stored beside them.
 *
 * - `sessions.amr` goes from method names (["pwd","totp"]) to methods with the time each was
 *   passed ([{"method":"pwd","at":…},{"method":"totp","at":…}]). The password counts from
 *   the session's creation; a second factor from `second_factor_at`, the only time there is.
 * - `sessions.aal` and `sessions.second_factor_at` are dropped: both follow from the list.
 *
 * Rows are rewritten one by one in TypeScript, so the conversion is the same on both
 * dialects (no JSON functions, which differ). Sessions live twelve hours at most, so the
 * table is small.
 */

interface OldRow {
  id: string;
  amr: string;
  created_at: number | string;
  second_factor_at: number | string | null;
}

function oldMethods(text: string): string[] {
  try {
    const value: unknown = JSON.parse(text);
    return Array.isArray(value) ? value.filter((m): m is string => typeof m === 'string') : [];
  } catch {
    return [];
  }
}

function newEntries(text: string): { method: string; at: number }[] {
  try {
    const value: unknown = JSON.parse(text);
    if (!Array.isArray(value)) return [];
    return value.filter(
      (e): e is { method: string; at: number } => typeof e?.method === 'string' && typeof e?.at === 'number',
    );
  } catch {
    return [];
  }
}

const passwordMethod = 'pwd';

export function derivedAssurance(dialect: DialectName) {
  const t = columnTypes(dialect);
  return {
    async up(db: Kysely<any>): Promise<void> {
      const rows: OldRow[] = await db.selectFrom('sessions').select(['id', 'amr', 'created_at', 'second_factor_at']).execute();
      for (const row of rows) {
        const createdAt = Number(row.created_at);
        const secondAt = row.second_factor_at === null ? createdAt : Number(row.second_factor_at);
        const amr = [...new Set(oldMethods(row.amr))].map((method) => ({ method, at: method === passwordMethod ? createdAt : secondAt }));
        await db.updateTable('sessions').set({ amr: JSON.stringify(amr) }).where('id', '=', row.id).execute();
      }
      await db.schema.alterTable('sessions').dropColumn('aal').execute();
      await db.schema.alterTable('sessions').dropColumn('second_factor_at').execute();
    },
    async down(db: Kysely<any>): Promise<void> {
      await db.schema.alterTable('sessions').addColumn('aal', 'integer', (c) => c.notNull().defaultTo(1)).execute();
      await db.schema.alterTable('sessions').addColumn('second_factor_at', t.time).execute();
      const rows: { id: string; amr: string }[] = await db.selectFrom('sessions').select(['id', 'amr']).execute();
      for (const row of rows) {
        const entries = newEntries(row.amr);
        const second = entries.filter((e) => e.method !== passwordMethod);
        const secondAt = second.length > 0 ? Math.max(...second.map((e) => e.at)) : null;
        await db
          .updateTable('sessions')
          .set({ amr: JSON.stringify(entries.map((e) => e.method)), aal: secondAt === null ? 1 : 2, second_factor_at: secondAt })
          .where('id', '=', row.id)
          .execute();
      }
    },
  };
}
