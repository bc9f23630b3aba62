import type { Metadata } from 'next';
import { safeReturnPath } from '../../lib/auth/return-path';
import { signInMessages } from '../../lib/auth/sign-in';
import { passwordPool } from '../../lib/auth/password';

export const metadata: Metadata = { title: 'Sign in' };

export const dynamic = 'force-dynamic';

type SearchParams = Promise<Record<string, string | string[] | undefined>>;

const notices = {
  password_reset: 'Your password was changed. Sign in with your new password.',
} as const;

function noticeFor(notice: unknown): string | null {
  return typeof notice === 'string' && notice in notices ? notices[notice as keyof typeof notices] : null;
}

function messageFor(error: unknown): string | null {
  return typeof error === 'string' && error in signInMessages ? signInMessages[error as keyof typeof signInMessages] : null;
}

export default async function LoginPage({ searchParams }: { searchParams: SearchParams }) {
  // Starts the password threads (once per process) while the user types, not on their post.
  void passwordPool();
  const params = await searchParams;
  const returnTo = safeReturnPath(params.returnTo);
  const message = messageFor(params.error);
  const notice = noticeFor(params.notice);
  return (
    <main id="main">
      <h1>Sign in to Portcullis</h1>
      {notice && (
        <p className="notice" role="status">
          {notice}
        </p>
      )}
      {message && (
        <p className="error" role="alert">
          {message}
        </p>
      )}
      <form action="/login/submit" method="post">
        <input type="hidden" name="returnTo" value={returnTo} />
        <label htmlFor="username">Username</label>
        <input id="username" name="username" type="text" autoComplete="username" required maxLength={128} autoFocus />
        <label htmlFor="password">Password</label>
        <input id="password" name="password" type="password" autoComplete="current-password" required maxLength={1024} />
        <button type="submit">Sign in</button>
      </form>
      <p>
        <a href="/login/forgot">Forgot password?</a>
      </p>
    </main>
  );
}
