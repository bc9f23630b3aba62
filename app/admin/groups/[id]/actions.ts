'use server';

import { revalidatePath } from 'next/cache';
import { redirect } from 'next/navigation';
import { systemClock } from '../../../../lib/clock';
import { requirePermission } from '../../../../lib/admin/console-guard';
import { NotFoundError } from '../../../../lib/admin/errors';
import { isNotFoundError } from '../../../../lib/errors/brand';
import { addGroupMembersByUsername, removeGroupMembers } from '../../../../lib/admin/group-members';
import { deleteGroup, renameGroup } from '../../../../lib/admin/groups';
import { lines, refusal, text, texts } from '../../_lib/actions';
import type { FormState } from '../../_lib/form-state';

const idPattern = /^[A-Za-z0-9_-]{1,200}$/;

function groupPath(id: string): string {
  return `/admin/groups/${encodeURIComponent(id)}`;
}

async function adminForGroup(formData: FormData) {
  const raw = text(formData, 'groupId');
  const id = idPattern.test(raw) ? raw : '';
  const admin = await requirePermission('groups.manage', id ? groupPath(id) : '/admin/groups'); // R-D9
  return { ...admin, id };
}

export async function renameGroupAction(_previous: FormState, formData: FormData): Promise<FormState> {
  const { db, actor, id } = await adminForGroup(formData);
  const name = text(formData, 'name');
  try {
    if (!id) throw new NotFoundError('group');
    const result = await renameGroup(db, id, { name }, actor, systemClock);
    revalidatePath(groupPath(id));
    return { ok: `Renamed to “${result.name}”.` };
  } catch (err) {
    return refusal(err, { name });
  }
}

export async function addMembersAction(_previous: FormState, formData: FormData): Promise<FormState> {
  const { db, actor, id } = await adminForGroup(formData);
  const usernames = text(formData, 'usernames');
  try {
    if (!id) throw new NotFoundError('group');
    const result = await addGroupMembersByUsername(db, id, lines(usernames.replace(/,/g, '\n')), actor, systemClock);
    revalidatePath(groupPath(id));
    return { ok: `${result.added} member${result.added === 1 ? '' : 's'} added; the group has ${result.count}.` };
  } catch (err) {
    return refusal(err, { usernames });
  }
}

export async function removeMembersAction(_previous: FormState, formData: FormData): Promise<FormState> {
  const { db, actor, id } = await adminForGroup(formData);
  const userIds = texts(formData, 'userIds');
  try {
    if (!id) throw new NotFoundError('group');
    const result = await removeGroupMembers(db, id, userIds, actor, systemClock);
    revalidatePath(groupPath(id));
    return { ok: `${result.removed} member${result.removed === 1 ? '' : 's'} removed; the group has ${result.count}.` };
  } catch (err) {
    return refusal(err, { userIds });
  }
}

export async function deleteGroupAction(formData: FormData): Promise<void> {
  const { db, actor, id } = await adminForGroup(formData);
  try {
    await deleteGroup(db, id, actor, systemClock);
  } catch (err) {
    if (!(isNotFoundError(err))) throw err;
  }
  redirect('/admin/groups?done=deleted');
}
