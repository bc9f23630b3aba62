'use server';

import { cookies } from 'next/headers';
import { redirect } from 'next/navigation';
import { getDb } from '../../db';
import { systemClock } from '../../lib/clock';
import { sessionCookieName, sessionCookieOptions } from '../../lib/auth/cookie';
import { getAccessContext } from '../../lib/gate';
import { signOutSession } from '../../lib/auth/sign-out';

export async function signOut(): Promise<void> {
  const { session, client } = await getAccessContext();
  if (session) {
    const db = await getDb();
    await signOutSession(db.kysely, session, client, systemClock);
  }
  // Cleared with the attributes it was set with: a delete without its Domain would leave it.
  (await cookies()).set(sessionCookieName(), '', { ...sessionCookieOptions(), maxAge: 0 });
  redirect('/login');
}
