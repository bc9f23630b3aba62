import type { Metadata } from 'next';
import { notFound } from 'next/navigation';
import { requirePermission } from '../../../../lib/admin/console-guard';
import { isNotFoundError } from '../../../../lib/errors/brand';
import { getGroupWithMembers, maxMembersShown, type GroupView } from '../../../../lib/admin/group-members';
import { ConfirmAction } from '../../_components/fields';
import { AdminShell } from '../../_components/shell';
import { SimpleForm } from '../../_components/simple-form';
import { addMembersAction, deleteGroupAction, removeMembersAction, renameGroupAction } from './actions';
import { MembersForm } from './members-form';

export const metadata: Metadata = { title: 'Group' };

export const dynamic = 'force-dynamic';

type Params = Promise<{ id: string }>;
type SearchParams = Promise<Record<string, string | string[] | undefined>>;

export default async function GroupPage({ params, searchParams }: { params: Params; searchParams: SearchParams }) {
  const { id } = await params;
  const query = await searchParams;
  const { session, db } = await requirePermission('groups.view', `/admin/groups/${encodeURIComponent(id)}`); // R-D9
  let group: GroupView;
  try {
    group = await getGroupWithMembers(db, id);
  } catch (err) {
    if (isNotFoundError(err)) notFound();
    throw err;
  }
  return (
    <AdminShell title={`Group ${group.name}`} session={session} current="/admin/groups">
      <p>
        <a href="/admin/groups">Back to groups</a>
      </p>
      {query.done === 'created' && (
        <p className="notice" role="status">
          Group created. Add its members below.
        </p>
      )}
      <h2>Rename</h2>
      <SimpleForm
        label="Rename group"
        action={renameGroupAction}
        submit="Rename group"
        hidden={{ groupId: group.id }}
        fields={[{ name: 'name', label: 'Group name', defaultValue: group.name }]}
      />

      <h2>Members</h2>
      {group.truncated && <p className="hint">Showing the first {maxMembersShown.toLocaleString('en-US')} members by username.</p>}
      <MembersForm groupId={group.id} members={group.members} action={removeMembersAction} />
      <h3>Add members</h3>
      <SimpleForm
        label="Add members"
        action={addMembersAction}
        submit="Add members"
        hidden={{ groupId: group.id }}
        fields={[{ name: 'usernames', label: 'Usernames', kind: 'textarea', hint: 'One per line (or separated by commas).' }]}
      />

      <h2>Delete</h2>
      <p className="hint">Policies that include or exclude this group stop naming it; an exclusion removed widens its policy.</p>
      <ConfirmAction
        summary="Delete this group…"
        action={deleteGroupAction}
        fields={{ groupId: group.id }}
        label={`Delete group ${group.name}`}
      />
    </AdminShell>
  );
}
