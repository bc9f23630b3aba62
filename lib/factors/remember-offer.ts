import { cookies } from 'next/headers';
import { getDb } from '../../db';
import { systemClock } from '../clock';
import { deviceCookie, rememberDevice } from '../auth/remembered-devices';
import type { SessionContext } from '../auth/sessions';
import type { Decision } from '../policy';
import { getAccessContext } from '../gate/context';
import { resourceOfPath } from '../gate/resources';

/**
 * Issue 18 part 3: "Don't ask again on this device for N days", after a challenge passed
 * with any method (TOTP, recovery code, WebAuthn, Duo). The box is offered, and honoured,
 * only when the decision that sent the person to verify was a challenge under a policy that
 * allows remembering (decide() sets `rememberDays` then), never for a "confirm it's you"
 * check before a change (`fresh`).
 */

/** The N days the challenge lets the person tick, or null: no box. */
export function rememberOffer(decision: Decision | null, fresh: boolean): number | null {
  if (fresh || decision === null || decision.kind !== 'challenge') return null;
  return decision.rememberDays ?? null;
}

/** Whether the box was ticked: a checkbox posts "on"; the WebAuthn script sends `true`. */
export function rememberTicked(value: unknown): boolean {
  return value === 'on' || value === true;
}

/**
 * The days a challenge for `returnTo` offers, read before the second factor is checked (the
 * decision afterwards is an allow). Memoised per request by the access context.
 */
export async function rememberOfferFor(returnTo: string, fresh: boolean): Promise<number | null> {
  if (fresh) return null;
  const { session, decisionFor } = await getAccessContext();
  if (!session) return null;
  return rememberOffer(await decisionFor(resourceOfPath(returnTo)), fresh);
}

/**
 * Remembers this browser for `days` days (a device row, audited) and sets the device cookie:
 * HttpOnly, SameSite=Lax, Path=/, Secure on https, Max-Age N days.
 */
export async function rememberThisDevice(
  session: Pick<SessionContext, 'userId' | 'username'>,
  client: { ip: string | null; userAgent: string | null },
  days: number,
): Promise<void> {
  const db = await getDb();
  const { token, maxAgeSeconds } = await rememberDevice(db.kysely, session, { days, userAgent: client.userAgent, ip: client.ip }, systemClock);
  const cookie = deviceCookie();
  (await cookies()).set(cookie.name, token, { ...cookie, maxAge: maxAgeSeconds });
}
