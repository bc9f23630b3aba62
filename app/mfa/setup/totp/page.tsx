import { redirect } from 'next/navigation';
import { safeReturnPath } from '../../../../lib/auth/return-path';
import { readPendingTotp } from '../../../../lib/factors/cookies';
import { defaultTotpName, groupedKey, maxFactorNameLength, otpauthUri, qrCodeDataUrl, totpIssuer, verifyMessages } from '../../../../lib/factors/totp';
import { confirmTotp } from './actions';
import { guardSetup } from '../../../../lib/factors/setup-guard';
import { pathOf, totpStartPath } from '../../../../lib/factors/setup-flow';
import { setupWayOut } from '../../../../lib/factors/setup-way-out';
import { SetupWayOutLinks } from '../way-out';
import type { Metadata } from 'next';

export const metadata: Metadata = { title: 'Set up your authenticator app' };

export const dynamic = 'force-dynamic';

type SearchParams = Promise<Record<string, string | string[] | undefined>>;

/** Each error belongs to one field: the message is tied to it (aria-describedby) and marks it invalid. */
const errorMessages: Record<string, { field: 'code' | 'name'; text: string }> = {
  // The same words as the challenge (/mfa/verify) for the same mistake.
  invalid_code: { field: 'code', text: verifyMessages.invalid },
  invalid_name: { field: 'name', text: `Give the device a name of at most ${maxFactorNameLength} characters.` },
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
      <main id="main">
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
  const fieldError = (field: 'code' | 'name') =>
    error?.field === field ? { 'aria-invalid': true as const, 'aria-describedby': `${field}-error` } : {};
  const replacing = pending.replaces ? guard.factorIds.get(pending.replaces) : undefined;
  const wayOut = setupWayOut(guard.mode, guard.context, returnTo);

  return (
    <main id="main">
      <h1>Set up your authenticator app</h1>
      {params.notice === 'expired' && (
        <p className="notice" role="status">
          Your previous setup expired, so here is a new key. Remove the old entry from your app if you added it.
        </p>
      )}
      {error && (
        <p className="error" role="alert" id={`${error.field}-error`}>
          {error.text}
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
        <input id="name" name="name" type="text" maxLength={maxFactorNameLength} placeholder={defaultTotpName} autoComplete="off" {...fieldError('name')} />
        <label htmlFor="code">Verification code</label>
        <input id="code" name="code" type="text" inputMode="numeric" autoComplete="one-time-code" maxLength={16} autoFocus {...fieldError('code')} />
        <button type="submit">Verify</button>
      </form>
      <SetupWayOutLinks wayOut={wayOut} />
    </main>
  );
}
