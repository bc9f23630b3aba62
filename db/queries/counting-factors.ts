import { sql, type Kysely, type RawBuilder, type SqlBool } from 'kysely';
import type { Database, FactorType } from '../schema';

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

/** True when `userId` has a factor of one of `types` (null: everyone counts, as above). */
export async function userHasCountingFactor(db: Kysely<Database>, userId: string, types: CountingFactorTypes): Promise<boolean> {
  if (types === null) return true;
  if (types.length === 0) return false;
  const row = await db.selectFrom('factors').select('id').where('user_id', '=', userId).where('type', 'in', [...types]).limit(1).executeTakeFirst();
  return row !== undefined;
}
