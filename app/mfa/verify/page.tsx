import { redirect } from 'next/navigation';
import { getDb } from '../../../db';
import { factorTypesOfUser } from '../../../db/queries/factors';
import { systemClock } from '../../../lib/clock';
import { sessionAndDecisionFor } from '../../../lib/auth/page-guards';
import { safeReturnPath } from '../../../lib/auth/return-path';
import { mfaThrottleMessage, mfaThrottleState } from '../../../lib/auth/mfa-throttle';
import { destinationFor } from '../../../lib/gate/access';
import { verifyMessages } from '../../../lib/factors/totp';
import { signOut } from '../../portal/actions';
import { verifyRecoveryCode, verifyTotpCode } from './actions';

export const dynamic = 'force-dynamic';

type SearchParams = Promise<Record<string, string | string[] | undefined>>;
type VerifyMethod = 'totp' | 'recovery';

/**
 * The second-factor challenge (R-D3), and the "confirm it's you" step before sensitive
 * changes (`fresh=1`, e.g. removing a factor). Other methods are offered as buttons that
 * reload this page with `method=…`; WebAuthn ("Use security key") and Duo ("Use Duo")
 * join the list in `otherMethods` when their issues land.
 */
export default async function VerifyPage({ searchParams }: { searchParams: SearchParams }) {
  const params = await searchParams;
  const returnTo = safeReturnPath(params.returnTo);
  const fresh = params.fresh === '1';
  const { session, decision } = await sessionAndDecisionFor(returnTo);
  // Only a pending challenge, or an explicit re-check, is answered here.
  if (!fresh && decision.kind !== 'challenge') redirect(destinationFor(decision, returnTo) ?? returnTo);

  const db = await getDb();
  const factorTypes = await factorTypesOfUser(db.kysely, session.userId);
  if (factorTypes.length === 0) redirect(destinationFor(decision, returnTo) ?? returnTo);
  const hasTotp = factorTypes.includes('totp');
  const method: VerifyMethod = params.method === 'recovery' || !hasTotp ? 'recovery' : 'totp';

  let message: string | null = null;
  if (params.error === 'throttled') {
    const { retryAfterMs } = await mfaThrottleState(db.kysely, session.userId, systemClock.now());
    message = mfaThrottleMessage(retryAfterMs);
  } else if (params.error === 'invalid') {
    message = method === 'recovery' ? verifyMessages.recovery_invalid : verifyMessages.invalid;
  } else if (params.error === 'no_factor') {
    message = verifyMessages.no_factor;
  }

  const otherMethods: { method: VerifyMethod; label: string }[] = [];
  if (method !== 'totp' && hasTotp) otherMethods.push({ method: 'totp', label: 'Use your authenticator app' });
  if (method !== 'recovery') otherMethods.push({ method: 'recovery', label: 'Use a recovery code' });

  return (
    <main>
      <h1>{fresh ? 'Confirm it’s you' : 'Verify it’s you'}</h1>
      <p>
        {method === 'totp'
          ? 'Enter the 6-digit code from your authenticator app.'
          : 'Enter one of the recovery codes you saved when you set up your authenticator app. Each code works once.'}
      </p>
      {message && (
        <p className="error" role="alert">
          {message}
        </p>
      )}
      <form action={method === 'totp' ? verifyTotpCode : verifyRecoveryCode}>
        <input type="hidden" name="returnTo" value={returnTo} />
        {fresh && <input type="hidden" name="fresh" value="1" />}
        {method === 'totp' ? (
          <>
            <label htmlFor="code">Verification code</label>
            <input id="code" name="code" type="text" inputMode="numeric" autoComplete="one-time-code" maxLength={16} autoFocus />
          </>
        ) : (
          <>
            <label htmlFor="code">Recovery code</label>
            <input id="code" name="code" type="text" autoComplete="off" spellCheck={false} maxLength={64} autoFocus />
          </>
        )}
        <button type="submit">Verify</button>
      </form>
      {otherMethods.length > 0 && (
        <section aria-label="Other ways to verify">
          {otherMethods.map((other) => (
            <form key={other.method} method="get" action="/mfa/verify">
              <input type="hidden" name="returnTo" value={returnTo} />
              {fresh && <input type="hidden" name="fresh" value="1" />}
              {other.method !== 'totp' && <input type="hidden" name="method" value={other.method} />}
              <button type="submit" className="secondary">
                {other.label}
              </button>
            </form>
          ))}
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
