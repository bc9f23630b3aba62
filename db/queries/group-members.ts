import type { Kysely } from 'kysely';
import type { Database } from '../schema';
import { chunksOf } from './mfa';

/** Group members as the console shows and edits them (lib/admin/group-members.ts). */

export interface GroupMemberRow {
  id: string;
  username: string;
  displayName: string | null;
  email: string | null;
}

/** Members by username, at most `limit`. */
export async function listGroupMemberRows(db: Kysely<Database>, groupId: string, limit: number): Promise<GroupMemberRow[]> {
  const rows = await db
    .selectFrom('group_members as m')
    .innerJoin('users as u', 'u.id', 'm.user_id')
    .select(['u.id', 'u.username', 'u.display_name', 'u.email'])
    .where('m.group_id', '=', groupId)
    .orderBy('u.username_lower')
    .orderBy('u.id')
    .limit(limit)
    .execute();
  return rows.map((r) => ({ id: r.id, username: r.username, displayName: r.display_name, email: r.email }));
}

/** User ids by username (case-insensitive); the map's keys are the lowercased names found. */
export async function userIdsByUsernames(db: Kysely<Database>, usernames: readonly string[]): Promise<Map<string, string>> {
  const found = new Map<string, string>();
  const lowered = [...new Set(usernames.map((u) => u.toLowerCase()))];
  for (const chunk of chunksOf(lowered)) {
    const rows = await db.selectFrom('users').select(['id', 'username_lower']).where('username_lower', 'in', chunk).execute();
    for (const row of rows) found.set(row.username_lower, row.id);
  }
  return found;
}
