'use client';

import { useActionState, useEffect, useRef } from 'react';
import { useFormKey } from '../_components/use-form-key';
import { errorsOf, initialFormState, valueOf, valuesOf, type FormState } from '../_lib/form-state';
import { Confirm, EnrollmentDaysField, FieldErrors, FormMessages } from '../_components/fields';

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
  /** The latest sign-in, already in words ("Never" included). */
  lastSignIn: string;
}

/**
 * The users table with row selection and the "More actions" menu (R-B2, SPEC H). One form:
 * the checked rows, the days and the button pressed (`op`) go to the server action
 * together. Works without JavaScript: <details> is the menu and the confirm step, the days
 * field is plain text so that any value reaches the server's check and its message; only
 * "Select all on this page" needs a script (each row can be ticked without it).
 */
export function UsersTable({
  users,
  action,
  defaultDays,
  bulk = true,
}: {
  users: UserRowView[];
  action: (state: FormState, formData: FormData) => Promise<FormState>;
  defaultDays: number;
  /** false for a role without `users.edit` (helpdesk): no selection, no "More actions". */
  bulk?: boolean;
}) {
  const [state, formAction, pending] = useActionState(action, initialFormState);
  const formKey = useFormKey(state);
  const selected = new Set(valuesOf(state, 'userIds'));
  const dayErrors = errorsOf(state, 'enrollmentDays');
  const selectionErrors = errorsOf(state, 'userIds');
  const refused = Boolean(state.error);
  const formRef = useRef<HTMLFormElement>(null);
  const allRef = useRef<HTMLInputElement>(null);

  function rowBoxes(): HTMLInputElement[] {
    return Array.from(formRef.current?.querySelectorAll<HTMLInputElement>('input[name="userIds"]') ?? []);
  }
  /** The header box follows the rows: ticked, unticked or in between. */
  function syncAll() {
    const boxes = rowBoxes();
    const ticked = boxes.filter((b) => b.checked).length;
    if (!allRef.current) return;
    allRef.current.checked = boxes.length > 0 && ticked === boxes.length;
    allRef.current.indeterminate = ticked > 0 && ticked < boxes.length;
  }
  function selectAll(checked: boolean) {
    for (const box of rowBoxes()) box.checked = checked;
    syncAll();
  }
  useEffect(syncAll, [formKey, users]);

  return (
    <form key={formKey} ref={formRef} action={formAction} aria-label="Users" onChange={syncAll}>
      <FormMessages ok={state.ok} error={state.error} />
      <FieldErrors name="userIds" errors={selectionErrors} />
      {bulk && (
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
            <button type="submit" name="op" value="require" disabled={pending}>
              Require MFA on User Portal
            </button>
          </fieldset>
          <fieldset>
            <legend>Remove MFA requirement</legend>
            <p className="hint">
              For the selected users: MFA on the User Portal is no longer required of them by this setting (a policy may still require it).
              Their factors stay.
            </p>
            <Confirm summary="Remove MFA requirement…">
              <button type="submit" name="op" value="remove" className="danger" disabled={pending}>
                Remove MFA requirement from the selected users
              </button>
            </Confirm>
          </fieldset>
        </div>
      </details>
      )}
      <div className="table-scroll">
        <table>
          <thead>
            <tr>
              {bulk && (
              <th scope="col">
                <input
                  type="checkbox"
                  ref={allRef}
                  aria-label="Select all users on this page"
                  onChange={(e) => selectAll(e.currentTarget.checked)}
                  disabled={users.length === 0}
                />
              </th>
              )}
              <th scope="col">Username</th>
              <th scope="col">Name</th>
              <th scope="col">Email</th>
              <th scope="col">State</th>
              <th scope="col">Role</th>
              <th scope="col">MFA</th>
              <th scope="col">Last sign-in</th>
            </tr>
          </thead>
          <tbody>
            {users.length === 0 ? (
              <tr>
                <td colSpan={bulk ? 8 : 7}>No users match.</td>
              </tr>
            ) : (
              users.map((u) => (
                <tr key={u.id}>
                  {bulk && (
                    <td>
                      <input type="checkbox" name="userIds" value={u.id} defaultChecked={selected.has(u.id)} aria-label={`Select ${u.username}`} />
                    </td>
                  )}
                  <td>
                    <a href={`/admin/users/${encodeURIComponent(u.id)}`}>{u.username}</a>
                  </td>
                  <td>{u.displayName ?? ''}</td>
                  <td>{u.email ?? ''}</td>
                  <td>{u.state}</td>
                  <td>{u.role}</td>
                  <td>
                    {/* A disclosure, not a tooltip: reachable by keyboard and touch alike. */}
                    <details className="mfa-status">
                      <summary data-testid="mfa-status" aria-label={`${u.mfaText}: details for ${u.username}`}>
                        {u.mfaText}
                      </summary>
                      <p className="hint" data-testid="mfa-detail">
                        {u.mfaDetail}
                      </p>
                    </details>
                  </td>
                  <td>{u.lastSignIn}</td>
                </tr>
              ))
            )}
          </tbody>
        </table>
      </div>
    </form>
  );
}
