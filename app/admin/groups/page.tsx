import type { Metadata } from 'next';
import { formatDateTime } from '../../../lib/format';
import { requirePermission } from '../../../lib/admin/console-guard';
import { listGroups } from '../../../lib/admin/groups';
import { AdminShell } from '../_components/shell';
import { SimpleForm } from '../_components/simple-form';
import { createGroupAction } from './actions';

export const metadata: Metadata = { title: 'Groups' };

export const dynamic = 'force-dynamic';

type SearchParams = Promise<Record<string, string | string[] | undefined>>;

/** User groups: the "Selected User Groups" and exclusions of policies (R-C2). */
export default async function GroupsPage({ searchParams }: { searchParams: SearchParams }) {
  const { session, db } = await requirePermission('groups.view', '/admin/groups'); // R-D9
  const query = await searchParams;
  const groups = await listGroups(db);
  return (
    <AdminShell title="Groups" session={session} current="/admin/groups">
      {query.done === 'deleted' && (
        <p className="notice" role="status">
          Group deleted; policies that named it no longer do.
        </p>
      )}
      <table>
        <thead>
          <tr>
            <th scope="col">Name</th>
            <th scope="col">Members</th>
            <th scope="col">Created</th>
          </tr>
        </thead>
        <tbody>
          {groups.length === 0 ? (
            <tr>
              <td colSpan={3}>No groups yet.</td>
            </tr>
          ) : (
            groups.map((g) => (
              <tr key={g.id}>
                <td>
                  <a href={`/admin/groups/${encodeURIComponent(g.id)}`}>{g.name}</a>
                </td>
                <td>{g.memberCount.toLocaleString('en-US')}</td>
                <td>{formatDateTime(g.createdAt)}</td>
              </tr>
            ))
          )}
        </tbody>
      </table>
      <h2>New group</h2>
      <SimpleForm label="New group" action={createGroupAction} submit="Create group" fields={[{ name: 'name', label: 'Group name' }]} />
    </AdminShell>
  );
}
