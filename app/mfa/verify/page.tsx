import { redirect } from 'next/navigation';
import { safeReturnPath } from '../../../lib/auth/return-path';
import { budgetMessages } from '../../../lib/auth/mfa-budget';
import { destinationFor, mfaPageAccess } from '../../../lib/gate';
import { verifyOptionsOf } from '../../../lib/factors/overview';
import { verifyMessages } from '../../../lib/factors/totp';
import { duoMessages } from '../../../lib/factors/duo';
import { UseSecurityKeyButton } from '../webauthn/security-key';
import { rememberBoxId } from '../remember-box';
import { rememberOffer } from '../../../lib/factors/remember-offer';
import { signOut } from '../../portal/actions';
import { verifyRecoveryCode, verifyTotpCode } from './actions';
import type { Metadata } from 'next';

export const metadata: Metadata = { title: 'Verify it’s you' };

export const dynamic = 'force-dynamic';

type SearchParams = Promise<Record<string, string | string[] | undefined>>;
type VerifyMethod = 'totp' | 'recovery' | 'webauthn' | 'duo';

/**
 * The second-factor challenge (R-D3), and the "confirm it's you" step before sensitive
 * changes (`fresh=1`, e.g. removing a factor). Other methods are offered as buttons that
 * reload this page with `method=…`. "Use security key" runs the WebAuthn ceremony at once
 * (it needs JavaScript); "Use Duo" posts to /mfa/duo/start, which sends the browser to
 * Duo (R-E5: Duo needs no setup here, it is offered whenever it is enabled).
 */
