'use server';

import { revalidatePath } from 'next/cache';
import { redirect } from 'next/navigation';
import { systemClock } from '../../../lib/clock';
import { formatDateTime } from '../../../lib/format';
import { requirePermission } from '../../../lib/admin/console-guard';
import { createApiKey, revokeApiKey } from '../../../lib/admin/api-keys';
import { isNotFoundError } from '../../../lib/errors/brand';
import { refusal, text } from '../_lib/actions';
import type { FormState } from '../_lib/form-state';

/** A new key is answered once, in the action's response; only its hash is stored. */
export async function createApiKeyAction(_previous: FormState, formData: FormData): Promise<FormState> {
  const { db, actor } = await requirePermission('api_keys.manage', '/admin/api-keys'); // R-D9
  const values = { name: text(formData, 'name'), role: text(formData, 'role'), expiresInDays: text(formData, 'expiresInDays') };
  const days = values.expiresInDays.trim();
  try {
    const created = await createApiKey(
      db,
      // Blank: no expiry. Whole numbers reach the service as numbers; anything else as text, which it refuses.
      { name: values.name, role: values.role, ...(days === '' ? {} : { expiresInDays: /^\d{1,9}$/.test(days) ? Number(days) : days }) },
      actor,
      systemClock,
    );
    revalidatePath('/admin/api-keys');
    const access = { admin: 'admin access (read and change)', helpdesk: 'helpdesk access (users only)', read: 'read-only access' }[created.role];
    const expiry = created.expiresAt === null ? 'it does not expire' : `it stops working on ${formatDateTime(created.expiresAt)}`;
    return { ok: `API key “${values.name.trim()}” created with ${access}; ${expiry}.`, secret: created.key };
  } catch (err) {
    return refusal(err, values);
  }
}

export async function revokeApiKeyAction(formData: FormData): Promise<void> {
  const { db, actor } = await requirePermission('api_keys.manage', '/admin/api-keys'); // R-D9
  try {
    await revokeApiKey(db, text(formData, 'keyId'), actor, systemClock);
  } catch (err) {
    if (!(isNotFoundError(err))) throw err;
  }
  redirect('/admin/api-keys?done=revoked');
}
