import { redirect } from 'next/navigation';
import { safeReturnPath } from '../../../lib/auth/return-path';
import { guardRecovered } from '../../../lib/factors/recovered-guard';
import { recoveryCodeMessages } from '../../../lib/factors/recovery-codes';
import { recoveredChoices } from '../../../lib/factors/setup-flow';
import { regenerateAfterRecovery } from './actions';
import type { Metadata } from 'next';

export const metadata: Metadata = { title: 'Signed in with a recovery code' };

export const dynamic = 'force-dynamic';

type SearchParams = Promise<Record<string, string | string[] | undefined>>;

/**
 * The lost-device page: where a sign-in with a recovery code lands. It says what happened
 * and how many codes are left, offers a new authenticator app (and a security key when
 * WebAuthn is on) now, new codes when the last one is spent, or the way on to where the
 * user was going. Only a session whose latest second factor is a recovery code from the
 * last five minutes sees it (lib/factors/recovered-guard.ts); anyone else goes on.
 */
export default async function RecoveredPage({ searchParams }: { searchParams: SearchParams }) {
  const returnTo = safeReturnPath((await searchParams).returnTo);
  const guard = await guardRecovered(returnTo); // R-D9
  if (!guard.ok) redirect(guard.redirectTo);
  const { codes } = guard;
  const choices = recoveredChoices(guard.context, returnTo);
  const lastSpent = codes.unused === 0;

  return (
    <main id="main">
      <h1>Signed in with a recovery code</h1>
      <p role="status" data-testid="recovery-status">
        {recoveryCodeMessages.signedIn(codes.unused)}
      </p>
      <p>Each code works once.{guard.session.email ? ' We have emailed you about it too, so you would know if it hadn’t been you.' : ''}</p>
      {lastSpent && (
        <section aria-label="Recovery codes">
          <p className="error" role="alert">
            {recoveryCodeMessages.lastSpent}
          </p>
          <form action={regenerateAfterRecovery}>
            <input type="hidden" name="returnTo" value={returnTo} />
            <button type="submit">Generate new recovery codes</button>
          </form>
        </section>
      )}
      {(choices.totp || choices.webauthn) && (
        <section aria-label="Set up a new device">
          <h2>Lost your phone or security key?</h2>
          <p>
            Set up a new one now, so your next sign-in needs no recovery code. Then remove the lost one on your{' '}
            <a href="/portal/security">Security</a> page.
          </p>
          {choices.totp && <GoButton href={choices.totp} label="Set up a new authenticator app" />}
          {choices.webauthn && <GoButton href={choices.webauthn} label="Register a new security key" secondary={choices.totp !== null} />}
        </section>
      )}
      <p>
        <a href={choices.continueTo}>Continue to where you were going</a>
      </p>
    </main>
  );
}

/** A button that opens `href` (a same-origin path with its query), without JavaScript. */
function GoButton({ href, label, secondary }: { href: string; label: string; secondary?: boolean }) {
  const url = new URL(href, 'http://portal.invalid');
  return (
    <form method="get" action={url.pathname}>
      {[...url.searchParams].map(([name, value]) => (
        <input key={name} type="hidden" name={name} value={value} />
      ))}
      <button type="submit" className={secondary ? 'secondary' : undefined}>
        {label}
      </button>
    </form>
  );
}
