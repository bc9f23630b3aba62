import { getDb } from '../../../../db';
import { systemClock } from '../../../../lib/clock';
import { safeReturnPath } from '../../../../lib/auth/return-path';
import { writePendingDuo } from '../../../../lib/factors/ceremony-cookies';
import { startDuo } from '../../../../lib/factors/duo';
import { destinationFor, mfaAccess } from '../../../../lib/gate';
import { currentMfaSettings } from '../../../../lib/factors/overview';
import { unavailableResponse } from '../../../../lib/gate/unavailable';
import { isSameOriginPost } from '../../../../lib/http/same-origin';
import { verifyPath } from '../../../../lib/factors/verify-path';
import { duoUnavailablePath } from '../paths';
import { log } from '../../../../lib/log';

export const dynamic = 'force-dynamic';

const maxFormBytes = 8 * 1024;

function seeOther(location: string): Response {
  return new Response(null, { status: 303, headers: { location, 'cache-control': 'no-store' } });
}

/**
 * "Use Duo" posts here (a plain form). Duo is offered when the gate's challenge includes
 * it, or for a "confirm it's you" check with Duo enabled. Health check, a state bound to
 * this session in a sealed cookie, then off to Duo; if Duo is unreachable, the "Duo is
 * unavailable" page with the user's other factors (fail closed).
 */
export async function POST(request: Request): Promise<Response> {
  if (!isSameOriginPost(request)) return new Response('Cross-origin form posts are not accepted.', { status: 403 });
  if (Number(request.headers.get('content-length') ?? 0) > maxFormBytes) return new Response('Too large.', { status: 413 });
  let form: FormData;
  try {
    form = await request.formData();
  } catch {
    return seeOther('/portal');
  }
  const returnTo = safeReturnPath(form.get('returnTo'));
  const fresh = form.get('fresh') === '1';
  try {
    const access = await mfaAccess(returnTo);
    if (!access) return seeOther(`/login?returnTo=${encodeURIComponent(returnTo)}`);
    const { session, decision, client } = access;
    const db = await getDb();
    const offered =
      decision.kind === 'challenge' ? decision.methods.includes('duo') : fresh && (await currentMfaSettings()).duo;
    if (!offered) return seeOther(destinationFor(decision, returnTo) ?? returnTo);

    const remember = form.get('remember') === 'on'; // issue 18 part 3, carried to the callback sealed
    const started = await startDuo(db.kysely, session, { returnTo, fresh, remember }, client, systemClock);
    if (started.ok) {
      await writePendingDuo(started.pending);
      return seeOther(started.url);
    }
    if (started.reason === 'not_enabled') return seeOther(verifyPath({ returnTo, fresh }));
    return seeOther(duoUnavailablePath(returnTo, fresh));
  } catch (err) {
    log.error({ err }, 'Duo start failed; failing closed');
    return unavailableResponse('signed_in');
  }
}
