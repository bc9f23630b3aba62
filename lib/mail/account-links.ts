import type { Kysely } from 'kysely';
import type { Database } from '../../db';
import { getAccountTokenById } from '../../db/queries/account-tokens';

/** Whether an invitation or reset link is still worth sending: unused, not replaced, not expired. */
export async function accountLinkStillOpen(db: Kysely<Database>, tokenId: string, now: number): Promise<boolean> {
  const row = await getAccountTokenById(db, tokenId);
  return !!row && row.used_at === null && row.voided_at === null && row.expires_at !== null && Number(row.expires_at) > now;
}
