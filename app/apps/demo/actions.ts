'use server';

import { redirect } from 'next/navigation';
import { z } from 'zod';
import { systemClock } from '../../../lib/clock';
import { actionAccess, followRefusal } from '../../../lib/gate';
import { recordDemoNote as storeDemoNote } from '../../../lib/demo/notes';

const noteSchema = z.string().trim().min(1).max(200);

/**
 * An example server action behind the gate. Server actions are POSTs to the page's URL
 * and can be called directly, so the action checks access itself (R-D9).
 */
export async function recordDemoNote(formData: FormData): Promise<void> {
  const access = await actionAccess('demo', '/apps/demo');
  if (!access.ok) followRefusal(access);
  const { session, client } = access;
  const note = noteSchema.safeParse(formData.get('note'));
  if (!note.success) redirect('/apps/demo?error=note');
  await storeDemoNote(session, note.data, client, systemClock);
  redirect('/apps/demo?saved=1');
}
