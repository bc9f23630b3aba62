'use server';

import { redirect } from 'next/navigation';
import { getDb } from '../../../db';
import { systemClock } from '../../../lib/clock';
import { getAccessContext } from '../../../lib/gate';
import { safeReturnPath } from '../../../lib/auth/return-path';
import { setSessionCookie } from '../../../lib/factors/cookies';
import { verifyRecoveryCodeSignIn } from '../../../lib/factors/recovery-codes';
import { verifyTotpSignIn } from '../../../lib/factors/totp';
import { verifyPath } from '../../../lib/factors/verify-path';
import { pathOf } from '../../../lib/factors/setup-flow';
import { rememberOfferFor, rememberThisDevice, rememberTicked } from '../../../lib/factors/remember-offer';

/** One value, or the whole list when a field was sent more than once (then refused as malformed). */
function field(formData: FormData, name: string): unknown {
  const values = formData.getAll(name);
  return values.length === 1 ? values[0] : values;
}

/** "Verify" with a code from the authenticator app. */
export async function verifyTotpCode(formData: FormData): Promise<void> {
  const returnTo = safeReturnPath(formData.get('returnTo'));
  const fresh = formData.get('fresh') === '1';
  // R-D9: the action checks the session itself.
  const { session, client } = await getAccessContext();
  if (!session) redirect(`/login?returnTo=${encodeURIComponent(returnTo)}`);
  // Issue 18 part 3: what the challenge offered, read before the code changes the answer.
  const rememberDays = rememberTicked(formData.get('remember')) ? await rememberOfferFor(returnTo, fresh) : null;
  const db = await getDb();
  const result = await verifyTotpSignIn(db.kysely, session, field(formData, 'code'), client, systemClock);
  if (!result.ok) {
    if (result.reason === 'session_gone') redirect(`/login?returnTo=${encodeURIComponent(returnTo)}`);
    redirect(verifyPath({ returnTo, fresh, method: 'totp', error: result.reason, retryAfterMs: result.retryAfterMs }));
  }
  await setSessionCookie(result.token);
  if (rememberDays !== null) await rememberThisDevice(session, client, rememberDays);
  redirect(returnTo);
}

/** "Use a recovery code": the same checks, and the code is spent. */
export async function verifyRecoveryCode(formData: FormData): Promise<void> {
  const returnTo = safeReturnPath(formData.get('returnTo'));
  const fresh = formData.get('fresh') === '1';
  const { session, client } = await getAccessContext();
  if (!session) redirect(`/login?returnTo=${encodeURIComponent(returnTo)}`);
  const rememberDays = rememberTicked(formData.get('remember')) ? await rememberOfferFor(returnTo, fresh) : null;
  const db = await getDb();
  const result = await verifyRecoveryCodeSignIn(db.kysely, session, field(formData, 'code'), client, systemClock);
  if (!result.ok) {
    if (result.reason === 'session_gone') redirect(`/login?returnTo=${encodeURIComponent(returnTo)}`);
    redirect(verifyPath({ returnTo, fresh, method: 'recovery', error: result.reason, retryAfterMs: result.retryAfterMs }));
  }
  await setSessionCookie(result.token);
  if (rememberDays !== null) await rememberThisDevice(session, client, rememberDays);
  // A sign-in with a recovery code means a lost device: say so and offer a new one first. A
  // confirmation before a change (`fresh`) goes straight back to the change.
  redirect(fresh ? returnTo : pathOf('recovered', returnTo));
}
