import type { AmrEntry, AuthStrength } from './types';

/**
 * Issue 18: authentication strength and re-verification ("sign-in frequency"), as pure
 * reads of a session's amr list. decide() calls them only when a matching require-MFA
 * policy asks for either, so the common path does no extra work.
 */

export const authStrengths = ['any', 'phishing_resistant'] as const satisfies readonly AuthStrength[];

/** "Second factor within the last N minutes": 5 minutes … 30 days. */
export const minReverifyMinutes = 5;
export const maxReverifyMinutes = 43_200;

/**
 * Methods that satisfy a phishing-resistant policy. Only WebAuthn: its signature is bound
 * to the origin, so a relayed TOTP code, an approved Duo push or a recovery code (which
 * stands in for any factor, phishable ones included) never counts.
 */
export const phishingResistantMethods: ReadonlySet<string> = new Set(['webauthn']);

const anySecondFactor: ReadonlySet<string> = new Set(['totp', 'webauthn', 'duo', 'recovery']);

/**
 * Whether the session passed a second factor good enough for the policy: of the asked
 * strength and, when `maxAgeMs` is given, no older than that at `now`. An entry dated
 * after `now` (another instance's clock a little ahead) counts as fresh, so a user who
 * just verified is not sent round again.
 */
export function satisfiesStrength(amr: readonly AmrEntry[], phishingResistant: boolean, maxAgeMs: number | null, now: number): boolean {
  const methods = phishingResistant ? phishingResistantMethods : anySecondFactor;
  for (let i = 0; i < amr.length; i++) {
    const entry = amr[i]!;
    if (!methods.has(entry.method)) continue;
    if (maxAgeMs === null || now - entry.at <= maxAgeMs) return true;
  }
  return false;
}
