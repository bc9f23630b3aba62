import { accountLinkSetCookie, setPasswordPagePath } from '../../../lib/auth/account-link-cookie';
import { isWellFormedAccountToken } from '../../../lib/auth/account-tokens';

export const dynamic = 'force-dynamic';

/**
 * The link in an invitation or reset mail opens here. The token moves into a short-lived
 * HttpOnly cookie and the browser is sent on to the page without it in the address (why:
 * lib/auth/account-link-cookie.ts). Nothing is looked up or used here: the page says what
 * state the link is in, and the form's action uses it. A malformed token is not kept: the
 * page then says the link is not valid. The token is never logged.
 */
export async function GET(request: Request): Promise<Response> {
  const token = new URL(request.url).searchParams.get('token');
  const headers = new Headers({ location: setPasswordPagePath, 'cache-control': 'no-store', 'referrer-policy': 'no-referrer' });
  headers.append('set-cookie', accountLinkSetCookie(isWellFormedAccountToken(token) ? token : null));
  return new Response(null, { status: 303, headers });
}
