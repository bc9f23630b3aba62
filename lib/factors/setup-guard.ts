import { getDb } from '../../db';
import { listFactors } from '../../db/queries/factors';
import { loadMfaSettings } from '../../db/queries/settings';
import type { SessionContext } from '../auth/sessions';
import { destinationFor } from '../gate/access';
import { systemClock } from '../clock';
import type { RequestFacts } from '../gate/decision-input';
import { mfaAccess } from '../gate/mfa-page-access';
import type { Decision, MfaSettings } from '../policy';
import { setupAccess, setupContextFor, type SetupContext } from './setup-flow';
import { verifyPath } from './verify-path';

export type SetupMethod = 'totp' | 'webauthn';

export type SetupGuard =
  | {
      ok: true;
      session: SessionContext;
      client: RequestFacts;
      context: SetupContext;
      mode: 'enroll' | 'add';
      settings: MfaSettings;
      /** The user's factors of this method, id → name (a TOTP replacement names one of them). */
      factorIds: Map<string, string>;
    }
  | { ok: false; redirectTo: string };

/**
 * Where a setup page sends someone it won't serve: not signed in (sign in, then come back
 * `here`), a factor but no fresh second factor (verify, then come back), or not theirs to
 * set up at all (wherever the gate's decision for `returnTo` leads).
 */
function setupRedirect(reason: 'signed_out' | 'verify_first' | 'elsewhere', decision: Decision | null, returnTo: string, here: string): string {
  switch (reason) {
    case 'signed_out':
      return `/login?returnTo=${encodeURIComponent(here)}`;
    case 'verify_first':
      return verifyPath({ returnTo: here, fresh: true });
    case 'elsewhere':
      return (decision && destinationFor(decision, returnTo)) ?? returnTo;
  }
}

/**
 * The one access check of a method's setup page, its route handlers and its action (R-D9):
 * signed in, the method enabled, and either the gate wants this user enrolled with it among
 * the methods (R-D4, R-D5, R-E3, R-E4), or they reach the portal and add one (with a fresh
 * second factor if they already have a factor). `here` is where to come back to after a
 * sign-in or a fresh verification. Never redirects itself: pages, actions and JSON routes
 * answer `redirectTo` in their own way.
 */
export async function guardSetup(method: SetupMethod, returnTo: string, here: string): Promise<SetupGuard> {
  const access = await mfaAccess(returnTo);
  if (!access) return { ok: false, redirectTo: setupRedirect('signed_out', null, returnTo, here) };
  const { session, decision, assurance, client } = access;
  const db = (await getDb()).kysely;
  const [factors, settings] = await Promise.all([listFactors(db, session.userId), loadMfaSettings(db)]);
  const enabled = method === 'totp' || settings.webauthn;
  const verdict = enabled
    ? setupAccess(method, { decision, hasFactors: factors.length > 0, secondFactorAt: assurance.secondFactorAt, now: systemClock.now() })
    : ({ mode: 'elsewhere' } as const);
  if (verdict.mode === 'elsewhere' || verdict.mode === 'verify_first') return { ok: false, redirectTo: setupRedirect(verdict.mode, decision, returnTo, here) };
  return {
    ok: true,
    session,
    client,
    context: setupContextFor(decision, method),
    mode: verdict.mode,
    settings,
    factorIds: new Map(factors.filter((f) => f.type === method).map((f) => [f.id, f.name])),
  };
}
