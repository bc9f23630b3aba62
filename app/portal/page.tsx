import { requirePageAccess } from '../../lib/gate';
import { systemClock } from '../../lib/clock';
import { skippedEnrollmentDeadline } from '../../lib/factors/overview';
import { EnrollmentDeadline } from '../_components/enrollment-deadline';
import { signOut } from './actions';
import type { Metadata } from 'next';

export const metadata: Metadata = { title: 'User Portal' };

export const dynamic = 'force-dynamic';

type SearchParams = Promise<Record<string, string | string[] | undefined>>;

/** Notices a flow brings back here (lib/factors/setup-flow.ts withNotice). */
const notices: Record<string, string> = {
  mfa_set_up: 'Done: multi-factor authentication is set up. Your next sign-in asks for your second factor.',
};

export default async function PortalPage({ searchParams }: { searchParams: SearchParams }) {
  // R-D9: the page checks again; the middleware is not the only wall.
  const { session, decision } = await requirePageAccess('portal', '/portal');
  const params = await searchParams;
  const notice = typeof params.notice === 'string' ? notices[params.notice] : undefined;
  const deadline = await skippedEnrollmentDeadline(session.userId, decision);
  return (
    <main id="main">
      <h1>User Portal</h1>
      {notice && (
        <p className="notice" role="status">
          {notice}
        </p>
      )}
      {deadline !== null && (
        <p className="notice" data-testid="enrollment-reminder">
          Your organization requires multi-factor authentication. Set it up by{' '}
          <EnrollmentDeadline deadline={deadline} now={systemClock.now()} />; after that you cannot sign in until you do.{' '}
          Set it up on your <a href="/portal/security">Security</a> page.
        </p>
      )}
      <p>
        Signed in as <strong data-testid="signed-in-user">{session.username}</strong>
        {session.displayName ? ` (${session.displayName})` : ''}.
      </p>
      <p>
        <a href="/portal/security">Security settings</a>: your authenticator apps and recovery codes.
      </p>
      {session.role === 'admin' && (
        <p>
          <a href="/admin">Admin console</a>
        </p>
      )}
      <form action={signOut}>
        <button type="submit">Sign out</button>
      </form>
    </main>
  );
}
