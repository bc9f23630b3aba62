import { getDb } from '../../../../db';
import { listFactors } from '../../../../db/queries/factors';
import { systemClock } from '../../../../lib/clock';
import { accessFor, resourceOfPath } from '../../../../lib/gate/require-access';
import type { SessionContext } from '../../../../lib/auth/sessions';
import { setupContextFor, totpSetupAccess, type SetupContext } from '../../../../lib/factors/setup-flow';
import { setupRedirect } from '../guard-redirect';

export type TotpSetupGuard =
  | { ok: true; session: SessionContext; context: SetupContext; mode: 'enroll' | 'add'; factorIds: Map<string, string> }
  | { ok: false; redirectTo: string };

/**
 * The one access check of the TOTP setup page, its start route and its action (R-D9):
 * signed in; either the gate wants this user enrolled, or they reach the portal and add a
 * device (with a fresh second factor if they already have one). `here` is where to come
 * back to after a sign-in or a fresh verification.
 */
export async function guardTotpSetup(returnTo: string, here: string): Promise<TotpSetupGuard> {
  const { session, decision } = await accessFor(resourceOfPath(returnTo));
  if (!session) return { ok: false, redirectTo: setupRedirect('signed_out', null, returnTo, here) };
  const db = await getDb();
  const factors = await listFactors(db.kysely, session.userId);
  const access = totpSetupAccess({
    decision,
    hasFactors: factors.length > 0,
    secondFactorAt: session.secondFactorAt,
    now: systemClock.now(),
  });
  if (access.mode === 'elsewhere' || access.mode === 'verify_first') return { ok: false, redirectTo: setupRedirect(access.mode, decision, returnTo, here) };
  const totpFactors = new Map(factors.filter((f) => f.type === 'totp').map((f) => [f.id, f.name]));
  return { ok: true, session, context: setupContextFor(decision, 'totp'), mode: access.mode, factorIds: totpFactors };
}

export function setupPagePath(returnTo: string, extra: Record<string, string> = {}): string {
  return `/mfa/setup/totp?${new URLSearchParams({ returnTo, ...extra }).toString()}`;
}

export function startPath(returnTo: string, extra: Record<string, string> = {}): string {
  return `/mfa/setup/totp/start?${new URLSearchParams({ returnTo, ...extra }).toString()}`;
}
