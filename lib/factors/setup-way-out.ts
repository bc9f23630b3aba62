import { pathOf, type SetupContext } from './setup-flow';

/**
 * The way out of a method's setup step (TOTP, security key):
 * - adding a device from the portal: Cancel goes back where the user came from;
 * - an optional Set Up: Cancel goes back to the Set Up page, which offers "Skip for now";
 * - a forced Set Up: going back to the Set Up page would only lead here again, so the way
 *   out is signing out (and, when the user may pick another method, that choice).
 */
export type SetupWayOut =
  | { kind: 'cancel'; href: string }
  | { kind: 'sign_out'; otherMethodsHref: string | null };

export function setupWayOut(mode: 'enroll' | 'add', context: SetupContext, returnTo: string): SetupWayOut {
  if (mode === 'add') return { kind: 'cancel', href: returnTo };
  if (!context.forced) return { kind: 'cancel', href: pathOf('choose_method', returnTo) };
  return { kind: 'sign_out', otherMethodsHref: context.methods.length > 1 ? pathOf('choose_method', returnTo) : null };
}
