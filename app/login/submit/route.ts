import { getDb } from '../../../db';
import { systemClock } from '../../../lib/clock';
import { clientIpFromHeaders } from '../../../lib/auth/client-ip';
import { encodeSessionCookie, sessionSetCookie } from '../../../lib/auth/cookie';
import { safeReturnPath } from '../../../lib/auth/return-path';
import { signInWithPassword } from '../../../lib/auth/sign-in';
import { isSameOriginPost } from '../../../lib/http/same-origin';
import { unavailableResponse } from '../../../lib/gate/unavailable';
import { readSignInForm } from './form';
import { loggerFor } from '../../../lib/log';

export const dynamic = 'force-dynamic';

function seeOther(location: string, setCookie?: string): Response {
  const headers = new Headers({ location, 'cache-control': 'no-store' });
  if (setCookie) headers.append('set-cookie', setCookie);
  return new Response(null, { status: 303, headers });
}

/**
 * The sign-in form posts here (a plain HTML form, no client JavaScript needed). A full
 * POST-redirect-GET means the browser's next request for the return path passes through
 * the gate like any other, landing on Set Up or verify when the decision says so.
 */
export async function POST(request: Request): Promise<Response> {
  if (!isSameOriginPost(request)) return new Response('Cross-origin form posts are not accepted.', { status: 403 });
  // At most 8 KiB, whatever Content-Length says (a chunked body is cut off at the limit).
  const form = await readSignInForm(request);
  if (!form.ok) {
    if (form.reason === 'too_large') return new Response('Too large.', { status: 413 });
    return seeOther('/login?error=invalid');
  }
  const { username, password } = form.fields;
  const returnTo = safeReturnPath(form.fields.returnTo);
  try {
    const db = await getDb();
    const result = await signInWithPassword(
      db.kysely,
      { username, password },
      { ip: clientIpFromHeaders(request.headers), userAgent: request.headers.get('user-agent') },
      systemClock,
    );
    if (!result.ok) return seeOther(`/login?error=${result.reason}&returnTo=${encodeURIComponent(returnTo)}`);
    return seeOther(returnTo, sessionSetCookie(await encodeSessionCookie(result.token)));
  } catch (err) {
    loggerFor(request.headers).error({ err }, 'sign-in failed; failing closed');
    return unavailableResponse();
  }
}
