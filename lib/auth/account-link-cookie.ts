import { readEnv } from '../config/env';
import { oneMinute } from '../clock';
import { isHttpsOrigin } from './cookie';

/**
 * The link's token between opening the link and setting the password.
 *
 * NOTE: why a cookie: the link (`/account/password?token=…`) is answered with this cookie and
 * a redirect to a URL without the token (app/account/password/route.ts). The page the person
 * spends time on, and types into, then has no secret in its address: none in the browser's
 * history entry for it, in a screenshot or a shared screen, in a Referer (the link's own address
 * answers with Referrer-Policy: no-referrer), or in the page's HTML (the form posts no token;
 * the action reads this cookie). HttpOnly, SameSite=Lax, scoped to /account, and short-lived:
 * the link itself stays the authority, checked again when the password is set.
 */
/** Where the set-password page lives (the link's route only takes the token out of the address). */
export const setPasswordPagePath = '/account/password/set';

export const accountLinkCookieMaxAgeSeconds = (30 * oneMinute) / 1000;

export interface AccountLinkCookie {
  name: string;
  path: '/account';
  httpOnly: true;
  sameSite: 'lax';
  secure: boolean;
  maxAge: number;
}

export function accountLinkCookie(origin: string = readEnv().origin): AccountLinkCookie {
  const secure = isHttpsOrigin(origin);
  return {
    // `__Host-` needs Path=/; `__Secure-` still keeps an http page from setting it.
    name: secure ? '__Secure-portcullis.account-link' : 'portcullis.account-link',
    path: '/account',
    httpOnly: true,
    sameSite: 'lax',
    secure,
    maxAge: accountLinkCookieMaxAgeSeconds,
  };
}

/** A whole Set-Cookie value carrying `token`, or (null) the one that clears it. */
export function accountLinkSetCookie(token: string | null, cookie: AccountLinkCookie = accountLinkCookie()): string {
  return [
    `${cookie.name}=${token ?? ''}`,
    `Path=${cookie.path}`,
    `Max-Age=${token === null ? 0 : cookie.maxAge}`,
    'HttpOnly',
    'SameSite=Lax',
    ...(cookie.secure ? ['Secure'] : []),
  ].join('; ');
}

/**
 * What the cookie holds once the password is set, for a minute: the page then shows "done"
 * and moves on by a full page load, even when it is rendered again right after the action
 * (Next.js refreshes the page whose action changed cookies).
 */
export const accountLinkDone = { invitation: 'done.invitation', password_reset: 'done.password_reset' } as const;
export const accountLinkDoneMaxAgeSeconds = 60;

export function accountLinkDoneOf(value: string | undefined): keyof typeof accountLinkDone | null {
  if (value === accountLinkDone.invitation) return 'invitation';
  if (value === accountLinkDone.password_reset) return 'password_reset';
  return null;
}
