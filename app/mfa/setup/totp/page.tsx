import { redirect } from 'next/navigation';
import { safeReturnPath } from '../../../../lib/auth/return-path';
import { readPendingTotp } from '../../../../lib/factors/cookies';
import { defaultTotpName, groupedKey, maxFactorNameLength, otpauthUri, qrCodeDataUrl, totpIssuer } from '../../../../lib/factors/totp';
import { confirmTotp } from './actions';
import { guardSetup } from '../../../../lib/factors/setup-guard';
import { pathOf, totpStartPath } from '../../../../lib/factors/setup-flow';

export const dynamic = 'force-dynamic';

type SearchParams = Promise<Record<string, string | string[] | undefined>>;

const errorMessages: Record<string, string> = {
  invalid_code: 'That code didn’t match. Check the time on your phone and enter the current code from the app.',
  invalid_name: `Give the device a name of at most ${maxFactorNameLength} characters.`,
};

/** R-E6: scan (or type) the key, then prove it with a code; nothing is stored before that. */
export default async function TotpSetupPage({ searchParams }: { searchParams: SearchParams }) {
  const params = await searchParams;
  const returnTo = safeReturnPath(params.returnTo);
  const guard = await guardSetup('totp', returnTo, pathOf('totp_scan', returnTo));
  if (!guard.ok) redirect(guard.redirectTo);

  const pending = await readPendingTotp(guard.session.userId);
  if (!pending) {
    // Pages cannot set cookies: the start route makes the secret and comes back once.
    if (params.started !== '1') redirect(totpStartPath(returnTo, params.error === 'expired' ? { notice: 'expired' } : {}));
    return (
      <main>
        <h1>Set up your authenticator app</h1>
        <p className="error" role="alert">
          Your browser did not keep the setup cookie. Allow cookies for this site and try again.
        </p>
        <p>
          <a href={totpStartPath(returnTo)}>Try again</a>
        </p>
      </main>
    );
  }

  const qr = await qrCodeDataUrl(otpauthUri(pending.secret, guard.session.username));
  const error = typeof params.error === 'string' ? errorMessages[params.error] : undefined;
  const replacing = pending.replaces ? guard.factorIds.get(pending.replaces) : undefined;
  const cancelTo = guard.mode === 'enroll' ? pathOf('choose_method', returnTo) : returnTo;

  return (
    <main>
      <h1>Set up your authenticator app</h1>
      {params.notice === 'expired' && (
        <p className="notice" role="status">
          Your previous setup expired, so here is a new key. Remove the old entry from your app if you added it.
        </p>
      )}
      {error && (
        <p className="error" role="alert">
          {error}
        </p>
      )}
      {replacing && (
        <p className="notice">
          This device replaces “{replacing}”. The old one keeps working until you verify the new one.
        </p>
      )}
      <ol>
        <li>Open an authenticator app on your phone (for example Google Authenticator, Microsoft Authenticator or 1Password).</li>
        <li>Scan this QR code, or add an account by hand with the key below.</li>
        <li>Enter the 6-digit code the app shows.</li>
      </ol>
      {/* eslint-disable-next-line @next/next/no-img-element -- an inline data URL, nothing to optimize */}
      <img src={qr} alt="QR code" width={200} height={200} />
      <p>
        Can’t scan it? Enter this key in the app ({totpIssuer}, time-based):
        <br />
        <code className="key" data-testid="totp-key" aria-label="Setup key">
          {groupedKey(pending.secret)}
        </code>
      </p>
      <form action={confirmTotp}>
        <input type="hidden" name="returnTo" value={returnTo} />
        <label htmlFor="name">Device name</label>
        <input id="name" name="name" type="text" maxLength={maxFactorNameLength} placeholder={defaultTotpName} autoComplete="off" />
        <label htmlFor="code">Verification code</label>
        <input id="code" name="code" type="text" inputMode="numeric" autoComplete="one-time-code" maxLength={16} autoFocus />
        <button type="submit">Verify</button>
      </form>
      <p>
        <a href={cancelTo}>Cancel</a>
      </p>
    </main>
  );
}
