'use client';

import { useActionState } from 'react';
import { useFormKey } from '../../_components/use-form-key';
import { errorsOf, initialFormState, valueOf, type FormState } from '../../_lib/form-state';
import { EnrollmentDaysField, FieldErrors, FormMessages, invalidProps } from '../../_components/fields';

type Action = (state: FormState, formData: FormData) => Promise<FormState>;

export function NewUserForm({ action, defaultDays }: { action: Action; defaultDays: number }) {
  const [state, formAction, pending] = useActionState(action, initialFormState);
  const formKey = useFormKey(state);
  const field = (name: string) => ({ errors: errorsOf(state, name), value: valueOf(state, name) });
  const username = field('username');
  const email = field('email');
  const displayName = field('displayName');
  const password = field('password');
  const userState = field('state');
  const days = field('enrollmentDays');
  const requireChecked = state.values ? valueOf(state, 'requireMfa') === 'on' : false;
  const inviteChecked = state.values ? valueOf(state, 'invite') === 'on' : false;
  const invite = field('invite');
  return (
    <form key={formKey} action={formAction} aria-label="New user">
      <FormMessages ok={state.ok} error={state.error} />
      <label htmlFor="username">Username</label>
      <input id="username" name="username" type="text" autoComplete="off" defaultValue={username.value} {...invalidProps('username', username.errors)} />
      <FieldErrors name="username" errors={username.errors} />

      <label htmlFor="email">Email</label>
      <input id="email" name="email" type="text" inputMode="email" autoComplete="off" defaultValue={email.value} {...invalidProps('email', email.errors)} />
      <FieldErrors name="email" errors={email.errors} />

      <label htmlFor="displayName">Display name</label>
      <input id="displayName" name="displayName" type="text" autoComplete="off" defaultValue={displayName.value} {...invalidProps('displayName', displayName.errors)} />
      <FieldErrors name="displayName" errors={displayName.errors} />

      <label htmlFor="password">Password</label>
      <input id="password" name="password" type="password" autoComplete="new-password" {...invalidProps('password', password.errors)} />
      <FieldErrors name="password" errors={password.errors} />
      <p className="hint">Optional: without one, the user cannot sign in with a password. At least 15 characters, not a common password.</p>
      <label className="check">
        <input type="checkbox" name="invite" defaultChecked={inviteChecked} {...invalidProps('invite', invite.errors)} /> Send an invitation
      </label>
      <FieldErrors name="invite" errors={invite.errors} />
      <p className="hint">
        Instead of a password: the user gets an email with a link to set their own (an email address is needed). A staged user&apos;s
        invitation is sent when they are activated.
      </p>

      <label htmlFor="state">State</label>
      <select id="state" name="state" defaultValue={userState.value || 'active'} {...invalidProps('state', userState.errors)}>
        <option value="staged">Staged (not yet active: pre-enrollment)</option>
        <option value="active">Active</option>
        <option value="suspended">Suspended</option>
      </select>
      <FieldErrors name="state" errors={userState.errors} />

      <fieldset>
        <legend>Multi-factor authentication</legend>
        <label className="check">
          <input type="checkbox" name="requireMfa" defaultChecked={requireChecked} /> Require Multi-factor Authentication for User Portal
        </label>
        <EnrollmentDaysField
          id="enrollmentDays"
          label="Enrollment period (days)"
          defaultValue={valueOf(state, 'enrollmentDays', String(defaultDays))}
          errors={days.errors}
          hint="1 to 365 days to set up TOTP. A staged user's period starts when they are activated."
        />
      </fieldset>
      <button type="submit" disabled={pending}>
        Create user
      </button>
    </form>
  );
}
