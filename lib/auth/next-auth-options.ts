import type { NextAuthOptions } from 'next-auth';
import CredentialsProvider from 'next-auth/providers/credentials';
import { getDb } from '../../db';
import { systemClock } from '../clock';
import { appSecret } from '../config/secret';
import { clientIpFromHeaders } from './client-ip';
import { sessionCookieName, sessionCookieOptions } from './cookie';
import { sessionAbsoluteTimeoutMs, validateSession } from './sessions';
import { signInWithPassword } from './sign-in';

type RawHeaders = Record<string, string | string[] | undefined> | undefined;

function headerReader(raw: RawHeaders) {
  return {
    get(name: string): string | null {
      const value = raw?.[name.toLowerCase()];
      return Array.isArray(value) ? (value[0] ?? null) : (value ?? null);
    },
  };
}

/**
 * next-auth's configuration. The Credentials provider verifies the password through the
 * same guard sequence as the sign-in page; the JWT it issues carries only the session
 * token, and every read validates the session row.
 */
export function authOptions(): NextAuthOptions {
  return {
    secret: appSecret(),
    session: { strategy: 'jwt', maxAge: Math.floor(sessionAbsoluteTimeoutMs / 1000) },
    cookies: {
      sessionToken: { name: sessionCookieName(), options: sessionCookieOptions() },
    },
    pages: { signIn: '/login', error: '/login' },
    providers: [
      CredentialsProvider({
        name: 'Password',
        credentials: {
          username: { label: 'Username', type: 'text' },
          password: { label: 'Password', type: 'password' },
        },
        async authorize(credentials, req) {
          const db = await getDb();
          const headers = headerReader(req?.headers as RawHeaders);
          const result = await signInWithPassword(
            db.kysely,
            { username: credentials?.username, password: credentials?.password },
            { ip: clientIpFromHeaders(headers), userAgent: headers.get('user-agent') },
            systemClock,
          );
          return result.ok ? { id: result.userId, sid: result.token } : null;
        },
      }),
    ],
    callbacks: {
      async jwt({ token, user }) {
        const sid = (user as { sid?: string } | undefined)?.sid ?? token.sid;
        return { sid };
      },
      async session({ session, token }) {
        const db = await getDb();
        const live = await validateSession(db.kysely, token.sid, systemClock);
        if (!live) return { expires: new Date(0).toISOString() };
        return {
          expires: session.expires,
          user: { name: live.displayName ?? live.username, email: live.email },
        };
      },
    },
  };
}
