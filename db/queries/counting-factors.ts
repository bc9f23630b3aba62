import { sql, type RawBuilder, type SqlBool } from 'kysely';
import type { FactorType } from '../schema';

/**
 * The factor types whose factors make a user enrolled (lib/factors/counting.ts decides them
 * from the org's settings); null when every user counts as enrolled (Duo only, R-E5).
 */
export type CountingFactorTypes = readonly FactorType[] | null;

/**
 * True when the user whose id is in column `owner` (such as 'users.id') counts as enrolled:
 * the one SQL form of "enrolled", shared by the users directory and the mail queries.
 */
export function hasCountingFactor(types: CountingFactorTypes, owner: string): RawBuilder<SqlBool> {
  if (types === null) return sql<SqlBool>`1 = 1`;
  if (types.length === 0) return sql<SqlBool>`1 = 0`;
  return sql<SqlBool>`exists (select 1 from factors cf where cf.user_id = ${sql.ref(owner)} and cf.type in (${sql.join([...types])}))`;
}
