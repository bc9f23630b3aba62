import { getDb } from '../../../../db';
import { listFactors } from '../../../../db/queries/factors';
import { loadMfaSettings } from '../../../../db/queries/settings';
import { systemClock } from '../../../../lib/clock';
import { accessFor, resourceOfPath } from '../../../../lib/gate/require-access';
import type { SessionContext } from '../../../../lib/auth/sessions';
import { setupContextFor, type SetupContext } from '../../../../lib/factors/setup-flow';
import { webauthnSetupAccess } from '../../../../lib/factors/webauthn';
import type { MfaSettings } from '../../../../lib/policy';
import { setupRedirect } from '../guard-redirect';

export type WebauthnSetupGuard =
  | { ok: true; session: SessionContext; mode: 'enroll' | 'add'; context: SetupContext; settings: MfaSettings }
  | { ok: false; redirectTo: string };

/**
 * The one access check of the WebAuthn setup page and its route handlers (R-D9): signed in,
 * WebAuthn enabled, and either the gate wants this user enrolled with WebAuthn among the
 * methods (R-E3, R-E4), or they reach the portal and add a key (with a fresh second factor
 * if they already have one). `here` is where to come back to after sign-in or verification.
 */
export async function guardWebauthnSetup(returnTo: string, here: string): Promise<WebauthnSetupGuard> {
  const { session, decision } = await accessFor(resourceOfPath(returnTo));
  if (!session) return { ok: false, redirectTo: setupRedirect('signed_out', null, returnTo, here) };
  const db = await getDb();
  const [factors, settings] = await Promise.all([listFactors(db.kysely, session.userId), loadMfaSettings(db.kysely)]);
  const access = webauthnSetupAccess({
    decision,
    webauthnEnabled: settings.webauthn,
    hasFactors: factors.length > 0,
    secondFactorAt: session.secondFactorAt,
    now: systemClock.now(),
  });
  if (access.mode === 'elsewhere' || access.mode === 'verify_first') return { ok: false, redirectTo: setupRedirect(access.mode, decision, returnTo, here) };
  return { ok: true, session, mode: access.mode, context: setupContextFor(decision, 'webauthn'), settings };
}

export function webauthnSetupPath(returnTo: string): string {
  return `/mfa/setup/webauthn?${new URLSearchParams({ returnTo }).toString()}`;
}
