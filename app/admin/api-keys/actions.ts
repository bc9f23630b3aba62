'use server';

import { revalidatePath } from 'next/cache';
import { redirect } from 'next/navigation';
import { systemClock } from '../../../lib/clock';
import { requireAdmin } from '../../../lib/admin/console-guard';
import { createApiKey, revokeApiKey } from '../../../lib/admin/api-keys';
import { isNotFoundError } from '../../../lib/errors/brand';
import { refusal, text } from '../_lib/actions';
import type { FormState } from '../_lib/form-state';

/** A new key is answered once, in the action's response; only its hash is stored. */
export async function createApiKeyAction(_previous: FormState, formData: FormData): Promise<FormState> {
  const { db, actor } = await requireAdmin('/admin/api-keys'); // R-D9
  const values = { name: text(formData, 'name'), role: text(formData, 'role') };
  try {
    const { key } = await createApiKey(db, values, actor, systemClock);
    revalidatePath('/admin/api-keys');
    return { ok: `API key “${values.name.trim()}” created.`, secret: key };
  } catch (err) {
    return refusal(err, values);
  }
}

export async function revokeApiKeyAction(formData: FormData): Promise<void> {
  const { db, actor } = await requireAdmin('/admin/api-keys'); // R-D9
  try {
    await revokeApiKey(db, text(formData, 'keyId'), actor, systemClock);
  } catch (err) {
    if (!(isNotFoundError(err))) throw err;
  }
  redirect('/admin/api-keys?done=revoked');
}
