import { requirePermission } from '../../../../lib/admin/console-guard';
import { defaultEnrollmentDays } from '../../../../lib/policy';
import { AdminShell } from '../../_components/shell';
import { createUserAction } from './actions';
import { NewUserForm } from './user-form';
import type { Metadata } from 'next';

export const metadata: Metadata = { title: 'New user' };

export const dynamic = 'force-dynamic';

export default async function NewUserPage() {
  const { session } = await requirePermission('users.create', '/admin/users/new'); // R-D9
  return (
    <AdminShell title="New user" session={session} current="/admin/users">
      <p>
        <a href="/admin/users">Back to users</a>
      </p>
      <NewUserForm action={createUserAction} defaultDays={defaultEnrollmentDays} />
    </AdminShell>
  );
}
