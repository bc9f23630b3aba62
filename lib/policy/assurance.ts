import type { Aal, AmrEntry } from './types';

/**
 * Assurance derived from the methods a session passed, never stored beside them (as Kratos'
 * `Session.SetAuthenticatorAssuranceLevel` derives it from the completed methods): a flag
 * kept apart from the list could disagree with it.
 */

/** Methods that count as a second factor. A recovery code stands in for the user's factor. */
export const secondFactorMethods: ReadonlySet<string> = new Set(['totp', 'webauthn', 'duo', 'recovery']);

/** aal2 iff a second-factor method was passed; anything else (a password, nothing, an unknown method) is aal1. */
export function aalOf(amr: readonly AmrEntry[]): Aal {
  for (let i = 0; i < amr.length; i++) if (secondFactorMethods.has(amr[i]!.method)) return 2;
  return 1;
}

/** When the session last passed a second factor (epoch ms), or null if it never did. */
export function secondFactorAtOf(amr: readonly AmrEntry[]): number | null {
  let latest: number | null = null;
  for (const entry of amr) {
    if (secondFactorMethods.has(entry.method) && (latest === null || entry.at > latest)) latest = entry.at;
  }
  return latest;
}

/** The list after passing `method` at `at`: one entry per method, the latest time kept, in first-passed order. */
export function withMethod(amr: readonly AmrEntry[], method: string, at: number): AmrEntry[] {
  return amr.some((e) => e.method === method)
    ? amr.map((e) => (e.method === method ? { method, at: Math.max(e.at, at) } : e))
    : [...amr, { method, at }];
}
