import { cookies } from 'next/headers';
import {
  duoCookie,
  openPendingDuo,
  openPendingWebauthn,
  sealPending,
  webauthnCookie,
  type PendingDuo,
  type PendingWebauthn,
} from './ceremony';

/**
 * The pending-ceremony cookies, for route handlers (pages may only read cookies). Reading
 * is always followed by clearing in the handler that completes a ceremony: a value is
 * offered once, and spent_nonces makes sure it is accepted at most once.
 */

export async function readPendingWebauthn(): Promise<PendingWebauthn | null> {
  return openPendingWebauthn((await cookies()).get(webauthnCookie.name())?.value);
}

export async function writePendingWebauthn(pending: PendingWebauthn): Promise<void> {
  (await cookies()).set(webauthnCookie.name(), await sealPending(pending), webauthnCookie.options());
}

export async function clearPendingWebauthn(): Promise<void> {
  (await cookies()).set(webauthnCookie.name(), '', webauthnCookie.clearOptions());
}

export async function readPendingDuo(): Promise<PendingDuo | null> {
  return openPendingDuo((await cookies()).get(duoCookie.name())?.value);
}

export async function writePendingDuo(pending: PendingDuo): Promise<void> {
  (await cookies()).set(duoCookie.name(), await sealPending(pending), duoCookie.options());
}

export async function clearPendingDuo(): Promise<void> {
  (await cookies()).set(duoCookie.name(), '', duoCookie.clearOptions());
}
