import { redirect } from 'next/navigation';
import { safeReturnPath } from '../../../../lib/auth/return-path';
import { defaultWebauthnName } from '../../../../lib/factors/webauthn';
import { RegisterSecurityKey } from '../../webauthn/security-key';
import { guardSetup } from '../../../../lib/factors/setup-guard';
import { pathOf } from '../../../../lib/factors/setup-flow';
import { setupWayOut } from '../../../../lib/factors/setup-way-out';
import { SetupWayOutLinks } from '../way-out';
import type { Metadata } from 'next';

export const metadata: Metadata = { title: 'Register a security key' };

export const dynamic = 'force-dynamic';

type SearchParams = Promise<Record<string, string | string[] | undefined>>;

/**
 * Register a security key or passkey: the Set Up step for WebAuthn (R-E3, R-E4), and
 * "Add a security key" from the Security page. Nothing is stored until the key answers the
 * challenge.
 */
export default async function WebauthnSetupPage({ searchParams }: { searchParams: SearchParams }) {
  const returnTo = safeReturnPath((await searchParams).returnTo);
  const guard = await guardSetup('webauthn', returnTo, pathOf('webauthn_register', returnTo));
  if (!guard.ok) redirect(guard.redirectTo);
  const alsoTotp = guard.mode === 'enroll' && guard.context.methods.includes('totp');
  const wayOut = setupWayOut(guard.mode, guard.context, returnTo);

  return (
    <main id="main">
      <h1>Register a security key or passkey</h1>
      <ol>
        <li>Give the key a name, so you can tell your keys apart later.</li>
        <li>Select “Register security key”, then touch your key or confirm with your device (fingerprint, face or PIN).</li>
      </ol>
      {alsoTotp && <p className="notice">After the key, you will also set up an authenticator app.</p>}
      <RegisterSecurityKey returnTo={returnTo} defaultName={defaultWebauthnName} />
      <SetupWayOutLinks wayOut={wayOut} />
    </main>
  );
}
