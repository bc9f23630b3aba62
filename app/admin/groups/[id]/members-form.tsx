'use client';

import { useActionState } from 'react';
import { useFormKey } from '../../_components/use-form-key';
import { errorsOf, initialFormState, valuesOf, type FormState } from '../../_lib/form-state';
import { FieldErrors, FormMessages } from '../../_components/fields';

export interface MemberView {
  id: string;
  username: string;
  displayName: string | null;
  email: string | null;
}

/** The members with a box each, and "Remove selected". */
export function MembersForm({
  groupId,
  members,
  action,
}: {
  groupId: string;
  members: MemberView[];
  action: (state: FormState, formData: FormData) => Promise<FormState>;
}) {
  const [state, formAction, pending] = useActionState(action, initialFormState);
  const formKey = useFormKey(state);
  const ticked = new Set(state.error ? valuesOf(state, 'userIds') : []);
  return (
    <form key={formKey} action={formAction} aria-label="Members">
      <input type="hidden" name="groupId" value={groupId} />
      <FormMessages ok={state.ok} error={state.error} />
      <FieldErrors name="userIds" errors={errorsOf(state, 'userIds')} />
      {members.length === 0 ? (
        <p>No members yet.</p>
      ) : (
        <>
          <table>
            <thead>
              <tr>
                <th scope="col">
                  <span className="visually-hidden">Select</span>
                </th>
                <th scope="col">Username</th>
                <th scope="col">Name</th>
                <th scope="col">Email</th>
              </tr>
            </thead>
            <tbody>
              {members.map((m) => (
                <tr key={m.id}>
                  <td>
                    <input type="checkbox" name="userIds" value={m.id} defaultChecked={ticked.has(m.id)} aria-label={`Select ${m.username}`} />
                  </td>
                  <td>
                    <a href={`/admin/users/${encodeURIComponent(m.id)}`}>{m.username}</a>
                  </td>
                  <td>{m.displayName ?? ''}</td>
                  <td>{m.email ?? ''}</td>
                </tr>
              ))}
            </tbody>
          </table>
          <button type="submit" className="secondary" disabled={pending}>
            Remove selected members
          </button>
        </>
      )}
    </form>
  );
}
