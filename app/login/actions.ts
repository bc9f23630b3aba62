'use server';

import { cookies } from 'next/headers';
import { redirect } from 'next/navigation';
import { getDb } from '../../db';
import { systemClock } from '../../lib/clock';
import { encodeSessionCookie, sessionCookieName, sessionCookieOptions } from '../../lib/auth/cookie';
import { requestClient } from '../../lib/auth/current';
import { safeReturnPath } from '../../lib/auth/return-path';
import { signInWithPassword } from '../../lib/auth/sign-in';

export async function signIn(formData: FormData): Promise<void> {
  const returnTo = safeReturnPath(formData.get('returnTo'));
  const db = await getDb();
  const result = await signInWithPassword(
    db.kysely,
    { username: formData.get('username'), password: formData.get('password') },
    await requestClient(),
    systemClock,
  );
  if (!result.ok) {
    redirect(`/login?error=${result.reason}&returnTo=${encodeURIComponent(returnTo)}`);
  }
  (await cookies()).set(sessionCookieName(), await encodeSessionCookie(result.token), sessionCookieOptions());
  redirect(returnTo);
}
