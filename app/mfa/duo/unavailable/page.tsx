import { otherWaysIn } from '../../../../lib/factors/overview';
import { mfaPageAccess } from '../../../../lib/gate';
import { safeReturnPath } from '../../../../lib/auth/return-path';
import { UseSecurityKeyButton } from '../../webauthn/security-key';
import { verifyPath } from '../../../../lib/factors/verify-path';
import type { Metadata } from 'next';

export const metadata: Metadata = { title: 'Duo is unavailable' };

export const dynamic = 'force-dynamic';

type SearchParams = Promise<Record<string, string | string[] | undefined>>;

/**
 * Fail closed (R-D10 for Duo): Duo could not be reached or answered with an error, so Duo
 * cannot let anyone through right now. The user's other factors are offered instead; the
 * attempt is already in the audit log.
 */
export default async function DuoUnavailablePage({ searchParams }: { searchParams: SearchParams }) {
  const params = await searchParams;
  const returnTo = safeReturnPath(params.returnTo);
  const fresh = params.fresh === '1';
  const { session } = await mfaPageAccess(returnTo);
  const ways = await otherWaysIn(session.userId);
  const hasTotp = ways.totp;
  const hasKey = ways.webauthn;
  const hasCodes = ways.recoveryCodes;
  const recoveryPath = `${verifyPath({ returnTo, fresh })}&method=recovery`;

  return (
    <main id="main">
      <h1>Duo is unavailable</h1>
      <p className="error" role="alert">
        Duo could not be reached to confirm it’s you, so you can’t continue with Duo right now.
      </p>
      {hasTotp || hasKey || hasCodes ? (
        <section aria-label="Other ways to verify">
          <p>Use another way to confirm it’s you:</p>
          {hasTotp && (
            <p>
              <a href={verifyPath({ returnTo, fresh })}>Use your authenticator app</a>
            </p>
          )}
          {hasKey && <UseSecurityKeyButton returnTo={returnTo} fresh={fresh} className="secondary" />}
          {hasCodes && (
            <p>
              <a href={recoveryPath}>Use a recovery code</a>
            </p>
          )}
        </section>
      ) : (
        <p>You have no other sign-in method. Try again in a few minutes, or contact your administrator.</p>
      )}
      <form method="post" action="/mfa/duo/start">
        <input type="hidden" name="returnTo" value={returnTo} />
        {fresh && <input type="hidden" name="fresh" value="1" />}
        <button type="submit" className="secondary">
          Try Duo again
        </button>
      </form>
    </main>
  );
}
