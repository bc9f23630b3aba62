import { rememberOfferFor, rememberThisDevice } from '../../../../lib/factors/remember-offer';
import type { NextRequest } from 'next/server';
import { getDb } from '../../../../db';
import { systemClock } from '../../../../lib/clock';
import { getAccessContext } from '../../../../lib/gate';
import { safeReturnPath } from '../../../../lib/auth/return-path';
import { clearPendingDuo, readPendingDuo } from '../../../../lib/factors/ceremony-cookies';
import { setSessionCookie } from '../../../../lib/factors/cookies';
import { completeDuo } from '../../../../lib/factors/duo';
import { unavailableResponse } from '../../../../lib/gate/unavailable';
import { verifyPath } from '../../../../lib/factors/verify-path';
import { duoUnavailablePath } from '../paths';
import { log } from '../../../../lib/log';

export const dynamic = 'force-dynamic';

function seeOther(location: string): Response {
  return new Response(null, { status: 303, headers: { location, 'cache-control': 'no-store' } });
}

/**
 * Duo sends the browser back here with `state` and `duo_code` (or `error`). The pending
 * state cookie is read once and cleared whatever happens; completeDuo() checks the state
 * and exchanges the code with the session's username.
 */
export async function GET(request: NextRequest): Promise<Response> {
  const query = request.nextUrl.searchParams;
  try {
    const { session, client } = await getAccessContext();
    const pending = await readPendingDuo();
    await clearPendingDuo();
    const returnTo = safeReturnPath(pending?.returnTo);
    const fresh = pending?.fresh === true;
    if (!session) return seeOther(`/login?returnTo=${encodeURIComponent(returnTo)}`);
    // Issue 18 part 3: what the challenge offered, read before Duo's answer changes it.
    const rememberDays = pending?.remember === true ? await rememberOfferFor(returnTo, fresh) : null;
    const db = await getDb();
    const result = await completeDuo(
      db.kysely,
      session,
      pending,
      { state: query.get('state'), code: query.get('duo_code') ?? query.get('code'), error: query.get('error') ?? undefined },
      client,
      systemClock,
    );
    if (result.ok) {
      await setSessionCookie(result.token);
      if (rememberDays !== null) await rememberThisDevice(session, client, rememberDays);
      return seeOther(returnTo);
    }
    if (result.reason === 'session_gone') return seeOther(`/login?returnTo=${encodeURIComponent(returnTo)}`);
    if (result.reason === 'unavailable') return seeOther(duoUnavailablePath(returnTo, fresh));
    return seeOther(verifyPath({ returnTo, fresh, error: 'duo_refused' }));
  } catch (err) {
    log.error({ err }, 'Duo callback failed; failing closed');
    return unavailableResponse('signed_in');
  }
}
