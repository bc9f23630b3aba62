'use server';

import { cookies, headers } from 'next/headers';
import { getDb } from '../../../../db';
import { systemClock } from '../../../../lib/clock';
import { accountLinkCookie, accountLinkDone, accountLinkDoneMaxAgeSeconds } from '../../../../lib/auth/account-link-cookie';
import { clientIpFromHeaders } from '../../../../lib/auth/client-ip';
import { encodeSessionCookie, sessionCookieName, sessionCookieOptions } from '../../../../lib/auth/cookie';
import { setPasswordByLink } from '../../../../lib/auth/set-password-by-link';
import { doneState, linkPageMessages, type SetPasswordFormState } from './messages';

function field(formData: FormData, name: string): unknown {
  const values = formData.getAll(name);
  return values.length === 1 ? values[0] : undefined;
}

/**
 * R-D9: the page is public (the link is the credential), so this action's checks are the
 * link itself, used in the transaction that stores the password. Same origin: Next.js refuses
 * a server action whose Origin is not the host. Bounded: the fields are capped by the
 * service's schema, the token read only from the HttpOnly cookie (never from the form).
 */
export async function setPasswordAction(_previous: SetPasswordFormState, formData: FormData): Promise<SetPasswordFormState> {
  const [jar, h] = await Promise.all([cookies(), headers()]);
  const linkCookie = accountLinkCookie();
  const token = jar.get(linkCookie.name)?.value ?? '';
  const db = await getDb();
  const result = await setPasswordByLink(
    db.kysely,
    { token, password: field(formData, 'password'), confirm: field(formData, 'confirm') },
    { ip: clientIpFromHeaders(h), userAgent: h.get('user-agent') },
    systemClock,
  );
  if (!result.ok) {
    if (result.reason === 'link') return { error: linkPageMessages[result.link].title, link: result.link };
    return { error: result.message };
  }
  // The token is spent: the cookie now only says "done" (account-link-cookie.ts).
  const { name, path, httpOnly, sameSite, secure } = linkCookie;
  jar.set(name, accountLinkDone[result.purpose], { path, httpOnly, sameSite, secure, maxAge: accountLinkDoneMaxAgeSeconds });
  if (result.purpose === 'password_reset') return doneState.password_reset;
  // Signed in exactly as the sign-in post does (app/login/submit): the same cookie, then
  // /portal, where the gate sends them to Set Up when their requirement or a policy asks.
  jar.set(sessionCookieName(), await encodeSessionCookie(result.sessionToken), sessionCookieOptions());
  return doneState.invitation;
}
