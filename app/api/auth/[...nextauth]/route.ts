import { getDb } from '../../../../db';
import { systemClock } from '../../../../lib/clock';
import { clientIpFromHeaders } from '../../../../lib/auth/client-ip';
import { decodeSessionCookie, sessionCookieName, sessionSetCookie } from '../../../../lib/auth/cookie';
import { validateSession } from '../../../../lib/auth/sessions';
import { signOutSession } from '../../../../lib/auth/sign-out';
import { readEnv } from '../../../../lib/config/env';
import { unavailableResponse } from '../../../../lib/gate/unavailable';
import { isSameOriginPost } from '../../../../lib/http/same-origin';
import { log } from '../../../../lib/log';

// NOTE: next-auth (v4, the project's chosen auth library) no longer serves these paths.
// Its handler was a second door that behaved differently from ours:
// sign-out left the session row alive, /callback/credentials was a second sign-in,
// /session showed a password-only session's name and email, and its URLs came from an
// unset NEXTAUTH_URL. The session cookie is still next-auth's JWT format (lib/auth/cookie.ts,
// checked against next-auth/jwt in test/unit/auth/session-cookie.test.ts), so apps that
// link to next-auth's well-known paths keep working through this file:
//   POST /api/auth/signout      → our sign-out (the session row ends), 303 to /login
//   GET  /api/auth/signin|error → 303 to /login (the one sign-in page)
//   GET  /api/auth/signout      → 303 to /signout (our page asks; a GET never signs out)
//   anything else (callback/*, session, csrf, providers, _log, …) → 404
export const dynamic = 'force-dynamic';

type Context = { params: Promise<{ nextauth?: string[] }> };

async function actionOf(context: Context): Promise<string> {
  return ((await context.params).nextauth ?? []).join('/');
}

function notFound(): Response {
  return new Response('Not found.', { status: 404, headers: { 'content-type': 'text/plain; charset=utf-8', 'cache-control': 'no-store' } });
}

function seeOther(path: '/login' | '/signout', setCookie?: string): Response {
  const headers = new Headers({ location: `${readEnv().origin}${path}`, 'cache-control': 'no-store' });
  if (setCookie) headers.append('set-cookie', setCookie);
  return new Response(null, { status: 303, headers });
}

function cookieValue(request: Request, name: string): string | undefined {
  for (const part of (request.headers.get('cookie') ?? '').split(';')) {
    const at = part.indexOf('=');
    if (at !== -1 && part.slice(0, at).trim() === name) return part.slice(at + 1).trim();
  }
  return undefined;
}


export async function GET(_request: Request, context: Context): Promise<Response> {
  const action = await actionOf(context);
  if (action === 'signin' || action === 'error') return seeOther('/login');
  if (action === 'signout') return seeOther('/signout');
  return notFound();
}

export async function POST(request: Request, context: Context): Promise<Response> {
  if ((await actionOf(context)) !== 'signout') return notFound();
  if (!isSameOriginPost(request)) return new Response('Cross-origin form posts are not accepted.', { status: 403 });
  try {
    const token = await decodeSessionCookie(cookieValue(request, sessionCookieName()));
    if (token) {
      const db = await getDb();
      const session = await validateSession(db, token, systemClock);
      if (session) await signOutSession(db.kysely, session, { ip: clientIpFromHeaders(request.headers) }, systemClock);
    }
  } catch (err) {
    log.error({ err }, 'sign-out failed; failing closed');
    return unavailableResponse('signed_in');
  }
  return seeOther('/login', sessionSetCookie(null));
}
