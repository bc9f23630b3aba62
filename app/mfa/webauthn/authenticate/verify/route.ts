import { getDb } from '../../../../../db';
import { systemClock } from '../../../../../lib/clock';
import { getAccessContext } from '../../../../../lib/gate';
import { currentMfaSettings, factorTypesOf } from '../../../../../lib/factors/overview';
import { safeReturnPath } from '../../../../../lib/auth/return-path';
import { clearPendingWebauthn, readPendingWebauthn } from '../../../../../lib/factors/ceremony-cookies';
import { setSessionCookie } from '../../../../../lib/factors/cookies';
import { pathOf } from '../../../../../lib/factors/setup-flow';
import { rememberOfferFor, rememberThisDevice, rememberTicked } from '../../../../../lib/factors/remember-offer';
import { relyingParty, totpStillNeeded, verifyWebauthnSignIn, webauthnMessages } from '../../../../../lib/factors/webauthn';
import { failClosed, json, readJsonPost } from '../../../../../lib/http/json-post';

export const dynamic = 'force-dynamic';

/**
 * Second factor with a security key or passkey: verifies the assertion, rotates the
 * session, continues to the return path. R-E3: someone who set up WebAuthn but never TOTP
 * (with both enabled) is brought to the TOTP setup on the way.
 */
export async function POST(request: Request): Promise<Response> {
  const read = await readJsonPost(request);
  if ('response' in read) return read.response;
  const returnTo = safeReturnPath(read.body.returnTo);
  const fresh = read.body.fresh === true || read.body.fresh === '1';
  try {
    const { session, client } = await getAccessContext();
    if (!session) return json(401, { redirectTo: `/login?returnTo=${encodeURIComponent(returnTo)}` });
    // Issue 18 part 3: what the challenge offered, read before the key changes the answer.
    const rememberDays = rememberTicked(read.body.remember) ? await rememberOfferFor(returnTo, fresh) : null;
    const pending = await readPendingWebauthn();
    await clearPendingWebauthn();
    const db = await getDb();
    const settings = await currentMfaSettings();
    if (!settings.webauthn) return json(403, { message: 'Security keys are not enabled.' });
    const result = await verifyWebauthnSignIn(db.kysely, session, pending, read.body.response, client, relyingParty(), systemClock);
    if (!result.ok) {
      if (result.reason === 'session_gone') return json(401, { redirectTo: `/login?returnTo=${encodeURIComponent(returnTo)}` });
      return json(400, { reason: result.reason, message: webauthnMessages[result.reason] });
    }
    await setSessionCookie(result.token);
    if (rememberDays !== null) await rememberThisDevice(session, client, rememberDays);
    const types = await factorTypesOf(session.userId);
    const redirectTo = !fresh && totpStillNeeded(settings, types) ? pathOf('totp_scan', returnTo) : returnTo;
    return json(200, { redirectTo });
  } catch (err) {
    return failClosed('WebAuthn sign-in', err);
  }
}
