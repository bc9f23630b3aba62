import type { Kysely } from 'kysely';
import { sql } from 'kysely';
import type { Database } from '../schema';

export interface ResetCandidate {
  id: string;
  username: string;
}

/**
 * The accounts a "forgot password" request names: active users with an email address whose
 * username (case-insensitively) or email address (case-insensitively, on the
 * users_email_lower_idx expression) is `identifier`. At most `limit`, in id order.
 */
export async function resetCandidates(db: Kysely<Database>, identifier: string, limit: number): Promise<ResetCandidate[]> {
  return db
    .selectFrom('users')
    .select(['id', 'username'])
    .where('state', '=', 'active')
    .where('email', 'is not', null)
    .where((eb) => eb.or([eb('username_lower', '=', identifier.toLowerCase()), eb(sql`lower(email)`, '=', sql`lower(${identifier})`)]))
    .orderBy('id')
    .limit(limit)
    .execute();
}