export default async function VerifyPage({ searchParams }: { searchParams: SearchParams }) {
  const params = await searchParams;
  const returnTo = safeReturnPath(params.returnTo);
  const fresh = params.fresh === '1';
  const { session, decision } = await mfaPageAccess(returnTo);
  // Only a pending challenge, or an explicit re-check, is answered here.
  if (!fresh && decision.kind !== 'challenge') redirect(destinationFor(decision, returnTo) ?? returnTo);

  const { factorTypes, settings } = await verifyOptionsOf(session.userId);
  // Issue 18: a phishing-resistant policy accepts only WebAuthn, so nothing else is offered
  // (a TOTP code, a Duo push or a recovery code would not satisfy it).
  const keyOnly = decision.kind === 'challenge' && decision.strength === 'phishing_resistant';
  const hasTotp = factorTypes.includes('totp') && !keyOnly;
  const hasKey = factorTypes.includes('webauthn') && settings.webauthn;
  const duoOffered = keyOnly ? false : decision.kind === 'challenge' ? decision.methods.includes('duo') : fresh && settings.duo;
  const recoveryOffered = factorTypes.length > 0 && !keyOnly;
  // Duo-only organizations have users without factors here: Duo is their way through.
  if (factorTypes.length === 0 && !duoOffered) redirect(destinationFor(decision, returnTo) ?? returnTo);
  if (keyOnly && !hasKey) redirect(destinationFor(decision, returnTo) ?? returnTo);
  const method: VerifyMethod =
    params.method === 'recovery' && recoveryOffered
      ? 'recovery'
      : params.method === 'webauthn' && hasKey
        ? 'webauthn'
        : params.method === 'duo' && duoOffered
          ? 'duo'
          : hasTotp
          ? 'totp'
          : hasKey
            ? 'webauthn'
            : duoOffered
              ? 'duo'
              : 'recovery';

  let message: string | null = null;
  // Only what was wrong with the typed code marks the field invalid; a wait is not the code's fault.
  const codeRefused = params.error === 'invalid' || params.error === 'replayed';
  if (params.error === 'throttled') {
    // R-I2: only this pending sign-in or address waits; the wait came with the refusal.
    const seconds = Number(params.wait);
    message = budgetMessages.throttled(Number.isFinite(seconds) && seconds > 0 ? Math.min(seconds, 86_400) * 1000 : 1000);
  } else if (params.error === 'capped') {
    message = budgetMessages.capped(method === 'recovery' ? 'recovery' : 'totp');
  } else if (params.error === 'invalid') {
    message = method === 'recovery' ? verifyMessages.recovery_invalid : verifyMessages.invalid;
  } else if (params.error === 'replayed' && method === 'totp') {
    message = verifyMessages.replayed;
  } else if (params.error === 'no_factor') {
    message = verifyMessages.no_factor;
  } else if (params.error === 'duo_refused') {
    message = duoMessages.refused;
  }

  // Issue 18 part 3: offered when the challenge's policy allows remembering this device.
  const rememberDays = rememberOffer(decision, fresh);
  const rememberBox = rememberDays !== null ? <RememberBox days={rememberDays} /> : null;

  const codeFieldError = message ? { 'aria-describedby': 'code-error', ...(codeRefused ? { 'aria-invalid': true as const } : {}) } : {};

  const otherMethods: { method: VerifyMethod; label: string }[] = [];
  if (method !== 'totp' && hasTotp) otherMethods.push({ method: 'totp', label: 'Use your authenticator app' });
  if (method !== 'webauthn' && hasKey) otherMethods.push({ method: 'webauthn', label: 'Use security key' });
  if (method !== 'duo' && duoOffered) otherMethods.push({ method: 'duo', label: 'Use Duo' });
  if (method !== 'recovery' && recoveryOffered) otherMethods.push({ method: 'recovery', label: 'Use a recovery code' });

  const intro: Record<VerifyMethod, string> = {
    totp: 'Enter the 6-digit code from your authenticator app.',
    recovery: 'Enter one of the recovery codes you saved when you set up your first sign-in method. Each code works once.',
    webauthn: 'Use your security key or passkey: select the button, then touch the key or confirm on your device.',
    duo: 'Continue with Duo to confirm it’s you.',
  };

  return (
    <main id="main">
      <h1>{fresh ? 'Confirm it’s you' : 'Verify it’s you'}</h1>
      {fresh && params.why === 'factor_change' && (
        <p className="notice" role="status">
          Changing your sign-in methods, recovery codes or password needs a second factor from the last few minutes. Then you go straight back.
        </p>
      )}
      {keyOnly && (
        <p className="notice" role="status" data-testid="key-only">
          This needs your security key or passkey: an authenticator app code is not enough here.
        </p>
      )}
      <p>{intro[method]}</p>
      {message && (
        <p className="error" role="alert" id="code-error">
          {message}
        </p>
      )}
      {method === 'webauthn' && rememberBox}
      {method === 'webauthn' && <UseSecurityKeyButton returnTo={returnTo} fresh={fresh} />}
      {method === 'duo' && <DuoButton returnTo={returnTo} fresh={fresh} remember={rememberBox} />}
      {(method === 'totp' || method === 'recovery') && (
        <form action={method === 'totp' ? verifyTotpCode : verifyRecoveryCode}>
          <input type="hidden" name="returnTo" value={returnTo} />
          {fresh && <input type="hidden" name="fresh" value="1" />}
          {method === 'totp' ? (
            <>
              <label htmlFor="code">Verification code</label>
              <input id="code" name="code" type="text" inputMode="numeric" autoComplete="one-time-code" maxLength={16} autoFocus {...codeFieldError} />
            </>
          ) : (
            <>
              <label htmlFor="code">Recovery code</label>
              <input id="code" name="code" type="text" autoComplete="off" spellCheck={false} maxLength={64} autoFocus {...codeFieldError} />
            </>
          )}
          {rememberBox}
          <button type="submit">Verify</button>
        </form>
      )}
      {otherMethods.length > 0 && (
        <section aria-label="Other ways to verify">
          {otherMethods.map((other) =>
            other.method === 'webauthn' ? (
              <UseSecurityKeyButton key={other.method} returnTo={returnTo} fresh={fresh} label={other.label} className="secondary" />
            ) : other.method === 'duo' && rememberBox === null ? (
              // Straight to Duo. With the "Don't ask again" box on offer, the button opens
              // the Duo step of this page instead (the GET form below), whose form carries
              // the box: a box in the code's form would not travel with a Duo button.
              <DuoButton key={other.method} returnTo={returnTo} fresh={fresh} className="secondary" />
            ) : (
              <form key={other.method} method="get" action="/mfa/verify">
                <input type="hidden" name="returnTo" value={returnTo} />
                {fresh && <input type="hidden" name="fresh" value="1" />}
                {other.method !== 'totp' && <input type="hidden" name="method" value={other.method} />}
                <button type="submit" className="secondary">
                  {other.label}
                </button>
              </form>
            ),
          )}
        </section>
      )}
      {!fresh && (
        <form action={signOut}>
          <button type="submit" className="secondary">
            Sign out
          </button>
        </form>
      )}
    </main>
  );
}

/** "Use Duo": a plain form to the route handler that health-checks Duo and redirects there. */
function DuoButton({ returnTo, fresh, className, remember }: { returnTo: string; fresh: boolean; className?: string; remember?: React.ReactNode }) {
  return (
    <form method="post" action="/mfa/duo/start">
      <input type="hidden" name="returnTo" value={returnTo} />
      {fresh && <input type="hidden" name="fresh" value="1" />}
      {remember}
      <button type="submit" className={className}>
        Use Duo
      </button>
    </form>
  );
}

/**
 * Issue 18 part 3: "Don't ask again on this device for N days". A plain checkbox in the
 * method's form (works without JavaScript); the security-key button reads it by id.
 */
function RememberBox({ days }: { days: number }) {
  return (
    <label className="check">
      <input type="checkbox" name="remember" id={rememberBoxId} /> Don’t ask again on this device for {days === 1 ? '1 day' : `${days} days`}
    </label>
  );
}
