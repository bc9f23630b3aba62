import { getDb } from '../../../db';
import { systemClock } from '../../../lib/clock';
import { currentMfaSettings, skippedEnrollmentDeadline } from '../../../lib/factors/overview';
import { formatDateTime } from '../../../lib/format';
import { requirePageAccess } from '../../../lib/gate';
import { factorChangeMessages, factorTypeLabels, securityOverview } from '../../../lib/factors/factors';
import { maxFactorNameLength } from '../../../lib/factors/totp';
import { recoveryCodeMessages } from '../../../lib/factors/recovery-codes';
import { minPasswordLengthAlone, minPasswordLengthWithSecondFactor, passwordRefusalMessages } from '../../../lib/auth/password-policy';
import { EnrollmentDeadline } from '../../_components/enrollment-deadline';
import { ConfirmAction } from '../_components/confirm';
import { listRememberedDevices } from '../../../lib/auth/remembered-devices';
import { RememberedDevicesList } from '../../_components/remembered-devices';
import {
  changePasswordAction,
  forgetAllDevicesAction,
  forgetDeviceAction,
  regenerateRecoveryCodesAction,
  removeFactorAction,
  renameFactorAction,
} from './actions';
import type { Metadata } from 'next';

export const metadata: Metadata = { title: 'Security' };

export const dynamic = 'force-dynamic';

type SearchParams = Promise<Record<string, string | string[] | undefined>>;

const notices: Record<string, string> = {
  renamed: 'Renamed.',
  removed: 'Removed.',
  mfa_set_up: 'Done: multi-factor authentication is set up. Your next sign-in asks for your second factor.',
  codes_saved: 'Your new recovery codes are in use; the old ones no longer work.',
  password_changed: 'Password changed. Your other sessions were signed out.',
  device_forgotten: 'Device forgotten: it is asked for a second factor again.',
  devices_forgotten: 'All devices forgotten: each is asked for a second factor again.',
};

const errors: Record<string, string> = {
  ...factorChangeMessages,
  no_factor: 'Set up an authenticator app first.',
  device_not_found: 'That device was already forgotten.',
  wrong_password: 'Your current password is not right.',
  invalid_password: 'Enter your current password and a new one.',
  ...Object.fromEntries(Object.entries(passwordRefusalMessages).map(([reason, message]) => [`password_${reason}`, message])),
};

