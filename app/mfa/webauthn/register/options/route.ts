import { getDb } from '../../../../../db';
import { systemClock } from '../../../../../lib/clock';
import { safeReturnPath } from '../../../../../lib/auth/return-path';
import { writePendingWebauthn } from '../../../../../lib/factors/ceremony-cookies';
import { relyingParty, webauthnRegistrationOptions } from '../../../../../lib/factors/webauthn';
import { guardSetup } from '../../../../../lib/factors/setup-guard';
import { pathOf } from '../../../../../lib/factors/setup-flow';
import { failClosed, json, readJsonPost } from '../../../../../lib/http/json-post';

export const dynamic = 'force-dynamic';

/** Starts a registration: options for navigator.credentials.create(), the challenge in a sealed cookie. */
export async function POST(request: Request): Promise<Response> {
  const read = await readJsonPost(request);
  if ('response' in read) return read.response;
  const returnTo = safeReturnPath(read.body.returnTo);
  try {
    const guard = await guardSetup('webauthn', returnTo, pathOf('webauthn_register', returnTo));
    if (!guard.ok) return json(403, { redirectTo: guard.redirectTo });
    const db = await getDb();
    const { options, pending } = await webauthnRegistrationOptions(db.kysely, guard.session, relyingParty(), systemClock);
    await writePendingWebauthn(pending);
    return json(200, { options });
  } catch (err) {
    return failClosed('WebAuthn registration options', err);
  }
}
