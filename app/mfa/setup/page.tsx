import { redirect } from 'next/navigation';
import { safeReturnPath } from '../../../lib/auth/return-path';
import { destinationFor, mfaPageAccess } from '../../../lib/gate';
import { systemClock } from '../../../lib/clock';
import { EnrollmentDeadline } from '../../_components/enrollment-deadline';
import type { Method } from '../../../lib/policy';
import { continueSetup, skipSetup } from './actions';
import { SignOutButton } from '../../_components/sign-out';
import type { Metadata } from 'next';

export const metadata: Metadata = { title: 'Set up multi-factor authentication' };

export const dynamic = 'force-dynamic';

const methodLabels: Record<Method, string> = {
  totp: 'Authenticator app (TOTP)',
  webauthn: 'Security key or passkey (WebAuthn)',
  duo: 'Duo',
};

type SearchParams = Promise<Record<string, string | string[] | undefined>>;

export default async function SetUpMfaPage({ searchParams }: { searchParams: SearchParams }) {
  const returnTo = safeReturnPath((await searchParams).returnTo);
  const { decision } = await mfaPageAccess(returnTo);
  // R-B6: someone who needs no enrollment (already enrolled, or nothing required) never sees this.
  if (decision.kind !== 'enroll') redirect(destinationFor(decision, returnTo) ?? returnTo);

  return (
    <main id="main">
      <h1>Set Up Multi-Factor Authentication</h1>
      {decision.strength === 'phishing_resistant' && (
        // Issue 18: a phishing-resistant policy; decide() offers only WebAuthn here (a skip only in a grace window, R-D16).
        <p>Where you are going needs a security key or passkey: an authenticator app is not enough there.</p>
      )}
      {decision.strength === 'phishing_resistant' && decision.forced ? null : decision.forced ? (
        <p>Your organization requires a second factor before you continue.</p>
      ) : (
        <p className="notice">
          Set up a second factor now. You can skip this until{' '}
          {decision.deadline ? (
            <EnrollmentDeadline deadline={decision.deadline} now={systemClock.now()} />
          ) : (
            <strong>the end of your enrollment period</strong>
          )}
          ; after
          that, {decision.rule === 'R-D16' ? 'you must set one up before you continue.' : 'you will be locked out until you set one up.'}
        </p>
      )}
      <form action={continueSetup}>
        <input type="hidden" name="returnTo" value={returnTo} />
        <fieldset>
          <legend>Choose a method</legend>
          {decision.methods.map((method) => (
            <label key={method} style={{ fontWeight: 'normal' }}>
              <input type="radio" name="method" value={method} defaultChecked={method === decision.defaultMethod} />{' '}
              {methodLabels[method]}
            </label>
          ))}
        </fieldset>
        <button type="submit">Continue</button>
      </form>
      {!decision.forced && (
        <form action={skipSetup}>
          <input type="hidden" name="returnTo" value={returnTo} />
          <button type="submit" className="secondary">
            Skip for now
          </button>
        </form>
      )}
      {/* A forced Set Up is a wall: signing out is the way out for someone who can't set up now. */}
      <div className="way-out">
        <span>Not now, or not you?</span>
        <SignOutButton />
      </div>
    </main>
  );
}
