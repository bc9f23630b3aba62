'use server';

import { revalidatePath } from 'next/cache';
import { redirect } from 'next/navigation';
import { systemClock } from '../../../lib/clock';
import { requirePermission } from '../../../lib/admin/console-guard';
import { NotFoundError } from '../../../lib/admin/errors';
import { isNotFoundError } from '../../../lib/errors/brand';
import { createPolicy, deletePolicy, setPolicyEnabled, updatePolicy } from '../../../lib/admin/policies';
import { refusal, text } from '../_lib/actions';
import type { FormState } from '../_lib/form-state';
import { policyFieldNames, policyFormData } from './form-input';

/** Conditional access policies (R-C1..R-C5); every action checks requirePermission() itself (R-D9). */

const idPattern = /^[A-Za-z0-9_-]{1,200}$/;

function policyId(formData: FormData): string {
  const raw = text(formData, 'policyId');
  return idPattern.test(raw) ? raw : '';
}

export async function createPolicyAction(_previous: FormState, formData: FormData): Promise<FormState> {
  const { db, actor } = await requirePermission('policies.manage', '/admin/policies/new');
  const { input, values } = policyFormData(formData);
  try {
    await createPolicy(db, input, actor, systemClock);
  } catch (err) {
    return refusal(err, values, policyFieldNames);
  }
  revalidatePath('/admin/policies');
  redirect('/admin/policies?done=created');
}

export async function updatePolicyAction(_previous: FormState, formData: FormData): Promise<FormState> {
  const id = policyId(formData);
  const { db, actor } = await requirePermission('policies.manage', id ? `/admin/policies/${id}` : '/admin/policies');
  const { input, values } = policyFormData(formData);
  try {
    if (!id) throw new NotFoundError('policy');
    await updatePolicy(db, id, input, actor, systemClock);
  } catch (err) {
    return refusal(err, values, policyFieldNames);
  }
  revalidatePath('/admin/policies');
  redirect('/admin/policies?done=saved');
}

/** R-C1: the ON/OFF switch in the list; takes effect at each user's next request. */
export async function switchPolicyAction(formData: FormData): Promise<void> {
  const { db, actor } = await requirePermission('policies.manage', '/admin/policies');
  const id = policyId(formData);
  const enabled = text(formData, 'enabled');
  if (enabled !== 'on' && enabled !== 'off') redirect('/admin/policies');
  try {
    await setPolicyEnabled(db, id, enabled === 'on', actor, systemClock);
  } catch (err) {
    if (isNotFoundError(err)) redirect('/admin/policies?error=not_found');
    throw err;
  }
  redirect(`/admin/policies?done=${enabled === 'on' ? 'on' : 'off'}`);
}

export async function deletePolicyAction(formData: FormData): Promise<void> {
  const { db, actor } = await requirePermission('policies.manage', '/admin/policies');
  try {
    await deletePolicy(db, policyId(formData), actor, systemClock);
  } catch (err) {
    if (isNotFoundError(err)) redirect('/admin/policies?error=not_found');
    throw err;
  }
  redirect('/admin/policies?done=deleted');
}
