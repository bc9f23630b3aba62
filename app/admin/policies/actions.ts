'use server';

import { revalidatePath } from 'next/cache';
import { redirect } from 'next/navigation';
import { systemClock } from '../../../lib/clock';
import { requirePermission } from '../../../lib/admin/console-guard';
import { NotFoundError } from '../../../lib/admin/errors';
import { isNotFoundError } from '../../../lib/errors/brand';
import { createPolicy, deletePolicy, draftNewPolicy, draftPolicyChange, getPolicy, setPolicyEnabled, updatePolicy } from '../../../lib/admin/policies';
import { needsPreview, policyImpact, previewDigest } from '../../../lib/admin/policy-impact';
import type { PolicyRecord } from '../../../lib/policy';
import type { Kysely } from 'kysely';
import type { Database } from '../../../db';
import { refusal, text } from '../_lib/actions';
import { policyFieldNames, policyFormData } from './form-input';
import type { PolicyFormState } from './preview-state';

/** Conditional access policies (R-C1..R-C5); every action checks requirePermission() itself (R-D9). */

const idPattern = /^[A-Za-z0-9_-]{1,200}$/;

function policyId(formData: FormData): string {
  const raw = text(formData, 'policyId');
  return idPattern.test(raw) ? raw : '';
}

/**
 * Issue 18 §5: when the change leaves the policy ON (created ON, switched ON, changed while
 * ON), the first submission only answers the impact preview. "Confirm" submits the same form
 * with the preview's digest; the draft is validated again and applied only if its digest is
 * still the one previewed, else it is previewed again. Null: go ahead and apply.
 */
async function previewStep(
  db: Kysely<Database>,
  formData: FormData,
  values: PolicyFormState['values'],
  before: PolicyRecord | null,
  after: PolicyRecord,
  changed: readonly string[],
): Promise<PolicyFormState | null> {
  if (!needsPreview(before, after, changed)) return null;
  const digest = previewDigest(after);
  const confirming = text(formData, 'intent') === 'confirm';
  if (confirming && text(formData, 'previewDigest') === digest) return null;
  const impact = await policyImpact(db, after, systemClock);
  return { values, preview: { impact, digest, action: after.action, changedSincePreview: confirming } };
}

export async function createPolicyAction(_previous: PolicyFormState, formData: FormData): Promise<PolicyFormState> {
  const { db, actor } = await requirePermission('policies.manage', '/admin/policies/new');
  const { input, values } = policyFormData(formData);
  try {
    const preview = await previewStep(db, formData, values, null, await draftNewPolicy(db, input), ['all']);
    if (preview) return preview;
    await createPolicy(db, input, actor, systemClock);
  } catch (err) {
    return refusal(err, values, policyFieldNames);
  }
  revalidatePath('/admin/policies');
  redirect('/admin/policies?done=created');
}

export async function updatePolicyAction(_previous: PolicyFormState, formData: FormData): Promise<PolicyFormState> {
  const id = policyId(formData);
  const { db, actor } = await requirePermission('policies.manage', id ? `/admin/policies/${id}` : '/admin/policies');
  const { input, values } = policyFormData(formData);
  try {
    if (!id) throw new NotFoundError('policy');
    const { current, next, changed } = await draftPolicyChange(db, id, input);
    const preview = await previewStep(db, formData, values, current, next, changed);
    if (preview) return preview;
    await updatePolicy(db, id, input, actor, systemClock);
  } catch (err) {
    return refusal(err, values, policyFieldNames);
  }
  revalidatePath('/admin/policies');
  redirect('/admin/policies?done=saved');
}

/**
 * R-C1: the ON/OFF switch; takes effect at each user's next request. Switching ON comes from
 * the impact preview (issue 18 §5, [id]/switch-on): it applies only if the policy is still
 * the one previewed (its digest), else the admin is shown the preview of what it is now.
 */
export async function switchPolicyAction(formData: FormData): Promise<void> {
  const { db, actor } = await requirePermission('policies.manage', '/admin/policies');
  const id = policyId(formData);
  const enabled = text(formData, 'enabled');
  if (enabled !== 'on' && enabled !== 'off') redirect('/admin/policies');
  try {
    if (enabled === 'on') {
      const current = await getPolicy(db, id);
      const previewed = text(formData, 'previewDigest');
      if (!current.enabled && previewed !== previewDigest({ ...current, enabled: true })) {
        redirect(`/admin/policies/${encodeURIComponent(id)}/switch-on${previewed ? '?changed=1' : ''}`);
      }
    }
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
