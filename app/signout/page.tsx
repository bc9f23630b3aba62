import type { Metadata } from 'next';
import { getAccessContext } from '../../lib/gate';
import { SignOutButton } from '../_components/sign-out';

export const metadata: Metadata = { title: 'Sign out' };

export const dynamic = 'force-dynamic';

/**
 * Where next-auth's well-known `GET /api/auth/signout` lands (apps link there): a page of
 * ours that asks, since a GET must never sign anyone out (a link or an image could). R-D9:
 * it reads the session itself and grants nothing.
 */
export default async function SignOutPage() {
  const { session } = await getAccessContext();
  return (
    <main id="main">
      <h1>Sign out</h1>
      {session ? (
        <>
          <p>
            You are signed in as <strong>{session.username}</strong>. Signing out ends this session on this device.
          </p>
          <div className="way-out">
            <SignOutButton secondary={false} />
            <a href="/portal">Cancel</a>
          </div>
        </>
      ) : (
        <>
          <p>You are signed out.</p>
          <p className="way-out">
            <a href="/login">Sign in</a>
          </p>
        </>
      )}
    </main>
  );
}
