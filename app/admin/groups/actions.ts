'use server';

import { redirect } from 'next/navigation';
import { systemClock } from '../../../lib/clock';
import { requirePermission } from '../../../lib/admin/console-guard';
import { createGroup } from '../../../lib/admin/groups';
import { refusal, text } from '../_lib/actions';
import type { FormState } from '../_lib/form-state';

export async function createGroupAction(_previous: FormState, formData: FormData): Promise<FormState> {
  const { db, actor } = await requirePermission('groups.manage', '/admin/groups'); // R-D9
  const name = text(formData, 'name');
  let id: string;
  try {
    ({ id } = await createGroup(db, { name }, actor, systemClock));
  } catch (err) {
    return refusal(err, { name });
  }
  redirect(`/admin/groups/${encodeURIComponent(id)}?done=created`);
}
