import type { Metadata } from 'next';
import { resetRequestAnswer } from '../../../lib/auth/password-reset-request';

export const metadata: Metadata = { title: 'Forgot password' };

export const dynamic = 'force-dynamic';

type SearchParams = Promise<Record<string, string | string[] | undefined>>;

/**
 * Signed-out page: ask for a link to set a new password. What it shows after a request
 * depends only on `?sent=1`, never on whether an account matched.
 */
export default async function ForgotPasswordPage({ searchParams }: { searchParams: SearchParams }) {
  const params = await searchParams;
  const sent = params.sent === '1';
  const invalid = params.error === 'invalid';
  return (
    <main id="main">
      <h1>Forgot your password?</h1>
      {sent ? (
        <p role="status">{resetRequestAnswer}</p>
      ) : (
        <>
          {invalid && (
            <p className="error" role="alert">
              Enter your username or email address.
            </p>
          )}
          <p>Enter your username or email address. If an account matches, we send a link to set a new password to its email address.</p>
          <form action="/login/forgot/submit" method="post">
            <label htmlFor="identifier">Username or email address</label>
            <input id="identifier" name="identifier" type="text" autoComplete="username" required maxLength={254} autoFocus />
            <button type="submit">Send link</button>
          </form>
        </>
      )}
      <p>
        <a href="/login">Back to sign in</a>
      </p>
    </main>
  );
}
