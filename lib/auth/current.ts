import { cache } from 'react';
import { cookies, headers } from 'next/headers';
import { getDb } from '../../db';
import { systemClock } from '../clock';
import { clientIpFromHeaders } from './client-ip';
import { decodeSessionCookie, sessionCookieName } from './cookie';
import { validateSession, type SessionContext } from './sessions';

/** The request's session, looked up once per request however many components ask. */
export const currentSession = cache(async (): Promise<SessionContext | null> => {
  const cookieValue = (await cookies()).get(sessionCookieName())?.value;
  const token = await decodeSessionCookie(cookieValue);
  if (!token) return null;
  const db = await getDb();
  return validateSession(db.kysely, token, systemClock);
});

export const currentSessionToken = cache(async (): Promise<string | null> => {
  return decodeSessionCookie((await cookies()).get(sessionCookieName())?.value);
});

export async function requestClient(): Promise<{ ip: string; userAgent: string | null }> {
  const h = await headers();
  return { ip: clientIpFromHeaders(h), userAgent: h.get('user-agent') };
}
