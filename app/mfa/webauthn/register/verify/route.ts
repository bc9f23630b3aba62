import { getDb } from '../../../../../db';
import { systemClock } from '../../../../../lib/clock';
import { safeReturnPath } from '../../../../../lib/auth/return-path';
import { clearPendingWebauthn, readPendingWebauthn } from '../../../../../lib/factors/ceremony-cookies';
import { setSessionCookie, writeRecoveryCodesToShow } from '../../../../../lib/factors/cookies';
import { afterWebauthnRegistered, pathOf, withNotice } from '../../../../../lib/factors/setup-flow';
import { factorTypesOf } from '../../../../../lib/factors/overview';
import { guardSetup } from '../../../../../lib/factors/setup-guard';
import { verifyPath } from '../../../../../lib/factors/verify-path';
import {
  confirmWebauthnRegistration,
  relyingParty,
  totpStillNeeded,
  webauthnMessages,
} from '../../../../../lib/factors/webauthn';
import { failClosed, json, readJsonPost } from '../../../../../lib/http/json-post';

export const dynamic = 'force-dynamic';

/**
 * Finishes a registration: checks the attestation against the pending challenge, stores
 * the key, rotates the session, then says where to go. In the Set Up flow that is the TOTP
 * setup when TOTP is still needed (R-E3; recovery codes first when this was the first
 * factor), the recovery codes, or the return path (R-E7).
 */
export async function POST(request: Request): Promise<Response> {
  const read = await readJsonPost(request);
  if ('response' in read) return read.response;
  const returnTo = safeReturnPath(read.body.returnTo);
  const here = pathOf('webauthn_register', returnTo);
  try {
    const guard = await guardSetup('webauthn', returnTo, here);
    if (!guard.ok) return json(403, { redirectTo: guard.redirectTo });
    const pending = await readPendingWebauthn();
    await clearPendingWebauthn();
    const db = await getDb();
    const result = await confirmWebauthnRegistration(
      db.kysely,
      guard.session,
      pending,
      { response: read.body.response, name: read.body.name },
      guard.client,
      relyingParty(),
      systemClock,
    );
    if (!result.ok) {
      if (result.reason === 'session_gone') return json(401, { redirectTo: `/login?returnTo=${encodeURIComponent(returnTo)}` });
      // R-E8: re-challenge, then come back to the key setup.
      if (result.reason === 'not_fresh') return json(403, { redirectTo: verifyPath({ returnTo: here, fresh: true, why: 'factor_change' }) });
      return json(400, { reason: result.reason, message: result.message ?? webauthnMessages[result.reason] });
    }

    await setSessionCookie(result.token);
    const firstFactor = result.recoveryCodes !== null;
    if (firstFactor) await writeRecoveryCodesToShow(guard.session.userId, result.recoveryCodes!, 'webauthn');
    const stillNeeded = guard.mode === 'enroll' && totpStillNeeded(guard.settings, await factorTypesOf(guard.session.userId));
    const next = afterWebauthnRegistered(guard.mode, { firstFactor, totpStillNeeded: stillNeeded }, guard.context, returnTo);
    // Straight back (no codes, no TOTP step to come): the portal says the key was added.
    const last = !firstFactor && !stillNeeded;
    return json(200, { redirectTo: last ? withNotice(next, guard.mode === 'add' ? 'added' : 'mfa_set_up', result.factorId) : next });
  } catch (err) {
    return failClosed('WebAuthn registration', err);
  }
}
