import { requirePermission } from '../../../../lib/admin/console-guard';
import { listGroups } from '../../../../lib/admin/groups';
import { AdminShell } from '../../_components/shell';
import { createPolicyAction } from '../actions';
import { resourceOptions } from '../resource-options';
import { PolicyForm } from '../policy-form';

export const dynamic = 'force-dynamic';
export const metadata = { title: 'New policy' };

export default async function NewPolicyPage() {
  const { session, db } = await requirePermission('policies.manage', '/admin/policies/new'); // R-D9
  const groups = await listGroups(db);
  return (
    <AdminShell title="New policy" session={session} current="/admin/policies">
      <p>
        <a href="/admin/policies">Back to policies</a>
      </p>
      <PolicyForm
        action={createPolicyAction}
        submit="Create policy"
        groups={groups.map((g) => ({ value: g.id, label: g.name }))}
        resources={resourceOptions()}
        policy={{
          id: null,
          name: '',
          description: '',
          enabled: false,
          scope: 'all',
          includeGroupIds: [],
          excludeGroupIds: [],
          ipIn: [],
          ipNotIn: [],
          osIn: [],
          browserIn: [],
          resources: ['portal'],
          action: 'require_mfa',
          strength: 'any',
          reverifyMinutes: null,
          rememberDays: null,
          graceDays: 0,
          priority: 0,
        }}
      />
    </AdminShell>
  );
}
