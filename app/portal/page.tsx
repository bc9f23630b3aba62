import { requirePageAccess } from '../../lib/gate';
import { signOut } from './actions';

export const dynamic = 'force-dynamic';

export default async function PortalPage() {
  // R-D9: the page checks again; the middleware is not the only wall.
  const { session } = await requirePageAccess('portal', '/portal');
  return (
    <main>
      <h1>User Portal</h1>
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
