import type { Kysely } from 'kysely';
import type { Database } from '../schema';
import { chunksOf } from './mfa';

/** User groups, the scope of conditional access policies (R-C2). */

export interface GroupSummary {
  id: string;
  name: string;
  createdAt: number;
  memberCount: number;
}

export async function getGroupById(db: Kysely<Database>, id: string): Promise<{ id: string; name: string } | undefined> {
  return db.selectFrom('groups').select(['id', 'name']).where('id', '=', id).executeTakeFirst();
}

/** The id of the group with this name (case-insensitive), if any. */
export async function findGroupIdByName(db: Kysely<Database>, name: string): Promise<string | undefined> {
  const row = await db.selectFrom('groups').select('id').where('name_lower', '=', name.toLowerCase()).executeTakeFirst();
  return row?.id;
}

/** The ids in `ids` that name no group, in input order. */
export async function findUnknownGroupIds(db: Kysely<Database>, ids: readonly string[]): Promise<string[]> {
  const found = new Set<string>();
  for (const chunk of chunksOf(ids)) {
    const rows = await db.selectFrom('groups').select('id').where('id', 'in', chunk).execute();
    for (const row of rows) found.add(row.id);
  }
  return ids.filter((id) => !found.has(id));
}

export async function insertGroup(db: Kysely<Database>, group: { id: string; name: string; createdAt: number }): Promise<void> {
  await db
    .insertInto('groups')
    .values({ id: group.id, name: group.name, name_lower: group.name.toLowerCase(), created_at: group.createdAt })
    .execute();
}

export async function renameGroupRow(db: Kysely<Database>, id: string, name: string): Promise<boolean> {
  const result = await db
    .updateTable('groups')
    .set({ name, name_lower: name.toLowerCase() })
    .where('id', '=', id)
    .executeTakeFirst();
  return result.numUpdatedRows > 0n;
}

/** Deletes the group and its memberships. */
export async function deleteGroupRow(db: Kysely<Database>, id: string): Promise<boolean> {
  await db.deleteFrom('group_members').where('group_id', '=', id).execute();
  const result = await db.deleteFrom('groups').where('id', '=', id).executeTakeFirst();
  return result.numDeletedRows > 0n;
}

export async function listGroupSummaries(db: Kysely<Database>): Promise<GroupSummary[]> {
  const rows = await db
    .selectFrom('groups')
    .leftJoin('group_members', 'group_members.group_id', 'groups.id')
    .select((eb) => ['groups.id', 'groups.name', 'groups.created_at', eb.fn.count<number>('group_members.user_id').as('members')])
    .groupBy(['groups.id', 'groups.name', 'groups.name_lower', 'groups.created_at'])
    .orderBy('groups.name_lower')
    .execute();
  return rows.map((r) => ({ id: r.id, name: r.name, createdAt: Number(r.created_at), memberCount: Number(r.members) }));
}

export async function listMemberIds(db: Kysely<Database>, groupId: string): Promise<string[]> {
  const rows = await db.selectFrom('group_members').select('user_id').where('group_id', '=', groupId).execute();
  return rows.map((r) => r.user_id);
}

/** The groups a user belongs to, for the gate's scope check. */
export async function groupIdsOfUser(db: Kysely<Database>, userId: string): Promise<string[]> {
  const rows = await db.selectFrom('group_members').select('group_id').where('user_id', '=', userId).execute();
  return rows.map((r) => r.group_id);
}

/** Replaces the members of a group: one delete, then multi-row inserts in chunks. */
export async function replaceGroupMembers(db: Kysely<Database>, groupId: string, userIds: readonly string[]): Promise<void> {
  await db.deleteFrom('group_members').where('group_id', '=', groupId).execute();
  for (const chunk of chunksOf(userIds)) {
    await db
      .insertInto('group_members')
      .values(chunk.map((userId) => ({ group_id: groupId, user_id: userId })))
      .execute();
  }
}

/** Every group's id and name (the forward-auth endpoints' Remote-Groups, lib/gate/group-names.ts). */
export async function listGroupNames(db: Kysely<Database>): Promise<{ id: string; name: string }[]> {
  return db.selectFrom('groups').select(['id', 'name']).execute();
}
