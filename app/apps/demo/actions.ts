'use server';

import { redirect } from 'next/navigation';
import { z } from 'zod';
import { getDb } from '../../../db';
import { writeAudit } from '../../../db/queries/audit';
import { systemClock } from '../../../lib/clock';
import { requestClient } from '../../../lib/auth/current';
import { requireAccess } from '../../../lib/gate/require-access';

const noteSchema = z.string().trim().min(1).max(200);

/**
 * An example server action behind the gate. Server actions are POSTs to the page's URL
 * and can be called directly, so the action checks access itself (R-D9).
 */
export async function recordDemoNote(formData: FormData): Promise<void> {
  const { session } = await requireAccess('demo', '/apps/demo');
  const note = noteSchema.safeParse(formData.get('note'));
  if (!note.success) redirect('/apps/demo?error=note');
  const db = await getDb();
  await writeAudit(db.kysely, {
    at: systemClock.now(),
    actorId: session.userId,
    actorLabel: session.username,
    action: 'demo.note_recorded',
    targetType: 'demo',
    targetId: null,
    details: { note: note.data },
    clientIp: (await requestClient()).ip,
  });
  redirect('/apps/demo?saved=1');
}
