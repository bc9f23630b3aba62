'use client';

import { useActionState } from 'react';
import { useFormKey } from '../../_components/use-form-key';
import { errorsOf, initialFormState, valueOf, type FormState } from '../../_lib/form-state';
import { EnrollmentDaysField, FieldErrors, FormMessages, invalidProps } from '../../_components/fields';

type Action = (state: FormState, formData: FormData) => Promise<FormState>;

export interface EditableUser {
  id: string;
  state: string;
  email: string;
  displayName: string;
  required: boolean;
  enrollmentDays: number;
  /** Once active, a user cannot go back to staged. */
  canStage: boolean;
}

/** State, the R-B1 requirement and the profile, saved together. */
export function EditUserForm({ user, action }: { user: EditableUser; action: Action }) {
  const [state, formAction, pending] = useActionState(action, initialFormState);
  const formKey = useFormKey(state);
  const v = (name: string, fallback: string) => valueOf(state, name, fallback);
  const e = (name: string) => errorsOf(state, name);
  const requireChecked = state.values ? valueOf(state, 'requireMfa') === 'on' : user.required;
  return (
    <form key={formKey} action={formAction} aria-label="Edit user">
      <input type="hidden" name="userId" value={user.id} />
      <FormMessages ok={state.ok} error={state.error} />
      <label htmlFor="state">State</label>
      <select id="state" name="state" defaultValue={v('state', user.state)} {...invalidProps('state', e('state'))}>
        {user.canStage && <option value="staged">Staged (not yet active: pre-enrollment)</option>}
        <option value="active">Active</option>
        <option value="suspended">Suspended (signed out everywhere)</option>
      </select>
      <FieldErrors name="state" errors={e('state')} />

      <fieldset>
        <legend>Multi-factor authentication</legend>
        <label className="check">
          <input type="checkbox" name="requireMfa" defaultChecked={requireChecked} /> Require Multi-factor Authentication for User Portal
        </label>
        <EnrollmentDaysField
          id="enrollmentDays"
          label="Enrollment period (days)"
          defaultValue={v('enrollmentDays', String(user.enrollmentDays))}
          errors={e('enrollmentDays')}
          hint="1 to 365 days to set up TOTP. Requiring MFA, or changing the days, starts a new period now."
        />
      </fieldset>

      <label htmlFor="email">Email</label>
      <input id="email" name="email" type="text" inputMode="email" autoComplete="off" defaultValue={v('email', user.email)} {...invalidProps('email', e('email'))} />
      <FieldErrors name="email" errors={e('email')} />

      <label htmlFor="displayName">Display name</label>
      <input id="displayName" name="displayName" type="text" autoComplete="off" defaultValue={v('displayName', user.displayName)} {...invalidProps('displayName', e('displayName'))} />
      <FieldErrors name="displayName" errors={e('displayName')} />

      <button type="submit" disabled={pending}>
        Save changes
      </button>
    </form>
  );
}

export function RoleForm({ userId, role, action }: { userId: string; role: string; action: Action }) {
  const [state, formAction, pending] = useActionState(action, initialFormState);
  const formKey = useFormKey(state);
  return (
    <form key={formKey} action={formAction} aria-label="Role change">
      <input type="hidden" name="userId" value={userId} />
      <FormMessages ok={state.ok} error={state.error} />
      <label htmlFor="role">Role</label>
      <select id="role" name="role" defaultValue={valueOf(state, 'role', role)} {...invalidProps('role', errorsOf(state, 'role'))}>
        <option value="user">User</option>
        <option value="helpdesk">Helpdesk</option>
        <option value="admin">Admin</option>
      </select>
      <FieldErrors name="role" errors={errorsOf(state, 'role')} />
      <button type="submit" disabled={pending}>
        Change role
      </button>
    </form>
  );
}

/** R-F4: shown for expired users (and anyone with an authenticator app to replace). */
export function ResetTotpForm({ userId, defaultDays, action }: { userId: string; defaultDays: number; action: Action }) {
  const [state, formAction, pending] = useActionState(action, initialFormState);
  const formKey = useFormKey(state);
  const errors = errorsOf(state, 'resetDays');
  return (
    <form key={formKey} action={formAction} aria-label="Reset TOTP">
      <input type="hidden" name="userId" value={userId} />
      <FormMessages ok={state.ok} error={state.error} />
      <EnrollmentDaysField
        id="resetDays"
        label="New enrollment period (days)"
        defaultValue={valueOf(state, 'enrollmentDays', String(defaultDays))}
        errors={errors}
      />
      <button type="submit" disabled={pending}>
        Reset TOTP MFA
      </button>
    </form>
  );
}
