import type { MfaSettings, Method } from './types';

/**
 * Which methods a user sets up (R-E2..R-E5) and which count as "enrolled".
 * Methods are handled as bit masks internally so decide() can combine them without
 * allocating per request.
 */

export const TOTP = 1;
export const WEBAUTHN = 2;
export const DUO = 4;

const CANONICAL: readonly Method[] = ['totp', 'webauthn', 'duo'];

export const webauthnOnlyError = 'WebAuthn cannot be the only enabled method: enable TOTP or Duo as well.';
export const noMethodError = 'Enable at least one MFA method: TOTP, WebAuthn or Duo.';

/** R-A2: the message for settings that may not be saved, or null when they may. */
export function validateSettings(settings: MfaSettings): string | null {
  if (!settings.totp && !settings.webauthn && !settings.duo) return noMethodError;
  if (settings.webauthn && !settings.totp && !settings.duo) return webauthnOnlyError;
  return null;
}

export function enabledMask(settings: MfaSettings): number {
  return (settings.totp ? TOTP : 0) | (settings.webauthn ? WEBAUTHN : 0) | (settings.duo ? DUO : 0);
}

/**
 * R-E2..R-E5 as a mask. Duo is never a setup step (Duo enrolls its own users), so
 * Duo-only settings give 0.
 *
 * NOTE: settings that validateSettings() refuses (nothing enabled, or WebAuthn alone)
 * cannot be saved, so they only show up from a damaged row. They fall back to TOTP, the
 * product default: a required user still has to set up a second factor instead of being
 * waved through for lack of a method, and a stored WebAuthn factor still counts because
 * WebAuthn is enabled.
 */
export function setupMask(settings: MfaSettings): number {
  if (settings.totp && settings.webauthn) return TOTP | WEBAUTHN; // R-E3
  if (settings.totp) return TOTP; // R-E2
  if (settings.webauthn && settings.duo) return WEBAUTHN; // R-E4
  if (settings.duo) return 0; // R-E5
  return TOTP;
}

/** Methods whose verified factors count as enrolled: the enabled ones plus the fallback setup method. */
export function effectiveMask(settings: MfaSettings): number {
  return enabledMask(settings) | setupMask(settings);
}

export function maskOf(methods: readonly string[]): number {
  let mask = 0;
  for (let i = 0; i < methods.length; i++) {
    const m = methods[i];
    if (m === 'totp') mask |= TOTP;
    else if (m === 'webauthn') mask |= WEBAUTHN;
    else if (m === 'duo') mask |= DUO;
  }
  return mask;
}

/** Methods in canonical order (TOTP first: it is the default, R-E3). */
export function methodsOf(mask: number): Method[] {
  const out: Method[] = [];
  if (mask & TOTP) out.push(CANONICAL[0]!);
  if (mask & WEBAUTHN) out.push(CANONICAL[1]!);
  if (mask & DUO) out.push(CANONICAL[2]!);
  return out;
}

export interface SetupMethods {
  methods: Method[];
  /** null only for Duo-only settings, where there is nothing to set up. */
  defaultMethod: Method | null;
}

export function setupMethods(settings: MfaSettings): SetupMethods {
  const mask = setupMask(settings);
  const methods = methodsOf(mask);
  return { methods, defaultMethod: methods[0] ?? null };
}

/**
 * "Enrolled" as decide() sees it: a verified factor of a method that counts, or Duo-only
 * settings (R-E5: Duo enrolls its own users, so there is nothing for Portcullis to set up).
 * Callers of mfaStatus() should use this so the admin column agrees with the gate.
 */
export function isEnrolledMask(enrolled: number, settings: MfaSettings): boolean {
  return (enrolled & effectiveMask(settings)) !== 0 || setupMask(settings) === 0;
}

export function isEnrolled(enrolledMethods: readonly Method[], settings: MfaSettings): boolean {
  return isEnrolledMask(maskOf(enrolledMethods), settings);
}
