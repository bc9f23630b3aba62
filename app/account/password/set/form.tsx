'use client';

import { useActionState, useEffect } from 'react';
import { initialSetPasswordState, linkPageMessages, type SetPasswordFormState } from './messages';
import { LinkRefused } from './link-refused';

/**
 * New password, twice. The username sits in a hidden field with autocomplete="username" so a
 * password manager saves the new password under the right account.
 */
export function SetPasswordForm({
  action,
  username,
  rules,
  submit,
}: {
  action: (state: SetPasswordFormState, formData: FormData) => Promise<SetPasswordFormState>;
  username: string;
  rules: string;
  submit: string;
}) {
  const [state, formAction, pending] = useActionState(action, initialSetPasswordState);
  // A full page load, not a client-side one (messages.ts says why).
  useEffect(() => {
    if (state.next) window.location.replace(state.next);
  }, [state.next]);
  if (state.link) return <LinkRefused {...linkPageMessages[state.link]} />;
  if (state.next) return <Done next={state.next} message={state.message ?? ''} />;
  return (
    <form action={formAction} aria-label="Set your password">
      {state.error && (
        <p className="error" role="alert">
          {state.error}
        </p>
      )}
      <input type="text" name="username" value={username} autoComplete="username" readOnly hidden />
      <p id="password-rules">{rules}</p>
      <label htmlFor="password">New password</label>
      <input id="password" name="password" type="password" autoComplete="new-password" required maxLength={1024} aria-describedby="password-rules" autoFocus />
      <label htmlFor="confirm">Type it again</label>
      <input id="confirm" name="confirm" type="password" autoComplete="new-password" required maxLength={1024} />
      <button type="submit" disabled={pending}>
        {submit}
      </button>
    </form>
  );
}

/** Password set: on to the next page by a full page load (messages.ts says why). */
export function Done({ next, message }: { next: string; message: string }) {
  useEffect(() => {
    window.location.replace(next);
  }, [next]);
  return (
    <p role="status">
      {message} <a href={next}>Continue</a>
    </p>
  );
}
