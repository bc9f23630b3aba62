import type { Kysely } from 'kysely';
import type { Database } from '../../db';
import { getGroupById, listMemberIds } from '../../db/queries/groups';
import { listGroupMemberRows, userIdsByUsernames, type GroupMemberRow } from '../../db/queries/group-members';
import type { Clock } from '../clock';
import type { Actor } from './actor';
import { NotFoundError, ValidationError } from './errors';
import { maxUsersPerBulkChange } from './mfa-requirements';
import { setGroupMembers } from './groups';

/**
 * The console's member editing on top of setGroupMembers() (which replaces the whole list,
 * all-or-nothing, audited): add people by username, remove ticked ones.
 *
 * NOTE: each edit reads the members, then replaces them; two admins editing the same group
 * at the same instant can lose one edit (the audit log shows both). Groups are edited by
 * hand, rarely at once.
 */

export type { GroupMemberRow } from '../../db/queries/group-members';

export const maxMembersShown = 1000;
export const maxUsernamesPerAdd = 1000;

export interface GroupView {
  id: string;
  name: string;
  members: GroupMemberRow[];
  /** More members than `maxMembersShown`. */
  truncated: boolean;
}

/** @throws NotFoundError('group') */
export async function getGroupWithMembers(db: Kysely<Database>, groupId: string): Promise<GroupView> {
  const group = typeof groupId === 'string' && groupId.length <= 200 ? await getGroupById(db, groupId) : undefined;
  if (!group) throw new NotFoundError('group', [String(groupId).slice(0, 200)]);
  const rows = await listGroupMemberRows(db, group.id, maxMembersShown + 1);
  return { id: group.id, name: group.name, members: rows.slice(0, maxMembersShown), truncated: rows.length > maxMembersShown };
}

/**
 * Adds users by username (one per entry, case-insensitive). Unknown names refuse the
 * whole change. Already a member: no-op for that name.
 * @throws ValidationError({usernames}), NotFoundError('group')
 */
export async function addGroupMembersByUsername(
  db: Kysely<Database>,
  groupId: string,
  usernames: readonly string[],
  actor: Actor,
  clock: Clock,
): Promise<{ added: number; count: number }> {
  const names = [...new Set(usernames.map((u) => u.trim()).filter((u) => u.length > 0))];
  if (names.length === 0) throw new ValidationError({ usernames: ['Enter at least one username.'] });
  if (names.length > maxUsernamesPerAdd) throw new ValidationError({ usernames: [`At most ${maxUsernamesPerAdd} usernames at once.`] });
  if (names.some((n) => n.length > 128)) throw new ValidationError({ usernames: ['A username is at most 128 characters.'] });
  const found = await userIdsByUsernames(db, names);
  const unknown = names.filter((n) => !found.has(n.toLowerCase()));
  if (unknown.length > 0) {
    throw new ValidationError({
      usernames: [`No user named ${unknown.slice(0, 10).map((n) => `“${n}”`).join(', ')}${unknown.length > 10 ? ' …' : ''}. Nothing was changed.`],
    });
  }
  if ((await getGroupById(db, groupId)) === undefined) throw new NotFoundError('group', [groupId]);
  const current = await listMemberIds(db, groupId);
  const next = [...new Set([...current, ...found.values()])];
  if (next.length > maxUsersPerBulkChange) {
    throw new ValidationError({ usernames: [`A group edited here has at most ${maxUsersPerBulkChange.toLocaleString('en-US')} members; use the API for larger groups.`] });
  }
  const result = await setGroupMembers(db, groupId, { userIds: next }, actor, clock);
  return { added: result.added, count: result.count };
}

/** Removes the listed members; ids that are not members are ignored. @throws NotFoundError('group') */
export async function removeGroupMembers(
  db: Kysely<Database>,
  groupId: string,
  userIds: readonly string[],
  actor: Actor,
  clock: Clock,
): Promise<{ removed: number; count: number }> {
  if (userIds.length === 0) throw new ValidationError({ userIds: ['Tick at least one member to remove.'] });
  if ((await getGroupById(db, groupId)) === undefined) throw new NotFoundError('group', [groupId]);
  const drop = new Set(userIds);
  const current = await listMemberIds(db, groupId);
  const next = current.filter((id) => !drop.has(id));
  const result = await setGroupMembers(db, groupId, { userIds: next }, actor, clock);
  return { removed: result.removed, count: result.count };
}
