'use client';

import { useActionState } from 'react';
import { useFormKey } from '../_components/use-form-key';
import { errorsOf, initialFormState, valueOf, valuesOf, type FormState } from '../_lib/form-state';
import { EnrollmentDaysField, FieldErrors, FormMessages } from '../_components/fields';

export interface UserRowView {
  id: string;
  username: string;
  displayName: string | null;
  email: string | null;
  state: string;
  role: string;
  mfaText: string;
  mfaDetail: string;
  required: boolean;
}

/**
 * The users table with row selection and the "More actions" menu (R-B2, SPEC H). One form:
 * the checked rows and the days go to the server action together. Works without
 * JavaScript: <details> is the menu, the days field is plain text so that any value reaches
 * the server's check and its message.
 */
export function UsersTable({
  users,
  action,
  defaultDays,
}: {
  users: UserRowView[];
  action: (state: FormState, formData: FormData) => Promise<FormState>;
  defaultDays: number;
}) {
  const [state, formAction, pending] = useActionState(action, initialFormState);
  const formKey = useFormKey(state);
  const selected = new Set(valuesOf(state, 'userIds'));
  const dayErrors = errorsOf(state, 'enrollmentDays');
  const selectionErrors = errorsOf(state, 'userIds');
  const refused = Boolean(state.error);
  return (
    <form key={formKey} action={formAction} aria-label="Users">
      <FormMessages ok={state.ok} error={state.error} />
      <FieldErrors name="userIds" errors={selectionErrors} />
      <details className="menu" open={refused || undefined}>
        <summary>More actions</summary>
        <div className="menu-body">
          <fieldset>
            <legend>Require MFA on User Portal</legend>
            <p className="hint">For the selected users: each gets an enrollment period to set up TOTP, starting now (staged users: on activation).</p>
            <EnrollmentDaysField
              id="enrollmentDays"
              label="Enrollment period (days)"
              defaultValue={valueOf(state, 'enrollmentDays', String(defaultDays))}
              errors={dayErrors}
              hint="A whole number of days from 1 to 365."
            />
            <button type="submit" disabled={pending}>
              Require MFA on User Portal
            </button>
          </fieldset>
        </div>
      </details>
      <table>
        <thead>
          <tr>
            <th scope="col">
              <span className="visually-hidden">Select</span>
            </th>
            <th scope="col">Username</th>
            <th scope="col">Name</th>
            <th scope="col">Email</th>
            <th scope="col">State</th>
            <th scope="col">Role</th>
            <th scope="col">MFA</th>
          </tr>
        </thead>
        <tbody>
          {users.length === 0 ? (
            <tr>
              <td colSpan={7}>No users match.</td>
            </tr>
          ) : (
            users.map((u) => (
              <tr key={u.id}>
                <td>
                  <input type="checkbox" name="userIds" value={u.id} defaultChecked={selected.has(u.id)} aria-label={`Select ${u.username}`} />
                </td>
                <td>
                  <a href={`/admin/users/${encodeURIComponent(u.id)}`}>{u.username}</a>
                </td>
                <td>{u.displayName ?? ''}</td>
                <td>{u.email ?? ''}</td>
                <td>{u.state}</td>
                <td>{u.role}</td>
                <td>
                  <span className="mfa-status" title={u.mfaDetail} data-testid="mfa-status">
                    {u.mfaText}
                  </span>
                </td>
              </tr>
            ))
          )}
        </tbody>
      </table>
    </form>
  );
}