/** Self-service: the user's second factors and recovery codes. */
export default async function SecurityPage({ searchParams }: { searchParams: SearchParams }) {
  // R-D9: the page checks again; the middleware is not the only wall.
  const { session, decision } = await requirePageAccess('portal', '/portal/security');
  const params = await searchParams;
  const db = await getDb();
  const [{ factors, recoveryCodes }, settings, deadline, devices] = await Promise.all([
    securityOverview(db.kysely, session.userId),
    currentMfaSettings(),
    skippedEnrollmentDeadline(session.userId, decision),
    listRememberedDevices(db.kysely, session.userId, systemClock),
  ]);
  // "Added" names the device by its id (withNotice): no text from the URL is shown.
  const added = params.notice === 'added' ? factors.find((f) => f.id === params.factor) : undefined;
  const notice = added ? `Added “${added.name}”.` : typeof params.notice === 'string' ? notices[params.notice] : undefined;
  const error = typeof params.error === 'string' ? errors[params.error] : undefined;
  // Back from "confirm it's you" (R-E8): the confirm step it came from opens again.
  const confirmRemove = typeof params.remove === 'string' ? params.remove : undefined;
  const confirmRegenerate = params.regenerate === '1';
  const hasTotp = factors.some((f) => f.type === 'totp');

  return (
    <main id="main" className="wide">
      <h1>Security</h1>
      {notice && (
        <p className="notice" role="status">
          {notice}
        </p>
      )}
      {error && (
        <p className="error" role="alert">
          {error}
        </p>
      )}

      {deadline !== null && factors.length === 0 && (
        <p className="notice" data-testid="enrollment-reminder">
          Your organization requires multi-factor authentication. Set it up by <EnrollmentDeadline deadline={deadline} now={systemClock.now()} />;
          after that you cannot sign in until you do.
        </p>
      )}

      <h2>Sign-in methods</h2>
      {factors.length === 0 ? (
        <p>You have no second factor yet. Set up an authenticator app to protect your account.</p>
      ) : (
        <table>
          <thead>
            <tr>
              <th scope="col">Type</th>
              <th scope="col">Name</th>
              <th scope="col">Added</th>
              <th scope="col">Last used</th>
              <th scope="col">Manage</th>
            </tr>
          </thead>
          <tbody>
            {factors.map((factor) => (
              <tr key={factor.id} data-testid="factor-row">
                <td>{factorTypeLabels[factor.type]}</td>
                <td>{factor.name}</td>
                <td>{formatDateTime(factor.createdAt)}</td>
                <td>{factor.lastUsedAt ? formatDateTime(factor.lastUsedAt) : 'Never'}</td>
                <td>
                  <form action={renameFactorAction} style={{ display: 'flex', gap: '.5rem', alignItems: 'end' }}>
                    <input type="hidden" name="factorId" value={factor.id} />
                    <input
                      name="name"
                      type="text"
                      aria-label={`New name for ${factor.name}`}
                      defaultValue={factor.name}
                      maxLength={maxFactorNameLength}
                      required
                    />
                    <button type="submit" className="secondary" aria-label={`Rename ${factor.name}`}>
                      Rename
                    </button>
                  </form>
                  <ConfirmAction
                    summary="Remove…"
                    summaryLabel={`Remove ${factor.name}…`}
                    action={removeFactorAction}
                    fields={{ factorId: factor.id }}
                    label={`Remove ${factor.name}`}
                    cancelHref="/portal/security"
                    open={confirmRemove === factor.id}
                  >
                    Remove “{factor.name}”? You will no longer be able to sign in with it.
                  </ConfirmAction>
                  {factor.type === 'totp' && (
                    <form method="get" action="/mfa/setup/totp/start">
                      <input type="hidden" name="returnTo" value="/portal/security" />
                      <input type="hidden" name="replace" value={factor.id} />
                      <button type="submit" className="secondary" aria-label={`Replace ${factor.name}`}>
                        Replace
                      </button>
                    </form>
                  )}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      <form method="get" action="/mfa/setup/totp/start">
        <input type="hidden" name="returnTo" value="/portal/security" />
        <button type="submit">{hasTotp ? 'Add another authenticator app' : 'Set up authenticator app'}</button>
      </form>
      {settings.webauthn && (
        <form method="get" action="/mfa/setup/webauthn">
          <input type="hidden" name="returnTo" value="/portal/security" />
          <button type="submit" className={hasTotp ? 'secondary' : undefined}>
            Add a security key
          </button>
        </form>
      )}

      <h2>Recovery codes</h2>
      {factors.length === 0 ? (
        <p>You get recovery codes when you set up your first authenticator app.</p>
      ) : (
        <>
          <p data-testid="recovery-code-count">
            {recoveryCodes.unused} of {recoveryCodes.total} recovery codes unused.
          </p>
          {recoveryCodes.total > 0 && recoveryCodes.unused === 0 && (
            <p className="error" role="alert">
              {recoveryCodeMessages.lastSpent}
            </p>
          )}
          <ConfirmAction
            summary="Generate new recovery codes…"
            action={regenerateRecoveryCodesAction}
            fields={{}}
            label="Generate new recovery codes"
            cancelHref="/portal/security"
            open={confirmRegenerate}
          >
            Your current recovery codes stop working as soon as you generate new ones. The new ones are shown once.
          </ConfirmAction>
        </>
      )}
      <h2>Remembered devices</h2>
      <p className="hint">Browsers where you ticked “Don’t ask again on this device”. Forget one and it asks for your second factor again.</p>
      <RememberedDevicesList devices={devices} forget={forgetDeviceAction} forgetAll={forgetAllDevicesAction} whose="You have" />
      <h2>Password</h2>
      <form action={changePasswordAction} aria-label="Change password">
        <label htmlFor="currentPassword">Current password</label>
        <input id="currentPassword" name="currentPassword" type="password" autoComplete="current-password" required />
        <label htmlFor="newPassword">New password</label>
        {/* The server decides the length by the account's factors; the browser only holds the lower bound. */}
        <input id="newPassword" name="newPassword" type="password" autoComplete="new-password" minLength={minPasswordLengthWithSecondFactor} required aria-describedby="newPasswordHint" />
        <p className="hint" id="newPasswordHint">
          At least {minPasswordLengthAlone} characters, or {minPasswordLengthWithSecondFactor} once you have a second factor. Any characters, spaces included; not a common password.
        </p>
        <button type="submit" className="secondary">
          Change password
        </button>
      </form>
      <p>
        <a href="/portal">Back to the portal</a>
      </p>
    </main>
  );
}
