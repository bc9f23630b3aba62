import { notFound } from 'next/navigation';
import { requirePermission } from '../../../../lib/admin/console-guard';
import { isNotFoundError } from '../../../../lib/errors/brand';
import { listGroups } from '../../../../lib/admin/groups';
import { getPolicy } from '../../../../lib/admin/policies';
import type { PolicyRecord } from '../../../../lib/policy';
import { ConfirmAction } from '../../_components/fields';
import { AdminShell } from '../../_components/shell';
import { deletePolicyAction, updatePolicyAction } from '../actions';
import { resourceOptions } from '../resource-options';
import { PolicyForm } from '../policy-form';

export const dynamic = 'force-dynamic';
export const metadata = { title: 'Edit policy' };

type Params = Promise<{ id: string }>;

export default async function EditPolicyPage({ params }: { params: Params }) {
  const { id } = await params;
  const { session, db } = await requirePermission('policies.view', `/admin/policies/${encodeURIComponent(id)}`); // R-D9
  let policy: PolicyRecord;
  try {
    policy = await getPolicy(db, id);
  } catch (err) {
    if (isNotFoundError(err)) notFound();
    throw err;
  }
  const groups = await listGroups(db);
  const known = new Set(resourceOptions().map((r) => r.value));
  // A resource no longer declared in portcullis.config.ts still shows, so saving keeps it.
  const resources = [...resourceOptions(), ...policy.resources.filter((r) => !known.has(r)).map((r) => ({ value: r, label: `${r} (not declared)` }))];
  return (
    <AdminShell title={`Policy ${policy.name}`} session={session} current="/admin/policies">
      <p>
        <a href="/admin/policies">Back to policies</a>
      </p>
      <PolicyForm
        action={updatePolicyAction}
        submit="Save policy"
        groups={groups.map((g) => ({ value: g.id, label: g.name }))}
        resources={resources}
        policy={{
          id: policy.id,
          name: policy.name,
          description: policy.description ?? '',
          enabled: policy.enabled,
          scope: policy.scope,
          includeGroupIds: policy.includeGroupIds,
          excludeGroupIds: policy.excludeGroupIds,
          ipIn: policy.conditions.ipIn ?? [],
          ipNotIn: policy.conditions.ipNotIn ?? [],
          osIn: policy.conditions.osIn ?? [],
          browserIn: policy.conditions.browserIn ?? [],
          resources: policy.resources,
          action: policy.action,
          strength: policy.strength ?? 'any',
          reverifyMinutes: policy.reverifyMinutes ?? null,
          rememberDays: policy.rememberDays ?? null,
          graceDays: policy.graceDays ?? 0,
          priority: policy.priority ?? 0,
        }}
      />
      <h2>Delete</h2>
      <ConfirmAction
        summary="Delete this policy…"
        action={deletePolicyAction}
        fields={{ policyId: policy.id }}
        label={`Delete policy ${policy.name}`}
      />
    </AdminShell>
  );
}
