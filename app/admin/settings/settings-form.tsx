'use client';

import { useActionState } from 'react';
import { useFormKey } from '../_components/use-form-key';
import { errorsOf, initialFormState, valueOf, type FormState } from '../_lib/form-state';
import { FieldErrors, invalidProps } from '../_components/fields';

const formAlertId = 'settings-alert';

export interface SettingsValues {
  totp: boolean;
  webauthn: boolean;
  duo: boolean;
  challengeEnrolled: boolean;
  /** Issue 18: minutes after which the console asks an admin for a second factor again. */
  adminReverifyMinutes: number;
  duoClientId: string;
  duoApiHost: string;
  duoRedirectUri: string;
  hasSecret: boolean;
  suggestedRedirectUri: string;
}

export function SettingsForm({ settings, action }: { settings: SettingsValues; action: (s: FormState, f: FormData) => Promise<FormState> }) {
  const [state, formAction, pending] = useActionState(action, initialFormState);
  const formKey = useFormKey(state);
  const checked = (name: 'totp' | 'webauthn' | 'duo' | 'challengeEnrolled') => (state.values ? valueOf(state, name) === 'on' : settings[name]);
  const e = (name: string) => errorsOf(state, name);
  const text = (name: string, label: string, fallback: string, hint?: string) => (
    <>
      <label htmlFor={name}>{label}</label>
      <input id={name} name={name} type="text" autoComplete="off" defaultValue={valueOf(state, name, fallback)} {...invalidProps(name, e(name))} />
      <FieldErrors name={name} errors={e(name)} />
      {hint && <p className="hint">{hint}</p>}
    </>
  );
  // R-A2's refusal is said once: the alert quotes it and the WebAuthn box points at that
  // alert, instead of a copy beside the box and the hint repeating it (issue 16).
  const webauthnErrors = e('webauthn');
  const alertQuotesWebauthn = webauthnErrors.length > 0 && state.error === webauthnErrors.join(' ');
  const webauthnProps = alertQuotesWebauthn ? { 'aria-invalid': true as const, 'aria-describedby': formAlertId } : invalidProps('webauthn', webauthnErrors);
  return (
    <form key={formKey} action={formAction} aria-label="MFA settings">
      {state.ok ? (
        <p className="notice" role="status">
          {state.ok}
        </p>
      ) : null}
      {state.error ? (
        <p className="error" role="alert" id={formAlertId}>
          {state.error}
        </p>
      ) : null}
      <fieldset>
        <legend>MFA methods</legend>
        <label className="check">
          <input type="checkbox" name="totp" defaultChecked={checked('totp')} {...invalidProps('totp', e('totp'))} /> TOTP (authenticator app)
        </label>
        <FieldErrors name="totp" errors={e('totp')} />
        <label className="check">
          <input type="checkbox" name="webauthn" defaultChecked={checked('webauthn')} {...webauthnProps} /> WebAuthn (security key or passkey)
        </label>
        {alertQuotesWebauthn ? null : <FieldErrors name="webauthn" errors={webauthnErrors} />}
        <label className="check">
          <input type="checkbox" name="duo" defaultChecked={checked('duo')} {...invalidProps('duo', e('duo'))} /> Duo (Universal Prompt)
        </label>
        <FieldErrors name="duo" errors={e('duo')} />
        {webauthnErrors.length > 0 ? null : <p className="hint">WebAuthn cannot be the only method: enable TOTP or Duo with it.</p>}
      </fieldset>
      <fieldset>
        <legend>Sign-in</legend>
        <label className="check">
          <input type="checkbox" name="challengeEnrolled" defaultChecked={checked('challengeEnrolled')} /> Ask users who have set up a factor for it
          at sign-in, even when nothing requires MFA
        </label>
        <p className="hint">Recommended: MFA a person set up protects them. Off, only users that a requirement or policy covers are challenged.</p>
      </fieldset>
      <fieldset>
        <legend>Admin console</legend>
        {text(
          'adminReverifyMinutes',
          'Re-verify admins after (minutes)',
          String(settings.adminReverifyMinutes),
          'An admin whose last second factor is older is asked for it again before the console opens: 5 to 43200 (30 days); 720 is 12 hours.',
        )}
      </fieldset>
      <fieldset>
        <legend>Duo</legend>
        {text('duoClientId', 'Client ID', settings.duoClientId)}
        <label htmlFor="duoClientSecret">Client secret</label>
        <input
          id="duoClientSecret"
          name="duoClientSecret"
          type="password"
          autoComplete="new-password"
          placeholder={settings.hasSecret ? '(stored: leave blank to keep it)' : ''}
          {...invalidProps('duoClientSecret', e('duoClientSecret'))}
        />
        <FieldErrors name="duoClientSecret" errors={e('duoClientSecret')} />
        <p className="hint" data-testid="duo-secret-state">
          {settings.hasSecret ? 'A client secret is stored (encrypted). It is never shown; type a new one to replace it.' : 'No client secret stored.'}
        </p>
        {text('duoApiHost', 'API hostname', settings.duoApiHost)}
        {text(
          'duoRedirectUri',
          'Redirect URI',
          settings.duoRedirectUri || settings.suggestedRedirectUri,
          `Register this in the Duo Admin Panel. This portal's is ${settings.suggestedRedirectUri} (from PORTCULLIS_ORIGIN).`,
        )}
      </fieldset>
      <button type="submit" disabled={pending}>
        Save settings
      </button>
    </form>
  );
}
