import { getDb } from '../../../../../db';
import { factorTypesOfUser } from '../../../../../db/queries/factors';
import { systemClock } from '../../../../../lib/clock';
import { requestClient } from '../../../../../lib/auth/current';
import { safeReturnPath } from '../../../../../lib/auth/return-path';
import { clearPendingWebauthn, readPendingWebauthn } from '../../../../../lib/factors/ceremony-cookies';
import { setSessionCookie, writeRecoveryCodesToShow } from '../../../../../lib/factors/cookies';
import { nextState, pathOf } from '../../../../../lib/factors/setup-flow';
import {
  confirmWebauthnRegistration,
  relyingParty,
  totpStillNeeded,
  webauthnMessages,
} from '../../../../../lib/factors/webauthn';
import { guardWebauthnSetup, webauthnSetupPath } from '../../../setup/webauthn/guard';
import { verifyPath } from '../../../verify/paths';
import { failClosed, json, readJsonPost } from '../../http';

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
  try {
    const guard = await guardWebauthnSetup(returnTo, webauthnSetupPath(returnTo));
    if (!guard.ok) return json(403, { redirectTo: guard.redirectTo });
    const pending = await readPendingWebauthn();
    await clearPendingWebauthn();
    const db = await getDb();
    const result = await confirmWebauthnRegistration(
      db.kysely,
      guard.session,
      pending,
      { response: read.body.response, name: read.body.name },
      await requestClient(),
      relyingParty(),
      systemClock,
    );
    if (!result.ok) {
      if (result.reason === 'session_gone') return json(401, { redirectTo: `/login?returnTo=${encodeURIComponent(returnTo)}` });
      // R-E8: re-challenge, then come back to the key setup.
      if (result.reason === 'not_fresh') return json(403, { redirectTo: verifyPath({ returnTo: webauthnSetupPath(returnTo), fresh: true, why: 'factor_change' }) });
      return json(400, { reason: result.reason, message: result.message ?? webauthnMessages[result.reason] });
    }

    await setSessionCookie(result.token);
    const firstFactor = result.recoveryCodes !== null;
    if (firstFactor) await writeRecoveryCodesToShow(guard.session.userId, result.recoveryCodes!);
    let redirectTo: string;
    if (guard.mode === 'enroll') {
      const types = await factorTypesOfUser(db.kysely, guard.session.userId);
      const state =
        nextState('webauthn_register', { type: 'webauthn_registered', firstFactor, totpStillNeeded: totpStillNeeded(guard.settings, types) }, guard.context) ??
        'done';
      // R-E3: the TOTP step comes next; the recovery codes of a first factor are shown on the way.
      redirectTo = state === 'totp_scan' && firstFactor ? pathOf('recovery_codes', pathOf('totp_scan', returnTo)) : pathOf(state, returnTo);
    } else {
      redirectTo = firstFactor ? pathOf('recovery_codes', returnTo) : returnTo;
    }
    return json(200, { redirectTo });
  } catch (err) {
    return failClosed('WebAuthn registration', err);
  }
}
