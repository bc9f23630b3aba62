import { randomUUID } from 'node:crypto';
import { z } from 'zod';
import type { Kysely } from 'kysely';
import type { Database } from '../../db';
import { writeAudit } from '../../db/queries/audit';
import {
  deleteGroupRow,
  findGroupIdByName,
  getGroupById,
  insertGroup,
  listGroupSummaries,
  listMemberIds,
  renameGroupRow,
  replaceGroupMembers,
  type GroupSummary,
} from '../../db/queries/groups';
import { findUnknownUserIds } from '../../db/queries/mfa';
import { policiesReferencingGroup, updatePolicyRow } from '../../db/queries/policies';
import { isUniqueViolation } from '../../db/queries/unique-violation';
import { bumpConfigVersion } from '../../db/queries/settings';
import type { Clock } from '../clock';
import type { Actor } from './actor';
import { ConflictError, NotFoundError, parseInput } from './errors';
import { graceAuditDetails, openGraceOnMembershipChange } from './grace-windows';
import { userIdList } from './mfa-requirements';
import { invalidateUserCounts } from './user-counts';

/** User groups: the "Selected User Groups" of conditional access policies (R-C2). */

export type { GroupSummary } from '../../db/queries/groups';

export const maxGroupNameLength = 100;

export const nameSchema = z.object(
  {
    name: z
      .string('Name is required.')
      .trim()
      .min(1, 'Name is required.')
      .max(maxGroupNameLength, `Name is at most ${maxGroupNameLength} characters.`),
  },
  'Expected an object.',
);

export const membersSchema = z.object({ userIds: userIdList(0) }, 'Expected an object.');

function nameTaken(name: string): ConflictError {
  return new ConflictError(`A group named "${name}" already exists.`, 'name');
}

/** Turns a race on the unique index on name_lower into the same ConflictError as the check. */
async function withNameRace<T>(name: string, work: () => Promise<T>): Promise<T> {
  try {
    return await work();
  } catch (err) {
    if (isUniqueViolation(err)) throw nameTaken(name);
    throw err;
  }
}

function audit(trx: Kysely<Database>, actor: Actor, at: number, action: string, groupId: string, details: Record<string, unknown>) {
  return writeAudit(trx, {
    at,
    actorId: actor.id,
    actorLabel: actor.label,
    action,
    targetType: 'group',
    targetId: groupId,
    details,
    clientIp: actor.clientIp,
  });
}

/** Creates a group; names are unique case-insensitively. */
export async function createGroup(
  db: Kysely<Database>,
  input: unknown,
  actor: Actor,
  clock: Clock,
): Promise<{ id: string; name: string }> {
  const { name } = parseInput(nameSchema, input);
  const id = randomUUID();
  return withNameRace(name, () =>
    db.transaction().execute(async (trx) => {
      if ((await findGroupIdByName(trx, name)) !== undefined) throw nameTaken(name);
      const now = clock.now();
      await insertGroup(trx, { id, name, createdAt: now });
      await audit(trx, actor, now, 'group.created', id, { name });
      return { id, name };
    }),
  );
}

export async function renameGroup(
  db: Kysely<Database>,
  id: string,
  input: unknown,
  actor: Actor,
  clock: Clock,
): Promise<{ id: string; name: string }> {
  const { name } = parseInput(nameSchema, input);
  return withNameRace(name, () =>
    db.transaction().execute(async (trx) => {
      const current = await getGroupById(trx, id);
      if (!current) throw new NotFoundError('group', [id]);
      if (current.name === name) return current;
      const holder = await findGroupIdByName(trx, name);
      if (holder !== undefined && holder !== id) throw nameTaken(name);
      const now = clock.now();
      await renameGroupRow(trx, id, name);
      // The forward-auth endpoints keep group names per configuration version (lib/gate/group-names.ts).
      await bumpConfigVersion(trx);
      await audit(trx, actor, now, 'group.renamed', id, { from: current.name, to: name });
      return { id, name };
    }),
  );
}

/**
 * Deletes a group with its memberships and removes it from every policy's included and
 * excluded groups, in one transaction that also bumps the config version.
 *
 * NOTE: dropping a group from an exclusion widens that policy, and dropping the last
 * included group leaves a "groups" policy that covers nobody; the audit entry lists the
 * policies touched so the admin can review them.
 */
export async function deleteGroup(
  db: Kysely<Database>,
  id: string,
  actor: Actor,
  clock: Clock,
): Promise<{ policiesUpdated: string[] }> {
  return db.transaction().execute(async (trx) => {
    const current = await getGroupById(trx, id);
    if (!current) throw new NotFoundError('group', [id]);
    const now = clock.now();
    // Issue 18 part 6: every member leaves the group. Where it was excluded from a policy with
    // grace days, its members newly fall under that policy: their windows open now, read
    // against the policies as they were (before the group is dropped from them).
    const grace = await openGraceOnMembershipChange(trx, id, [], await listMemberIds(trx, id), now);
    const policies = await policiesReferencingGroup(trx, id);
    for (const policy of policies) {
      await updatePolicyRow(
        trx,
        {
          ...policy,
          includeGroupIds: policy.includeGroupIds.filter((g) => g !== id),
          excludeGroupIds: policy.excludeGroupIds.filter((g) => g !== id),
        },
        now,
      );
    }
    await deleteGroupRow(trx, id);
    await bumpConfigVersion(trx);
    const policiesUpdated = policies.map((p) => p.id);
    await audit(trx, actor, now, 'group.deleted', id, {
      name: current.name,
      policiesUpdated: policies.map((p) => ({ id: p.id, name: p.name })),
      ...graceAuditDetails(grace),
    });
    return { policiesUpdated };
  });
}

/**
 * Replaces the members of a group (an empty list empties it). All-or-nothing: one
 * unknown user id and nothing changes.
 * @throws NotFoundError('group') or NotFoundError('user', unknownIds)
 */
export async function setGroupMembers(
  db: Kysely<Database>,
  groupId: string,
  input: unknown,
  actor: Actor,
  clock: Clock,
): Promise<{ count: number; added: number; removed: number }> {
  const { userIds } = parseInput(membersSchema, input);
  const result = await db.transaction().execute(async (trx) => {
    const group = await getGroupById(trx, groupId);
    if (!group) throw new NotFoundError('group', [groupId]);
    const unknown = await findUnknownUserIds(trx, userIds);
    if (unknown.length > 0) throw new NotFoundError('user', unknown);
    const before = new Set(await listMemberIds(trx, groupId));
    const after = new Set(userIds);
    const joined = userIds.filter((u) => !before.has(u));
    const left = [...before].filter((u) => !after.has(u));
    const added = joined.length;
    const removed = left.length;
    const now = clock.now();
    await replaceGroupMembers(trx, groupId, userIds);
    // Issue 18 part 6: people this change brings into a policy with grace days get their window now.
    const grace = await openGraceOnMembershipChange(trx, groupId, joined, left, now);
    await audit(trx, actor, now, 'group.members_set', groupId, { name: group.name, count: userIds.length, added, removed, ...graceAuditDetails(grace) });
    return { count: userIds.length, added, removed, graceStarted: grace.length > 0 };
  });
  // A grace window moves people into "in enrollment period": the header counts are stale.
  if (result.graceStarted) invalidateUserCounts(db);
  return { count: result.count, added: result.added, removed: result.removed };
}

/** Every group with its member count, by name. */
export async function listGroups(db: Kysely<Database>): Promise<GroupSummary[]> {
  return listGroupSummaries(db);
}
