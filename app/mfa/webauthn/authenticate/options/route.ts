import { getDb } from '../../../../../db';
import { systemClock } from '../../../../../lib/clock';
import { getAccessContext } from '../../../../../lib/gate';
import { currentMfaSettings } from '../../../../../lib/factors/overview';
import { safeReturnPath } from '../../../../../lib/auth/return-path';
import { writePendingWebauthn } from '../../../../../lib/factors/ceremony-cookies';
import { relyingParty, webauthnAuthenticationOptions } from '../../../../../lib/factors/webauthn';
import { failClosed, json, readJsonPost } from '../../../../../lib/http/json-post';

export const dynamic = 'force-dynamic';

/** "Use security key": options for navigator.credentials.get() with the user's own keys. */
export async function POST(request: Request): Promise<Response> {
  const read = await readJsonPost(request);
  if ('response' in read) return read.response;
  const returnTo = safeReturnPath(read.body.returnTo);
  try {
    const { session } = await getAccessContext();
    if (!session) return json(401, { redirectTo: `/login?returnTo=${encodeURIComponent(returnTo)}` });
    const db = await getDb();
    if (!(await currentMfaSettings()).webauthn) return json(403, { message: 'Security keys are not enabled.' });
    const started = await webauthnAuthenticationOptions(db.kysely, session, relyingParty(), systemClock);
    if (!started) return json(400, { message: 'You have no security key or passkey set up.' });
    await writePendingWebauthn(started.pending);
    return json(200, { options: started.options });
  } catch (err) {
    return failClosed('WebAuthn authentication options', err);
  }
}
