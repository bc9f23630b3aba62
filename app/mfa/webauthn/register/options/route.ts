import { getDb } from '../../../../../db';
import { systemClock } from '../../../../../lib/clock';
import { safeReturnPath } from '../../../../../lib/auth/return-path';
import { writePendingWebauthn } from '../../../../../lib/factors/ceremony-cookies';
import { relyingParty, webauthnRegistrationOptions } from '../../../../../lib/factors/webauthn';
import { guardWebauthnSetup, webauthnSetupPath } from '../../../setup/webauthn/guard';
import { failClosed, json, readJsonPost } from '../../http';

export const dynamic = 'force-dynamic';

/** Starts a registration: options for navigator.credentials.create(), the challenge in a sealed cookie. */
export async function POST(request: Request): Promise<Response> {
  const read = await readJsonPost(request);
  if ('response' in read) return read.response;
  const returnTo = safeReturnPath(read.body.returnTo);
  try {
    const guard = await guardWebauthnSetup(returnTo, webauthnSetupPath(returnTo));
    if (!guard.ok) return json(403, { redirectTo: guard.redirectTo });
    const db = await getDb();
    const { options, pending } = await webauthnRegistrationOptions(db.kysely, guard.session, relyingParty(), systemClock);
    await writePendingWebauthn(pending);
    return json(200, { options });
  } catch (err) {
    return failClosed('WebAuthn registration options', err);
  }
}
